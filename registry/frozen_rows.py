"""Database triggers that keep a row's frozen columns from changing once it leaves the draft status.

Used by the migrations that enforce docs/design.md invariant 2 in the database itself (signed consents,
published guideline versions), on PostgreSQL and SQLite. Migrations call these functions with
the historical model, so what a migration created stays reproducible: change them only in a
backwards-compatible way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PG_FUNCTION = r"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    changed text;
BEGIN
    -- Name the frozen columns (passed as the trigger's arguments) this UPDATE would change.
    SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed
        FROM jsonb_each(to_jsonb(NEW)) AS n
        WHERE n.key = ANY (TG_ARGV) AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
    RAISE EXCEPTION USING
        ERRCODE = 'restrict_violation',
        MESSAGE = {message},
        DETAIL = format('%s %s: %s', TG_TABLE_NAME, OLD.public_id, coalesce(changed, 'status back to draft'));
END
$fn$
"""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _condition(schema_editor: Any, model: Any, frozen: Sequence[str], distinct: str) -> str:
    """Not a draft before, and either back to draft or any frozen column different (NULL-safe)."""
    q = schema_editor.quote_name
    status = q(model._meta.get_field("status").column)
    columns = [model._meta.get_field(name).column for name in frozen]
    changed = " OR ".join(f"OLD.{q(c)} {distinct} NEW.{q(c)}" for c in columns)
    return f"OLD.{status} <> 'draft' AND (NEW.{status} = 'draft' OR {changed})"


def frozen_trigger_create(schema_editor: Any, model: Any, *, name: str, message: str, frozen: Sequence[str]) -> None:
    """A BEFORE UPDATE trigger on ``model``'s table refusing changes to ``frozen`` fields after the draft."""
    table = schema_editor.quote_name(model._meta.db_table)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        columns = ", ".join(_sql_string(model._meta.get_field(field).column) for field in frozen)
        # None: no parameters, so the '%' in format() stays as it is.
        schema_editor.execute(PG_FUNCTION.format(name=name, message=_sql_string(message)), None)
        schema_editor.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_condition(schema_editor, model, frozen, 'IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {name}({columns})",
            None,
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN {_condition(schema_editor, model, frozen, 'IS NOT')} "
            f"BEGIN SELECT RAISE(ABORT, {_sql_string(message)}); END",
            None,
        )
    else:
        raise NotImplementedError(f"no trigger {name} for the {vendor} database")


def frozen_trigger_drop(schema_editor: Any, model: Any, *, name: str) -> None:
    table = schema_editor.quote_name(model._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", None)
