"""docs/design.md invariant 2 in the database itself: a signed consent never changes.

The services and the admin already refuse to edit a signed consent; this trigger also stops what
bypasses them (a plain ``save()``, ``QuerySet.update()``, a SQL console). Once a consent is no
longer a draft, an UPDATE that changes its terms (every term column, the canonical ``terms`` and
their ``digest``), the evidence of its signing, or that turns it back into a draft, fails with an
IntegrityError ("a signed consent's terms never change; record a new consent").

Left writable on purpose, because the services write them after signing: ``status`` and
``updated``; ``revoked_at``, ``revocation_effective_at``, ``revoked_by``,
``revocation_signature`` (revoking); ``expired_at`` (expiry); ``revocation_reason`` (revoking,
and person erasure blanks it: it is personal data, never part of the signed terms or the log).
Signing writes the signature columns while the row is still a draft, which the trigger allows.

A later migration that alters this table must keep the trigger: SQLite drops it with the table
when Django rebuilds one, PostgreSQL with a column it references (DROP COLUMN … CASCADE).
tests/registry/test_invariants.py fails if the guard is gone.
"""

from django.db import migrations

from registry.frozen_rows import frozen_trigger_create, frozen_trigger_drop

NAME = "restu_consent_frozen"
MESSAGE = "a signed consent's terms never change; record a new consent"
# The terms as columns and in canonical form, their digest, who and what they are about, and
# the evidence of the signing (model field names).
FROZEN = (
    "public_id",
    "subject",
    "created_by",
    "effect",
    "grantee",
    "grantee_org",
    "production",
    "media",
    "activities",
    "purposes",
    "territories",
    "media_mask",
    "activity_mask",
    "purpose_mask",
    "territory_codes",
    "valid_from",
    "valid_until",
    "intended_use",
    "conditions",
    "revocation_policy",
    "revocation_notice_days",
    "representation",
    "court_approval_ref",
    "guideline_ref",
    "guideline_digest",
    "terms",
    "digest",
    "signed_at",
    "signed_by",
    "method",
    "signature",
    "signer_kid",
    "second_factor",
    "notice_summary",
    "notice_language",
    "notice_digest",
)


def create_trigger(apps, schema_editor):
    model = apps.get_model("consent", "Consent")
    frozen_trigger_create(schema_editor, model, name=NAME, message=MESSAGE, frozen=FROZEN)


def drop_trigger(apps, schema_editor):
    frozen_trigger_drop(schema_editor, apps.get_model("consent", "Consent"), name=NAME)


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_release_releasereliance_release_release_org_created_and_more")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
