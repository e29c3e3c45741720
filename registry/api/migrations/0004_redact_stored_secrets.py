"""Stored first answers that hold a secret (an API key, a webhook's signing secret) lose it.

Before this, the idempotency store kept such answers whole for 24 hours and replayed them; from
now on registry.api.idempotency stores them redacted. This clears the ones already stored, by
the same rule (the field nulled, ``"secret_redacted": true``).
"""

import json
import re

from django.db import migrations

_SECRET_SHAPE = re.compile(r"^(?:restu_[0-9a-f]{8}_|whsec_)")


def redact(apps, schema_editor):
    IdempotencyRecord = apps.get_model("api", "IdempotencyRecord")
    for record in IdempotencyRecord.objects.exclude(response_body=None).iterator():
        try:
            document = json.loads(bytes(record.response_body))
        except (ValueError, RecursionError):
            continue
        if not isinstance(document, dict):
            continue
        changed = False
        for name in ("key", "secret"):
            value = document.get(name)
            if isinstance(value, str) and _SECRET_SHAPE.match(value):
                document[name] = None
                changed = True
        if changed:
            document["secret_redacted"] = True
            record.response_body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            record.save(update_fields=["response_body"])


class Migration(migrations.Migration):
    dependencies = [("api", "0003_throttle_counter")]

    operations = [migrations.RunPython(redact, migrations.RunPython.noop)]
