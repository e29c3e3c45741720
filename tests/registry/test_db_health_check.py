"""The PostgreSQL backend's health check (registry/db/postgresql): no round trip while idle, and a
connection PostgreSQL closed is still found out before a request uses it."""

from __future__ import annotations

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the connection is closed and reopened
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only: SQLite has no health check here"),
]


def djangos_checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The answers of Django's own check (``SELECT 1``), each time ours falls back to it."""
    from django.db.backends.postgresql import base

    answers: list[bool] = []
    real = base.DatabaseWrapper.is_usable

    def counted(self: object) -> bool:
        answers.append(real(self))
        return answers[-1]

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", counted)
    return answers


def test_the_backend_is_ours() -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "registry.db.postgresql"


def test_an_idle_open_connection_is_usable_without_a_query(monkeypatch) -> None:
    connection.ensure_connection()
    checks = djangos_checks(monkeypatch)
    assert connection.is_usable() is True
    assert checks == []


def test_a_connection_the_server_closed_is_not_usable_and_the_next_query_reconnects(monkeypatch) -> None:
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    with psycopg2.connect(**connection.get_connection_params()) as other, other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits until it has exited
        assert cursor.fetchone() == (True,)
    checks = djangos_checks(monkeypatch)
    assert connection.is_usable() is False
    assert checks == [False]  # the socket said something: Django's check ran, and failed
    # What Django does before a request when the check fails: close, then connect on first use.
    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_inside_a_transaction_django_runs_its_own_check(monkeypatch) -> None:
    connection.ensure_connection()
    connection.connection.cursor().execute("BEGIN")
    try:
        checks = djangos_checks(monkeypatch)
        assert connection.is_usable() is True
        assert checks == [True]
    finally:
        connection.connection.rollback()


def test_a_closed_connection_is_not_usable() -> None:
    connection.ensure_connection()
    connection.connection.close()
    assert connection.is_usable() is False
    connection.close()
