"""Translations that need an update after the original text changed (editorial state of a draft).

SQLite adds a NOT NULL column by rebuilding the table, which drops the frozen-row trigger of
0002 with it; so the trigger is made again afterwards (and, going back, after the column is
removed). On PostgreSQL the trigger survives; dropping and making it again is harmless.
"""

from django.db import migrations, models

from registry.frozen_rows import frozen_trigger_create, frozen_trigger_drop

NAME = "restu_guideline_version_frozen"
MESSAGE = "a published guideline version never changes; publish a new version"
# The same columns as in 0002 (the new one is editorial state, not published content).
FROZEN = (
    "public_id",
    "guideline",
    "version",
    "sort_key",
    "language",
    "body",
    "clauses",
    "translations",
    "supersedes",
    "digest",
)


def trigger_again(apps, schema_editor):
    model = apps.get_model("guidelines", "GuidelineVersion")
    frozen_trigger_drop(schema_editor, model, name=NAME)
    frozen_trigger_create(schema_editor, model, name=NAME, message=MESSAGE, frozen=FROZEN)


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0002_published_versions_never_change")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, trigger_again),
        migrations.AddField(
            model_name="guidelineversion",
            name="translations_outdated",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(trigger_again, migrations.RunPython.noop),
    ]
