"""Which events can be subscribed to: the ones something sends, each registered by its app.

``subject.disputed`` and ``webhook.test`` were in the core list but never sent, so a studio could
subscribe to disputes and wait for ever (issue 12 item 6, issue 13). Apps now register their own
event types (``event_type_register`` in ``AppConfig.ready``); the core list holds only types the
code emits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from registry.events import services, vocabulary
from registry.events.models import WebhookEndpoint

ROOT = Path(__file__).resolve().parents[3]
SOURCE_DIRS = ("registry", "consent", "guidelines")


@pytest.fixture
def registry_snapshot(monkeypatch):
    """Registrations made in a test are forgotten after it."""
    monkeypatch.setattr(vocabulary, "_REGISTERED", dict(vocabulary._REGISTERED))


def _emitted_types() -> set[str]:
    """Every literal ``type="…"`` given to event_record in the application's code."""
    emitted: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for call in re.finditer(r"event_record\(", text):
                window = text[call.end() : call.end() + 200]
                match = re.search(r'\btype\s*=\s*"([a-z_]+\.[a-z_]+)"', window)
                if match:
                    emitted.add(match.group(1))
    return emitted


def test_every_subscribable_event_type_is_sent_somewhere():
    never_sent = set(vocabulary.event_types()) - _emitted_types()
    assert never_sent == set(), f"subscribable but never emitted: {sorted(never_sent)}"


def test_the_never_sent_types_are_gone_from_the_core_list():
    for name in ("webhook.test", "release.cleared"):
        assert name not in vocabulary.event_types()
        assert name not in vocabulary.EVENT_TYPES


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["webhook.test", "release.cleared"])
def test_subscribing_to_an_event_nothing_sends_is_400(api, org, name):
    response = api.post(
        "/api/v1/webhooks",
        {"url": "https://hooks.example.org/r", "events": [name], "organization": org.public_id},
        format="json",
    )
    assert response.status_code == 400
    assert any(field.startswith("events") for field in response.json()["errors"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_an_app_registers_its_own_event_types(api, org, registry_snapshot):
    body = {"url": "https://hooks.example.org/r", "events": ["subject.disputed"], "organization": org.public_id}
    vocabulary.event_type_register("subject.disputed")
    vocabulary.event_type_register("subject.disputed")  # ready() may run twice: harmless
    assert "subject.disputed" in vocabulary.event_types()
    assert "subject.disputed" in vocabulary.EVENT_TYPES  # the live view the studio form reads
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["events"] == ["subject.disputed"]
    # The schema lists it among the choices too.
    schema = api.get("/api/v1/schema/?format=json").json()
    assert "subject.disputed" in str(schema["components"]["schemas"])


@pytest.mark.django_db
def test_a_registered_public_type_goes_to_every_subscriber_others_to_their_audience(
    org, make_org, user, registry_snapshot, settings
):
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    vocabulary.event_type_register("example.published", public=True)
    vocabulary.event_type_register("example.private")
    other = make_org(user)
    for organization in (org, other):
        services.webhook_create(
            organization=organization,
            actor_role="owner",
            url="http://127.0.0.1:9/h",
            events=["example.published", "example.private"],
        )
    with transaction.atomic():
        services.event_record(type="example.published", payload={}, audience=[org.public_id])
        services.event_record(type="example.private", payload={}, audience=[org.public_id])
    created, _ = services.outbox_dispatch()
    assert len(created) == 3  # public: both organizations; private: its audience only


def test_conflicting_registrations_and_bad_names_fail_at_start_up(registry_snapshot):
    vocabulary.event_type_register("example.thing")
    with pytest.raises(ImproperlyConfigured):
        vocabulary.event_type_register("example.thing", public=True)
    with pytest.raises(ImproperlyConfigured):
        vocabulary.event_type_register("consent.revoked", public=True)  # core says private
    for bad in ("", "nodot", "Upper.case", "a.b c"):
        with pytest.raises(ImproperlyConfigured):
            vocabulary.event_type_register(bad)


@pytest.mark.django_db
def test_stored_subscriptions_to_never_sent_types_are_dropped(org):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("registry.events.migrations.0003_forget_never_sent_event_types")
    endpoint = WebhookEndpoint.objects.create(
        organization=org,
        url="https://hooks.example.org/r",
        events=["consent.revoked", "subject.disputed", "webhook.test"],
        secret="whsec_x",
    )
    migration.forget(apps, None)
    endpoint.refresh_from_db()
    assert endpoint.events == ["consent.revoked", "subject.disputed"]
