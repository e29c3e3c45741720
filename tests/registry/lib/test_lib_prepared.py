"""Prepared statements for the hot path's fixed queries (registry/lib/prepared.py)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from registry.lib.prepared import Statement

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only: SQLite runs the plain text (tested below)"
)


def run(statement: Statement, *params: object) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        statement.execute(cursor, list(params))
        return list(cursor.fetchall())


def sent() -> CaptureQueriesContext:
    return CaptureQueriesContext(connection)


def test_the_answer_is_the_plain_statements() -> None:
    statement = Statement("test_sum", "SELECT CAST(%s AS integer) + CAST(%s AS integer), CAST(%s AS text)")
    assert run(statement, 2, 3, "a") == [(5, "a")]
    assert run(statement, 40, 2, None) == [(42, None)]


@postgres_only
def test_prepared_once_per_connection_then_executed() -> None:
    statement = Statement("test_once", "SELECT %s::int * 2")
    with sent() as first:
        assert run(statement, 21) == [(42,)]
    with sent() as second:
        assert run(statement, 5) == [(10,)]
    assert [q["sql"].split()[0] for q in first.captured_queries] == ["PREPARE", "EXECUTE"]
    assert [q["sql"].split()[0] for q in second.captured_queries] == ["EXECUTE"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE name = %s", [statement.name]
        )
        assert cursor.fetchone() is not None


@postgres_only
@pytest.mark.django_db(transaction=True)  # closes the connection, which a test's transaction cannot survive
def test_a_new_connection_prepares_again() -> None:
    statement = Statement("test_reconnect", "SELECT %s::int + 1")
    assert run(statement, 1) == [(2,)]
    # What Django does after an error or CONN_MAX_AGE: a new session, with no prepared statement.
    connection.close()
    with sent() as again:
        assert run(statement, 2) == [(3,)]
    assert [q["sql"].split()[0] for q in again.captured_queries] == ["PREPARE", "EXECUTE"]


@postgres_only
def test_a_rolled_back_transaction_keeps_the_statement() -> None:
    statement = Statement("test_rollback", "SELECT %s::int - 1")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        assert run(statement, 1) == [(0,)]
        raise Undo
    with sent() as after:
        assert run(statement, 5) == [(4,)]
    assert [q["sql"].split()[0] for q in after.captured_queries] == ["EXECUTE"]


@postgres_only
def test_the_hot_path_statements_are_planned_once(settings) -> None:
    # plan_cache_mode=force_generic_plan (settings): PostgreSQL re-planned a custom plan per call.
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)


def test_off_runs_the_plain_text(settings) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    statement = Statement("test_off", "SELECT CAST(%s AS text)")
    with sent() as captured:
        assert run(statement, "x") == [("x",)]
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT CAST('x' AS text)"]


@pytest.mark.parametrize("bad", ["SELECT '%%'", "SELECT $1", "SELECT %s -- $"])
def test_text_that_would_change_meaning_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="placeholders"):
        Statement("bad", bad)


@pytest.mark.parametrize("name", ["", "Upper", "drop table x", "a" * 60])
def test_names_are_plain_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        Statement(name, "SELECT 1")
