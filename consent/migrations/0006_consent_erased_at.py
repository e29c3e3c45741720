"""Erasure may blank a signed consent's personal free text, and nothing else.

The trigger of migration 0003 stays, with one change: the erasable columns (intended use,
conditions, court reference, the canonical terms that repeat them, the summary shown, and the
signature, whose payload a subject key's JWS carries) may change only in the UPDATE that sets
``erased_at``, or after it. ``erased_at`` is never cleared again. Every other frozen column —
the digest above all, which receipts and log leaves carry — still never changes.
"""

from django.db import migrations, models

from registry.frozen_rows import PG_FUNCTION, _sql_string, frozen_trigger_drop

NAME = "restu_consent_frozen"
MESSAGE = "a signed consent's terms never change; record a new consent"
OLD_FROZEN = (
    "public_id", "subject", "created_by", "effect", "grantee", "grantee_org", "production", "media",
    "activities", "purposes", "territories", "media_mask", "activity_mask", "purpose_mask",
    "territory_codes", "valid_from", "valid_until", "intended_use", "conditions",
    "revocation_policy", "revocation_notice_days", "representation", "court_approval_ref",
    "guideline_ref", "guideline_digest", "terms", "digest", "signed_at", "signed_by", "method",
    "signature", "signer_kid", "second_factor", "notice_summary", "notice_language", "notice_digest",
)  # fmt: skip
ERASABLE = ("intended_use", "conditions", "court_approval_ref", "terms", "notice_summary", "signature")
STRICT = tuple(f for f in OLD_FROZEN if f not in ERASABLE)


def _condition(schema_editor, model, distinct: str) -> str:
    q = schema_editor.quote_name

    def col(name: str) -> str:
        return q(model._meta.get_field(name).column)

    def changed(fields) -> str:
        return " OR ".join(f"OLD.{col(f)} {distinct} NEW.{col(f)}" for f in fields)

    status, erased = col("status"), col("erased_at")
    return (
        f"OLD.{status} <> 'draft' AND (NEW.{status} = 'draft' OR {changed(STRICT)}"
        f" OR (OLD.{erased} IS NOT NULL AND NEW.{erased} IS NULL)"
        f" OR (NEW.{erased} IS NULL AND ({changed(ERASABLE)})))"
    )


def _create(schema_editor, model, fields, condition: str) -> None:
    table = schema_editor.quote_name(model._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        columns = ", ".join(_sql_string(model._meta.get_field(f).column) for f in fields)
        schema_editor.execute(PG_FUNCTION.format(name=NAME, message=_sql_string(MESSAGE)), None)
        schema_editor.execute(
            f"CREATE TRIGGER {NAME} BEFORE UPDATE ON {table} FOR EACH ROW WHEN ({condition}) "
            f"EXECUTE FUNCTION {NAME}({columns})",
            None,
        )
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {NAME} BEFORE UPDATE ON {table} FOR EACH ROW WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, {_sql_string(MESSAGE)}); END",
            None,
        )
    else:
        raise NotImplementedError(f"no trigger {NAME} for the {schema_editor.connection.vendor} database")


def erasable_trigger(apps, schema_editor):
    model = apps.get_model("consent", "Consent")
    frozen_trigger_drop(schema_editor, model, name=NAME)
    distinct = "IS DISTINCT FROM" if schema_editor.connection.vendor == "postgresql" else "IS NOT"
    _create(schema_editor, model, (*OLD_FROZEN, "erased_at"), _condition(schema_editor, model, distinct))


def strict_trigger(apps, schema_editor):
    from registry.frozen_rows import frozen_trigger_create

    model = apps.get_model("consent", "Consent")
    frozen_trigger_drop(schema_editor, model, name=NAME)
    frozen_trigger_create(schema_editor, model, name=NAME, message=MESSAGE, frozen=OLD_FROZEN)


class Migration(migrations.Migration):
    dependencies = [("consent", "0005_representative_powers")]

    operations = [
        migrations.AddField(model_name="consent", name="erased_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(erasable_trigger, strict_trigger),
    ]
