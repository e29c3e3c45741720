"""Fault injection: with the cache or the broker unreachable, checks keep answering and no event is lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from registry.celery import app
from registry.events import services as events
from registry.events.models import Delivery, OutboxEvent

from .conftest import witness

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused at once


def _forget_connections() -> None:
    # Celery caches its connection pool and the producer pool built on it: drop our references so
    # the next publish connects to whatever broker_url says now. The pools themselves stay open:
    # kombu's global registry still hands the real broker's pool to the tests that follow.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    names = ("broker_url", "broker_write_url", "task_publish_retry", "broker_transport_options")
    before = {name: app.conf[name] for name in names}
    app.conf.update(
        broker_url=UNREACHABLE, broker_write_url=UNREACHABLE, task_publish_retry=False, broker_transport_options={}
    )
    _forget_connections()
    assert app.connection_for_write().as_uri().endswith("127.0.0.1:1/0")
    yield
    app.conf.update(before)
    _forget_connections()


@pytest.mark.django_db
def test_verifications_keep_answering_when_the_cache_is_down(signed, studio, settings):
    subject, _, _ = signed()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": UNREACHABLE}}
    day = (timezone.now().date() + timedelta(days=3)).isoformat()
    response = studio[1].post(
        "/api/v1/verifications",
        {"subject": subject.public_id, "medium": "face", "purpose": "film_tv", "territory": "ID", "date": day},
    )
    assert response.status_code == 200
    assert response.json()["decision"] == "permitted"


@pytest.mark.django_db
def test_a_revocation_with_the_broker_down_succeeds_and_its_event_waits_in_the_outbox(
    signed, studio, broker_down, django_capture_on_commit_callbacks, settings, caplog
):
    subject, person, consent = signed()
    org, client = studio
    events.webhook_create(
        organization=org, actor_role="owner", url="https://hooks.example.org/restu", events=["consent.revoked"]
    )
    day = (timezone.now().date() + timedelta(days=3)).isoformat()
    client.post(
        "/api/v1/verifications",
        {"subject": subject.public_id, "medium": "face", "purpose": "film_tv", "territory": "ID", "date": day},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.consent_revoke(consent=consent, actor=person, reason="changed my mind", witness=witness())
    consent.refresh_from_db()
    assert consent.status == "revoked"
    event = OutboxEvent.objects.get(type="consent.revoked")
    assert event.dispatched_at is None  # nothing reached a worker …
    assert "the periodic sweep will catch up" in caplog.text
    # … and once the broker is back, the sweep fans it out to the studio's webhook.
    created, _ = events.outbox_dispatch()
    assert [Delivery.objects.get(pk=pk).event_id for pk in created] == [event.pk]
