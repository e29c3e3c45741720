"""Subscriptions to ``webhook.test`` are dropped: nothing ever sent it, and it is no longer a type.

(``subject.disputed`` subscriptions stay: the consent app registers and sends it.)
"""

from django.db import migrations

NEVER_SENT = {"webhook.test", "release.cleared"}


def forget(apps, schema_editor):
    WebhookEndpoint = apps.get_model("events", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.all().iterator():
        events = list(endpoint.events or [])
        kept = [name for name in events if name not in NEVER_SENT]
        if kept != events:
            endpoint.events = kept
            endpoint.save(update_fields=["events"])


class Migration(migrations.Migration):
    dependencies = [("events", "0002_acknowledgement")]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
