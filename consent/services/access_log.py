"""The access log: recording who checked a subject, and the subject reading it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from consent.models import AccessLogEntry, Consent, Subject
from registry.accounts.models import ApiKey, Organization, User

from .representatives import _require_representative, require_power


def access_log_record(
    *,
    subject: Subject,
    query: dict[str, Any],
    decision: str,
    kind: str = AccessLogEntry.Kind.VERIFICATION,
    caller_org: Organization | None = None,
    caller_user: User | None = None,
    caller_key: ApiKey | None = None,
    consent: Consent | None = None,
    receipt_id: str = "",
) -> AccessLogEntry:
    """Note that someone checked the subject (for the verification, token and release services)."""
    return AccessLogEntry.objects.create(
        subject=subject,
        kind=kind,
        caller_org=caller_org,
        caller_user=caller_user if caller_user and caller_user.is_authenticated else None,
        caller_key=caller_key,
        query=query,
        decision=decision,
        consent=consent,
        receipt_id=receipt_id,
    )


def access_log_read(*, subject: Subject, actor: User) -> QuerySet[AccessLogEntry]:
    """Who checked the subject (``read_access_log``): the entries, newest last."""
    rep = _require_representative(actor, subject)
    require_power(rep, "read_access_log")
    return AccessLogEntry.objects.filter(subject=subject).select_related(
        "caller_org", "consent", "caller_key", "caller_user"
    )


# --- Growth: monthly partitions (PostgreSQL) and retention ------------------------------------
#
# One row per check: 10^8 rows a year at three checks a second. On PostgreSQL the table is
# partitioned by month of ``created`` (migration 0008) with a DEFAULT partition, so an insert never
# fails for want of a partition; the months ahead are created by the beat task below and any row that
# still landed in DEFAULT moves to its month when that month is created. SQLite keeps one table.

PARTITION_MONTHS_AHEAD = 3
# A dispute reaches every organization that relied on the subject in the last RELIANCE_DAYS (365):
# retention shorter than that would silently narrow who hears of a dispute.
RETENTION_MONTHS_MINIMUM = 13


@dataclass(frozen=True)
class Partition:
    """One month of the access log on PostgreSQL (``start`` inclusive, ``end`` exclusive, UTC)."""

    name: str
    start: datetime
    end: datetime


def _table() -> str:
    return str(AccessLogEntry._meta.db_table)


def _month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def access_log_is_partitioned() -> bool:
    """Whether the access log is a partitioned table here (PostgreSQL after migration 0008)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [_table()])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def access_log_partitions() -> list[Partition]:
    """The monthly partitions, oldest first (not DEFAULT); empty where the table is not partitioned."""
    if not access_log_is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [_table()],
        )
        rows = cursor.fetchall()
    partitions = []
    for name, bound in rows:
        if bound == "DEFAULT":
            continue
        # FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')
        start, end = (datetime.fromisoformat(text).astimezone(UTC) for text in bound.split("'")[1::2])
        partitions.append(Partition(name, start, end))
    return sorted(partitions, key=lambda p: p.start)


def access_log_partitions_ensure(
    *, now: datetime | None = None, months_ahead: int = PARTITION_MONTHS_AHEAD
) -> list[str]:
    """Create this month's partition and the next ``months_ahead`` where missing, and every month that
    has rows waiting in DEFAULT (moved there in the same transaction). Returns the names created.

    Idempotent; a no-op where the table is not partitioned. Takes a short exclusive lock on the log
    per month created (PostgreSQL checks DEFAULT holds no row of the new month), so it runs from
    the beat task, ahead of time, not from a request.
    """
    if not access_log_is_partitioned():
        return []
    table = _table()
    default = f"{table}_default"
    first = _month_start(now or timezone.now())
    wanted = {_add_months(first, n) for n in range(months_ahead + 1)}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT date_trunc('month', created AT TIME ZONE 'UTC') FROM {default}")  # noqa: S608
        wanted |= {month.replace(tzinfo=UTC) for (month,) in cursor.fetchall()}
    existing = {p.start for p in access_log_partitions()}
    created = []
    for month in sorted(wanted - existing):
        name = f"{table}_p{month:%Y_%m}"
        start, end = month.isoformat(), _add_months(month, 1).isoformat()
        with transaction.atomic(), connection.cursor() as cursor:
            # A row of that month in DEFAULT would make the partition's creation fail: build the month
            # as a plain table, move those rows into it, then attach it (PostgreSQL adds the indexes
            # and foreign keys of the parent on attach).
            cursor.execute(f"LOCK TABLE {default} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {default} WHERE created >= %s AND created < %s RETURNING *) "  # noqa: S608
                f"INSERT INTO {name} SELECT * FROM moved",
                [start, end],
            )
            cursor.execute(
                f"ALTER TABLE {name} ADD CONSTRAINT {name}_in_month CHECK (created >= '{start}' AND created < '{end}')"
            )
            cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")
            cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_in_month")  # only to skip the attach scan
        created.append(name)
    return created


def access_log_retention_months() -> int:
    """``REGISTRY_ACCESS_LOG_RETENTION_MONTHS``: 0 (the default) keeps every check for as long as the
    registry runs; otherwise at least RETENTION_MONTHS_MINIMUM."""
    months = int(getattr(settings, "REGISTRY_ACCESS_LOG_RETENTION_MONTHS", 0))
    if months < 0 or 0 < months < RETENTION_MONTHS_MINIMUM:
        raise ImproperlyConfigured(
            f"REGISTRY_ACCESS_LOG_RETENTION_MONTHS must be 0 (keep every check) or at least "
            f"{RETENTION_MONTHS_MINIMUM}; got {months}."
        )
    return months


@dataclass(frozen=True)
class Retention:
    """What one retention pass removed: the cut-off, the partitions dropped, the rows deleted."""

    cutoff: datetime | None
    dropped: list[str]
    deleted: int


def access_log_retention_apply(*, now: datetime | None = None, months: int | None = None) -> Retention:
    """Forget checks older than the retention: every row before the first day of the month ``months``
    months ago (so a check is kept at least ``months`` full months, at most one more).

    PostgreSQL drops whole monthly partitions (no row-by-row delete, no bloat) and deletes the stray
    old rows in DEFAULT; SQLite deletes the rows. ``months`` 0 keeps everything.
    """
    months = access_log_retention_months() if months is None else months
    if months <= 0:
        return Retention(None, [], 0)
    cutoff = _add_months(_month_start(now or timezone.now()), -months)
    if not access_log_is_partitioned():
        deleted, _ = AccessLogEntry.objects.filter(created__lt=cutoff).delete()
        return Retention(cutoff, [], deleted)
    dropped = []
    with connection.cursor() as cursor:
        # A month cannot be dropped while a deferred foreign-key check on it is pending (rows written
        # earlier in the same transaction): run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for partition in access_log_partitions():
        if partition.end <= cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {partition.name}")
            dropped.append(partition.name)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table()}_default WHERE created < %s", [cutoff])  # noqa: S608
        deleted = cursor.rowcount
    return Retention(cutoff, dropped, deleted)
