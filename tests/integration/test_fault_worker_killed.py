"""A worker SIGKILLed in the middle of a task: the task runs again, and its effect happens once.

The task is the consent expiry sweep (Celery beat runs it hourly): for each consent past its
end it changes the status, writes a ``consent.expired`` outbox event and history row, and
appends a log leaf, in one transaction per consent. The test holds the log's sequencer row
locked, so the worker stops *inside* that transaction, after the status change and the event
are written but before the commit; then it kills the worker with SIGKILL. A new worker runs the
task again (the broker redelivers the unacknowledged message; beat sends it again anyway), and
every consent must end up expired exactly once: one status change, one event, one leaf.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from consent import services
from consent.models import Consent, ConsentEvent
from consent.tasks import expire_consents
from registry.accounts.models import User
from registry.accounts.presence import Presence
from registry.events.models import OutboxEvent
from registry.transparency.models import LogEntry, LogState

from .conftest import wait_for

pytestmark = pytest.mark.integration

DUE = 3


def _sessions_waiting_for_us() -> list[int]:
    """The other sessions (backend pids) waiting for a lock that this test's session holds."""
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps serving the first snapshot of pg_stat_activity.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            """
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND pg_backend_pid() = ANY(pg_blocking_pids(pid))
            """
        )
        return [row[0] for row in cursor.fetchall()]


def _session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return bool(cursor.fetchone()[0])


def _unacked_on_redis(task_id: str) -> list[bytes]:
    """Delivery tags of the broker's unacknowledged copies of this task (kombu's Redis layout)."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tags = []
    for tag, raw in client.hgetall("unacked").items():
        message = json.loads(raw)[0]
        if message.get("headers", {}).get("id") == task_id:
            tags.append(tag)
    return tags


def _age_unacked_on_redis(tags: list[bytes]) -> None:
    """Make the copies look older than the visibility timeout, so the next worker restores them at
    start-up as it would after that timeout (an hour in our settings) has passed."""
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    timeout = float(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))
    for tag in tags:
        score = client.zscore("unacked_index", tag)
        assert score is not None
        client.zadd("unacked_index", {tag: score - timeout - 60})


@pytest.fixture
def due_consents(transactional_db):  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the test stops the task mid-transaction with a row lock (CI runs PostgreSQL)")
    person = User.objects.create_user("performer@example.org", "correct horse battery")
    subject = services.subject_create(creator=person, display_name="Sari Pemeran", status="living")
    witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    today = timezone.now().date()
    consents = []
    for n in range(DUE):
        draft = services.consent_create(
            subject=subject,
            actor=person,
            terms={
                "effect": "permit",
                "grantee": "*",
                "media": ["face"],
                "activities": ["generate"],
                "purposes": ["film_tv"],
                "intended_use": f"Scenes for the feature film number {n}, shot in Jakarta",
                "territories": ["ID"],
                "valid_from": today - timedelta(days=30),
                "valid_until": today + timedelta(days=30),
            },
        )
        consents.append(services.consent_sign(consent=draft, actor=person, method="witnessed", witness=witness))
    # Time passes: their end date is now behind us. The worker reads the real clock, and a signed
    # consent's dates never change (consent migration 0003's trigger refuses), so for this one
    # statement the test lifts the database's guard.
    table = connection.ops.quote_name(Consent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER restu_consent_frozen")
        try:
            Consent.objects.filter(pk__in=[c.pk for c in consents]).update(valid_until=today - timedelta(days=1))
        finally:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER restu_consent_frozen")
    return consents


def test_worker_killed_inside_the_expiry_sweep_expires_each_consent_once(due_consents, make_worker):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the test stops the task mid-transaction with a row lock (CI runs PostgreSQL)")
    on_redis = settings.CELERY_BROKER_URL.startswith("redis")
    leaves_before = LogEntry.objects.count()

    with transaction.atomic():
        # The log's sequencer row: every append waits for it, so the sweep stops at its first leaf.
        LogState.objects.select_for_update().get(pk=1)
        first = make_worker()
        task_id = expire_consents.delay().id
        blocked = wait_for(lambda: bool(_sessions_waiting_for_us()), timeout=60)
        assert blocked, f"the sweep never reached the log\n{first.log()[-3000:]}"
        [orphan] = _sessions_waiting_for_us()
        assert f"consent.tasks.expire_consents[{task_id}]" in first.log()
        first.kill()  # SIGKILL: no clean-up, no acknowledgement
        assert first.process is not None
        assert first.process.returncode == -9
    # Our lock is released: the dead worker's session takes it, finds its client gone and rolls back.
    assert wait_for(lambda: not _session_alive(orphan), timeout=30), "the killed worker's session lives on"

    # Nothing of the interrupted run is left behind: no status change, no event, no leaf.
    assert set(Consent.objects.filter(pk__in=[c.pk for c in due_consents]).values_list("status", flat=True)) == {
        "active"
    }
    assert not OutboxEvent.objects.filter(type="consent.expired").exists()
    assert LogEntry.objects.count() == leaves_before

    if on_redis:
        # At-least-once: the broker still holds the unacknowledged message and hands it to the next
        # worker (once the visibility timeout has passed, which we fast-forward).
        tags = _unacked_on_redis(task_id)
        assert tags, "the killed worker's task was acknowledged: it would never run again"
        _age_unacked_on_redis(tags)
    second = make_worker()
    if on_redis:
        # The very same task (same id) runs again, and it is that run which expires all of them.
        redelivered = re.compile(rf"expire_consents\[{task_id}\] succeeded in [\d.]+s: {DUE}\b")
        assert wait_for(lambda: redelivered.search(second.log()) is not None, timeout=60), (
            f"the same task was not redelivered\n{second.log()[-3000:]}"
        )
    # Beat sends the sweep again on its schedule whatever happened: that run must change nothing more.
    again = expire_consents.delay().id
    expected = 0 if on_redis else DUE
    rerun = re.compile(rf"expire_consents\[{again}\] succeeded in [\d.]+s: {expected}\b")
    assert wait_for(lambda: rerun.search(second.log()) is not None, timeout=60), second.log()[-3000:]

    for consent in due_consents:
        consent.refresh_from_db()
        assert consent.status == "expired"
        assert ConsentEvent.objects.filter(consent=consent, type="expired").count() == 1
        assert LogEntry.objects.filter(type="consent.expired", ref=consent.public_id).count() == 1
        assert OutboxEvent.objects.filter(type="consent.expired", payload__consent=consent.public_id).count() == 1
    assert LogEntry.objects.count() == leaves_before + DUE
    indexes = list(LogEntry.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))
    out = io.StringIO()
    call_command("verify_log", "--quiet", stdout=out, stderr=io.StringIO())
    assert f"{len(indexes)} leaves" in out.getvalue()
