"""The emails to a person's representatives travel through the outbox: a broker outage delays them,
never drops them, and an event delivered twice still sends each representative one email."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone

from consent import services
from consent.models import Subject
from registry.accounts.presence import Presence
from registry.celery import app
from registry.events import services as events
from registry.events.models import OutboxEvent
from tests.integration.conftest import make_worker, wait_for  # noqa: F401 (a real Celery worker)

from .conftest import witness

pytestmark = pytest.mark.django_db

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused at once
NOTIFY = "consent.notifications.notify_representatives"
FOOTER = "Restu — see your consents and who checked you / lihat persetujuan Anda dan siapa yang memeriksa Anda: /me/\n"


def _forget_connections() -> None:
    # As in test_consent_outages.py: the next publish connects to whatever broker_url says now.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_unreachable() -> Iterator[None]:
    names = ("broker_url", "broker_write_url", "task_publish_retry", "broker_transport_options")
    before = {name: app.conf[name] for name in names}
    app.conf.update(
        broker_url=UNREACHABLE, broker_write_url=UNREACHABLE, task_publish_retry=False, broker_transport_options={}
    )
    _forget_connections()
    assert app.connection_for_write().as_uri().endswith("127.0.0.1:1/0")
    try:
        yield
    finally:
        app.conf.update(before)
        _forget_connections()


@pytest.fixture
def broker_down() -> Iterator[None]:
    with broker_unreachable():
        yield


def fresh() -> Presence:
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def run_reactions(reactions: list[tuple[str, str]]) -> None:
    """What a worker does with the dispatcher's reactions, by task name (only the notices: the other
    reactions have their own tests)."""
    for task_name, event_id in reactions:
        if task_name == NOTIFY:
            app.tasks[task_name](event_id)


def deliver_outbox() -> list[tuple[str, str]]:
    """The sweep, once the broker is back: fan out what waits in the outbox and run the reactions."""
    _, reactions = events.outbox_dispatch()
    run_reactions(reactions)
    return reactions


def sign(subject, actor, **override):
    day = timezone.now().date()
    terms = {
        "effect": "permit",
        "grantee": "*",
        "media": ["face"],
        "activities": ["generate"],
        "purposes": ["film_tv"],
        "intended_use": "A period drama filmed in Bandung",
        "territories": ["ID"],
        "valid_from": day,
        "valid_until": day + timedelta(days=30),
        **override,
    }
    consent = services.consent_create(subject=subject, actor=actor, terms=terms)
    return services.consent_sign(consent=consent, actor=actor, method="witnessed", witness=witness())


def test_a_signature_made_while_the_broker_is_down_is_emailed_once_the_outbox_is_dispatched(
    make_subject, make_user, broker_down, django_capture_on_commit_callbacks, caplog
):
    # A worker knows the notification task without being told where it lives.
    assert NOTIFY in app.tasks
    subject, guardian = make_subject("minor", name="Sari Pemeran")
    second = make_user("other.guardian@example.org")
    services.representative_add(subject=subject, actor=guardian, user=second, role="guardian", presence=fresh())
    deliver_outbox()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        consent = sign(subject, guardian)
    consent.refresh_from_db()
    assert consent.status == "active"
    assert mail.outbox == []  # nothing reached a worker …
    assert "the periodic sweep will catch up" in caplog.text
    event = OutboxEvent.objects.get(type="consent.signed")
    assert event.dispatched_at is None

    # … and once the broker is back, the sweep's dispatch sends each representative the notice.
    deliver_outbox()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([guardian.email, second.email])
    for message in mail.outbox:
        assert message.subject == "Restu: A consent was signed"
        assert message.body == (
            f"A consent naming a person you represent was signed: {consent.public_id}.\n\n"
            f"Sebuah persetujuan untuk orang yang Anda wakili telah ditandatangani: {consent.public_id}.\n\n" + FOOTER
        )
        assert "Sari" not in message.body  # ids only
    assert event.public_id not in [e for _, e in events.outbox_dispatch()[1]]  # dispatched once


def test_an_event_delivered_twice_sends_each_representative_one_email(make_subject):
    subject, person = make_subject()
    deliver_outbox()
    mail.outbox.clear()
    sign(subject, person)
    event = OutboxEvent.objects.get(type="consent.signed")
    reactions = deliver_outbox()
    assert len(mail.outbox) == 1

    # The outbox promises each reaction at least once: a redelivered task, a second dispatch.
    run_reactions([reaction for reaction in reactions if reaction[1] == event.public_id])
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    assert deliver_outbox()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [person.email]


def test_representatives_are_emailed_about_each_change_through_the_outbox(make_subject, make_user, make_org):
    subject, guardian = make_subject("minor")
    second = make_user("other.guardian@example.org")
    both = sorted([guardian.email, second.email])
    deliver_outbox()
    mail.outbox.clear()

    added = services.representative_add(subject=subject, actor=guardian, user=second, role="guardian", presence=fresh())
    deliver_outbox()
    assert sorted(m.to[0] for m in mail.outbox) == both
    assert mail.outbox[0].subject == "Restu: A new representative was added"
    assert added.public_id in mail.outbox[0].body
    mail.outbox.clear()

    consent = sign(subject, guardian)
    deliver_outbox()
    assert [m.subject for m in mail.outbox] == ["Restu: A consent was signed"] * 2
    mail.outbox.clear()

    services.consent_revoke(consent=consent, actor=second, witness=fresh())
    deliver_outbox()
    assert [m.subject for m in mail.outbox] == ["Restu: A consent was revoked"] * 2
    assert consent.public_id in mail.outbox[0].body
    mail.outbox.clear()

    ending = sign(subject, guardian, media=["voice"], valid_until=timezone.now().date())
    deliver_outbox()
    mail.outbox.clear()
    assert services.consent_expire(consent=ending, on=timezone.now().date() + timedelta(days=1)) is not None
    deliver_outbox()
    assert [m.subject for m in mail.outbox] == ["Restu: A consent expired"] * 2
    assert ending.public_id in mail.outbox[0].body
    mail.outbox.clear()

    guild_owner = make_user()
    guild = make_org(guild_owner, kind="guild")
    vouch = services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=guild_owner)
    deliver_outbox()
    assert [m.subject for m in mail.outbox] == ["Restu: Someone vouched for an identity"] * 2
    assert vouch.public_id in mail.outbox[0].body
    mail.outbox.clear()

    dispute = services.dispute_open(subject=subject, opened_by=make_user(), kind="impersonation")
    deliver_outbox()
    assert [m.subject for m in mail.outbox] == ["Restu: A dispute was opened"] * 2
    assert dispute.public_id in mail.outbox[0].body
    assert sorted(m.to[0] for m in mail.outbox) == both


def test_a_hand_over_tells_the_person_taking_their_record_over(make_subject, make_user):
    subject, guardian = make_subject("minor")
    deliver_outbox()
    mail.outbox.clear()
    Subject.objects.filter(pk=subject.pk).update(adult_on=timezone.now().date() - timedelta(days=1))
    subject.refresh_from_db()
    person = make_user("grown.up@example.org")
    own = services.representative_add(subject=subject, actor=guardian, user=person, role="self", presence=fresh())
    deliver_outbox()
    # Every guardian ended with the hand-over: the person is the one told.
    assert [m.to[0] for m in mail.outbox] == [person.email]
    assert own.public_id in mail.outbox[0].body


class FailsFor(EmailBackend):
    """A mail server refusing some addresses (as a full mailbox or a network cut would)."""

    refused: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & self.refused:
                raise SMTPException("451 try again later")
        return super().send_messages(messages)


def test_a_failed_send_is_retried_only_for_the_representatives_not_yet_told(make_subject, make_user, settings):
    subject, guardian = make_subject("minor")
    second = make_user("other.guardian@example.org")
    services.representative_add(subject=subject, actor=guardian, user=second, role="guardian", presence=fresh())
    deliver_outbox()
    mail.outbox.clear()
    settings.EMAIL_BACKEND = f"{__name__}.FailsFor"
    FailsFor.refused = {second.email}
    sign(subject, guardian)
    _, reactions = events.outbox_dispatch()
    with pytest.raises(SMTPException):
        run_reactions(reactions)
    assert [m.to[0] for m in mail.outbox] == [guardian.email]

    FailsFor.refused = set()
    run_reactions(reactions)  # the task's retry
    assert sorted(m.to[0] for m in mail.outbox) == sorted([guardian.email, second.email])


def test_changes_without_a_notice_send_nothing(make_subject, make_user):
    subject, _ = make_subject()
    deliver_outbox()
    mail.outbox.clear()
    staff = make_user("staff@example.org")
    type(staff).objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    dispute = services.dispute_open(subject=subject, opened_by=make_user(), kind="not_me")
    services.dispute_resolve(dispute=dispute, staff_user=staff, resolution="")
    reactions = deliver_outbox()
    assert {OutboxEvent.objects.get(public_id=e).type for _, e in reactions} >= {"dispute.opened", "dispute.resolved"}
    # A resolution is not announced to representatives (as before): only the opening is.
    assert [m.subject for m in mail.outbox] == ["Restu: A dispute was opened"]


class SlowBackend(EmailBackend):
    """A mail server that takes its time, so two workers on one event overlap."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_event_send_each_representative_one_email(make_subject, make_user, settings):
    subject, guardian = make_subject("minor")
    second = make_user("other.guardian@example.org")
    services.representative_add(subject=subject, actor=guardian, user=second, role="guardian", presence=fresh())
    deliver_outbox()
    sign(subject, guardian)
    mail.outbox.clear()
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    _, reactions = events.outbox_dispatch()
    [event_id] = [event for task, event in reactions if task == NOTIFY]
    told: list[int] = []

    def worker() -> None:
        try:
            told.append(app.tasks[NOTIFY](event_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([guardian.email, second.email])
    assert sum(told) == 2


@pytest.mark.integration
def test_a_real_worker_sends_the_notice_of_a_signature_made_while_the_broker_was_down(
    make_worker,  # noqa: F811 (the fixture imported above)
    make_subject,
):
    from registry.events.tasks import sweep

    worker = make_worker()
    subject, person = make_subject()
    with broker_unreachable():
        consent = sign(subject, person)
    event = OutboxEvent.objects.get(type="consent.signed", payload__consent=consent.public_id)
    # The beat's periodic sweep, once the broker is back (a dispatch the worker was already asked for,
    # by an earlier change, may pick the event up first: either way it is not lost).
    sweep.delay()
    subject_line = "Restu: A consent was signed"
    assert wait_for(lambda: subject_line in worker.log(), timeout=60), worker.log()[-3000:]
    # The outbox may hand the same event out again: the worker then tells nobody twice.
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    sweep.delay()

    def handled_twice() -> bool:
        return sum(f"Task {NOTIFY}[" in line and "succeeded" in line for line in worker.log().splitlines()) >= 2

    assert wait_for(handled_twice, timeout=60), worker.log()[-3000:]
    assert worker.log().count(subject_line) == 1
    assert f"was signed: {consent.public_id}." in worker.log()
    told = [
        line.rsplit(":", 1)[1].strip()
        for line in worker.log().splitlines()
        if f"Task {NOTIFY}[" in line and "succeeded" in line
    ]
    assert told[0] == "1"  # the first run told the person …
    assert set(told[1:]) == {"0"}  # … and every later one nobody
