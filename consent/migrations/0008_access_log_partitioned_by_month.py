"""The access log becomes a table partitioned by month on PostgreSQL (SQLite keeps one table).

One row per check is 10^8 rows a year at three checks a second: by month, "who checked me" reads a
few small indexes instead of one huge one, and retention drops a whole month (``DROP TABLE``) instead
of deleting millions of rows. The model does not change: Django still sees ``id`` as the primary key;
in the database the key is ``(id, created)`` because PostgreSQL requires the partition key in every
unique constraint, and ids stay unique because one identity sequence gives them all.

Existing rows are copied into the monthly partitions in the migration's transaction (a large log takes
as long as ``INSERT … SELECT`` of it; plan the upgrade window accordingly). Self-contained on purpose:
a migration must not change when the service module does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import migrations

TABLE = "consent_accesslogentry"
MONTHS_AHEAD = 3  # as consent.services.access_log.PARTITION_MONTHS_AHEAD at the time of writing


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def _captured(cursor: Any, table: str) -> tuple[list[str], list[tuple[str, str]], str]:
    """The table's secondary indexes (CREATE statements), foreign keys (name, definition) and id
    sequence, to rebuild them with the same names on the new table."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY i.indexrelid",
        [table],
    )
    # A partitioned table's index reads "ON ONLY": the plain table wants it without.
    indexes = [row[0].replace(" ON ONLY ", " ON ") for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    foreign_keys = [(row[0], row[1]) for row in cursor.fetchall()]
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return indexes, foreign_keys, cursor.fetchone()[0]


def _rebuild(schema_editor: Any, *, partitioned: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite (and anything else) keeps one table; retention deletes rows there
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)",
            [TABLE],
        )
        row = cursor.fetchone()
        if row is None or (row[0] == "p") == partitioned:
            return  # already in the wanted shape
        # A table cannot be dropped while deferred foreign-key checks on it are pending (rows written
        # earlier in the same transaction, as in a test): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        indexes, foreign_keys, sequence = _captured(cursor, TABLE)
        old = f"{TABLE}__old"
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        if partitioned:
            cursor.execute(
                f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY) PARTITION BY RANGE (created)"
            )
            cursor.execute("SELECT min(created), max(created) FROM " + old)  # noqa: S608 — our table name
            first, last = cursor.fetchone()
            now = datetime.now(UTC)
            month = _month_start(min(first, now) if first is not None else now)
            end = _month_start(max(last, now) if last is not None else now)
            for _ in range(MONTHS_AHEAD):
                end = _next_month(end)
            while month <= end:
                following = _next_month(month)
                cursor.execute(
                    f"CREATE TABLE {TABLE}_p{month:%Y_%m} PARTITION OF {TABLE} "
                    f"FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
                )
                month = following
            # Anything outside the prepared months (a clock far off, a month not yet created) still lands.
            cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        else:
            cursor.execute(f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")  # noqa: S608 — our table names
        cursor.execute(f"DROP TABLE {old}")  # with its partitions when going back
        key = "(id, created)" if partitioned else "(id)"
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY {key}")
        for statement in indexes:
            cursor.execute(statement)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        # The new identity got a sequence of its own: give it the old name and continue after the last id.
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        fresh = cursor.fetchone()[0]
        if fresh != sequence:
            cursor.execute(f"ALTER SEQUENCE {fresh} RENAME TO {sequence.split('.')[-1]}")
        cursor.execute(
            f"SELECT setval(%s, COALESCE((SELECT max(id) FROM {TABLE}), 0) + 1, false)",  # noqa: S608
            [sequence],
        )


def forwards(apps: Any, schema_editor: Any) -> None:
    _rebuild(schema_editor, partitioned=True)


def backwards(apps: Any, schema_editor: Any) -> None:
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0007_access_log_checks_naming_nobody"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
