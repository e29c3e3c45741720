"""The log's single sequencer row, which every append locks."""

from django.db import migrations


def create_state(apps, schema_editor):  # noqa: ARG001 — migration signature
    apps.get_model("transparency", "LogState").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("transparency", "0001_initial")]

    operations = [migrations.RunPython(create_state, migrations.RunPython.noop)]
