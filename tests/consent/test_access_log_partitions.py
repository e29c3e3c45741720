"""The access log grows by a row per check: monthly partitions on PostgreSQL, retention everywhere.

On PostgreSQL the table is partitioned by month (migration 0008), a check lands in its month's
partition, a row written before its month was prepared waits in DEFAULT and moves when the month is
created, and retention drops whole months. On SQLite one table, and retention deletes rows. In both,
"who checked me" shows the same checks, newest first, whatever month they are in.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from consent import services
from consent.models import AccessLogEntry
from consent.services.access_log import (
    access_log_is_partitioned,
    access_log_partitions,
    access_log_partitions_ensure,
    access_log_retention_apply,
)
from consent.tasks import access_log_maintain

from .test_verification_api import query

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")
QUERY = {"medium": "face", "purpose": "film_tv", "territory": "ID", "date": "2027-01-01"}


def _at(moment: datetime, subject, org) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        subject=subject, query=QUERY, decision="permitted", caller_org=org, created=moment
    )


def _partition_of(entry: AccessLogEntry) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {AccessLogEntry._meta.db_table} WHERE id = %s",  # noqa: S608
            [entry.pk],
        )
        return cursor.fetchone()[0]


@postgres_only
def test_on_postgresql_the_log_is_partitioned_by_month_with_months_ahead_and_a_default():
    assert access_log_is_partitioned()
    months = [p.start for p in access_log_partitions()]
    now = datetime.now(UTC)
    this_month = datetime(now.year, now.month, 1, tzinfo=UTC)
    assert this_month in months
    assert all((b - a) < timedelta(days=32) for a, b in itertools.pairwise(months))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{AccessLogEntry._meta.db_table}_default"])
        assert cursor.fetchone()[0] is True
        # The database's key carries the partition key; Django still addresses rows by id alone.
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
            [AccessLogEntry._meta.db_table],
        )
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, created)"


@postgres_only
def test_a_real_check_lands_in_this_months_partition(signed, studio):
    subject, _, _ = signed()
    _, client = studio
    assert client.post("/api/v1/verifications", query(subject)).status_code == 200
    entry = AccessLogEntry.objects.get(subject=subject)
    assert _partition_of(entry) == f"{AccessLogEntry._meta.db_table}_p{entry.created.astimezone(UTC):%Y_%m}"
    # Read back through the ORM by primary key (Django's id), as the admin does.
    assert AccessLogEntry.objects.get(pk=entry.pk).decision == "permitted"


@postgres_only
def test_a_check_before_its_month_exists_waits_in_default_and_moves_when_the_month_is_created(
    make_subject, make_org, user
):
    subject, _ = make_subject()
    org = make_org(user)
    far = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)
    entry = _at(far, subject, org)
    assert _partition_of(entry) == f"{AccessLogEntry._meta.db_table}_default"

    created = access_log_partitions_ensure(now=datetime(2031, 5, 1, tzinfo=UTC), months_ahead=1)
    table = AccessLogEntry._meta.db_table
    assert created == [f"{table}_p2031_05", f"{table}_p2031_06"]
    assert _partition_of(entry) == f"{table}_p2031_05"
    moved = AccessLogEntry.objects.get(pk=entry.pk)
    assert (moved.created, moved.subject_id, moved.caller_org_id) == (far, subject.pk, org.pk)
    assert access_log_partitions_ensure(now=datetime(2031, 5, 1, tzinfo=UTC), months_ahead=1) == []  # idempotent


@postgres_only
def test_rows_land_in_the_partition_of_their_month(make_subject, make_org, user):
    subject, _ = make_subject()
    org = make_org(user)
    access_log_partitions_ensure(now=datetime(2030, 1, 1, tzinfo=UTC), months_ahead=2)
    table = AccessLogEntry._meta.db_table
    # The edges: the first microsecond of a month is that month, the last of the month before is not.
    cases = {
        datetime(2030, 1, 31, 23, 59, 59, 999999, tzinfo=UTC): f"{table}_p2030_01",
        datetime(2030, 2, 1, tzinfo=UTC): f"{table}_p2030_02",
        datetime(2030, 3, 15, 12, tzinfo=UTC): f"{table}_p2030_03",
    }
    for moment, partition in cases.items():
        assert _partition_of(_at(moment, subject, org)) == partition


def test_who_checked_me_lists_checks_of_every_month_newest_first(granted_subject, client_for):
    subject, person, org = granted_subject
    moments = [datetime(2030, m, 10, tzinfo=UTC) for m in (1, 4, 2, 3)]
    if access_log_is_partitioned():
        access_log_partitions_ensure(now=datetime(2030, 1, 1, tzinfo=UTC), months_ahead=3)
    for moment in moments:
        _at(moment, subject, org)
    entries = list(services.access_log_read(subject=subject, actor=person).order_by("-created"))
    assert [e.created for e in entries] == sorted(moments, reverse=True)
    assert client_for(person).get(f"/api/v1/subjects/{subject.public_id}/access-log").status_code == 200


@pytest.fixture
def granted_subject(make_subject, make_org, make_user):
    subject, person = make_subject()
    return subject, person, make_org(make_user())


def test_retention_forgets_the_months_before_the_cutoff_and_keeps_the_rest(granted_subject):
    subject, _, org = granted_subject
    now = datetime(2032, 3, 14, tzinfo=UTC)
    if access_log_is_partitioned():
        access_log_partitions_ensure(now=datetime(2030, 12, 1, tzinfo=UTC), months_ahead=16)
    kept_from = datetime(2031, 2, 1, tzinfo=UTC)  # 13 months before March 2032
    old = [
        _at(datetime(2030, 12, 31, 23, 59, tzinfo=UTC), subject, org),
        _at(datetime(2031, 1, 20, tzinfo=UTC), subject, org),
    ]
    young = [_at(kept_from, subject, org), _at(datetime(2032, 3, 1, tzinfo=UTC), subject, org)]

    before = access_log_partitions()

    result = access_log_retention_apply(now=now, months=13)

    assert result.cutoff == kept_from
    remaining = set(AccessLogEntry.objects.filter(subject=subject).values_list("pk", flat=True))
    assert remaining == {e.pk for e in young}
    assert not AccessLogEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    if access_log_is_partitioned():
        table = AccessLogEntry._meta.db_table
        assert {f"{table}_p2030_12", f"{table}_p2031_01"} <= set(result.dropped)
        # Exactly the months wholly before the cutoff; every younger month is still there.
        assert set(result.dropped) == {p.name for p in before if p.end <= kept_from}
        assert [p.name for p in access_log_partitions()] == [p.name for p in before if p.end > kept_from]
        assert min(p.start for p in access_log_partitions()) == kept_from
        assert result.deleted == 0  # whole months, no row-by-row delete
    else:
        assert (result.dropped, result.deleted) == ([], 2)


def test_retention_also_forgets_old_rows_waiting_in_default(granted_subject):
    subject, _, org = granted_subject
    stray = _at(datetime(2020, 6, 1, tzinfo=UTC), subject, org)  # no partition for 2020: DEFAULT on PostgreSQL
    recent = _at(datetime.now(UTC), subject, org)
    result = access_log_retention_apply(months=13)
    assert result.deleted == 1
    assert list(AccessLogEntry.objects.filter(subject=subject).values_list("pk", flat=True)) == [recent.pk]
    assert not AccessLogEntry.objects.filter(pk=stray.pk).exists()


def test_by_default_every_check_is_kept(granted_subject, settings):
    subject, _, org = granted_subject
    _at(datetime(2001, 1, 1, tzinfo=UTC), subject, org)
    assert (
        not hasattr(settings, "REGISTRY_ACCESS_LOG_RETENTION_MONTHS")
        or settings.REGISTRY_ACCESS_LOG_RETENTION_MONTHS == 0
    )
    before = list(access_log_partitions())
    result = access_log_maintain()
    assert (result["dropped"], result["deleted"]) == ([], 0)
    assert AccessLogEntry.objects.filter(subject=subject).count() == 1
    assert {p.name for p in before} <= {p.name for p in access_log_partitions()}


def test_the_maintenance_task_applies_the_configured_retention(granted_subject, settings):
    subject, _, org = granted_subject
    settings.REGISTRY_ACCESS_LOG_RETENTION_MONTHS = 24
    gone = _at(datetime.now(UTC) - timedelta(days=3 * 366), subject, org)
    kept = _at(datetime.now(UTC) - timedelta(days=300), subject, org)
    access_log_maintain()
    assert list(AccessLogEntry.objects.filter(subject=subject).values_list("pk", flat=True)) == [kept.pk]
    assert not AccessLogEntry.objects.filter(pk=gone.pk).exists()


@pytest.mark.parametrize("months", [-1, 1, 12])
def test_a_retention_shorter_than_a_disputes_reach_is_refused(settings, months):
    settings.REGISTRY_ACCESS_LOG_RETENTION_MONTHS = months
    with pytest.raises(ImproperlyConfigured, match="REGISTRY_ACCESS_LOG_RETENTION_MONTHS"):
        access_log_maintain()


@postgres_only
def test_the_migration_keeps_every_row_and_id_both_ways(granted_subject):
    from django.db.migrations.executor import MigrationExecutor

    subject, _, org = granted_subject
    table = AccessLogEntry._meta.db_table
    rows = [_at(datetime(2019, m, 28, 23, 59, tzinfo=UTC), subject, org) for m in (1, 2, 12)]
    rows.append(_at(datetime.now(UTC), subject, org))
    expected = {e.pk: e.created for e in rows}

    def migrate(target: str) -> None:
        executor = MigrationExecutor(connection)
        executor.migrate([("consent", target)])

    migrate("0007_access_log_checks_naming_nobody")
    assert not access_log_is_partitioned()
    assert dict(AccessLogEntry.objects.values_list("pk", "created")) == expected

    migrate("0008_access_log_partitioned_by_month")
    assert access_log_is_partitioned()
    assert dict(AccessLogEntry.objects.values_list("pk", "created")) == expected
    # Old rows got their months made by the migration; ids continue after the last one.
    assert _partition_of(rows[0]) == f"{table}_p2019_01"
    assert _partition_of(rows[2]) == f"{table}_p2019_12"
    after = _at(datetime.now(UTC), subject, org)
    assert after.pk > max(expected)
