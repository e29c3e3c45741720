"""Webhooks: registration, fan-out from the outbox, signed deliveries, retries, disabling, redelivery."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from registry.accounts.models import Membership
from registry.errors import NotAllowed
from registry.events import services
from registry.events.models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint


def _record(type_="consent.revoked", audience=None, payload=None):
    with transaction.atomic():
        return services.event_record(type=type_, payload=payload or {"consent": "con_x"}, audience=audience)


@pytest.fixture
def endpoint(org, receiver):
    return services.webhook_create(organization=org, actor_role="owner", url=receiver.url, events=["consent.revoked"])


@pytest.mark.django_db(transaction=True)
def test_event_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        services.event_record(type="consent.revoked", payload={})
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_events_roll_back_with_their_change():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services.event_record(type="consent.revoked", payload={"consent": "con_x"})
        1 / 0  # noqa: B018 — the change fails after the event was written
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_delivery_is_signed_per_standard_webhooks(endpoint, receiver):
    event = _record(audience=[endpoint.organization.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    assert services.delivery_attempt(delivery_id=delivery_id) == "succeeded"
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"] == event.public_id
    payload = Webhook(endpoint.secret).verify(request["body"], headers)
    assert payload["type"] == "consent.revoked"
    assert payload["data"] == {"consent": "con_x"}
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.state == "succeeded"
    assert delivery.attempts == 1


@pytest.mark.django_db
def test_only_subscribed_endpoints_in_the_audience_get_the_event(endpoint, receiver, make_org, user):
    other_org = make_org(user)
    services.webhook_create(organization=other_org, actor_role="owner", url=receiver.url, events=["consent.revoked"])
    services.webhook_create(
        organization=endpoint.organization, actor_role="admin", url=receiver.url, events=["release.status_changed"]
    )
    _record(audience=[endpoint.organization.public_id])
    created = services.outbox_dispatch()[0]
    assert [Delivery.objects.get(pk=pk).endpoint_id for pk in created] == [endpoint.pk]
    assert services.outbox_dispatch()[0] == []  # each event fans out once


@pytest.mark.django_db
def test_failures_are_retried_with_backoff_then_given_up(endpoint, receiver):
    receiver.statuses = [500] * 20
    _record(audience=[endpoint.organization.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    before = timezone.now()
    assert services.delivery_attempt(delivery_id=delivery_id) == "failed"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.state == "pending"
    assert delivery.next_attempt_at >= before + timedelta(seconds=services.RETRY_SCHEDULE[0])
    assert services.deliveries_due() == []  # not due yet
    gaps = []
    for _ in services.RETRY_SCHEDULE:
        Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
        assert services.deliveries_due() == [delivery_id]
        services.delivery_attempt(delivery_id=delivery_id)
        delivery.refresh_from_db()
        gaps.append((delivery.next_attempt_at - timezone.now()).total_seconds())
    assert delivery.state == "failed"
    assert delivery.attempts == len(services.RETRY_SCHEDULE) + 1
    assert DeliveryAttempt.objects.filter(delivery_id=delivery_id).count() == delivery.attempts
    assert sum(services.RETRY_SCHEDULE) >= 24 * 3600  # about a day of retries


@pytest.mark.django_db
def test_a_leased_delivery_is_not_sent_twice(endpoint, receiver):
    _record(audience=[endpoint.organization.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    Delivery.objects.filter(pk=delivery_id).update(lease_until=timezone.now() + timedelta(seconds=30))
    assert services.delivery_attempt(delivery_id=delivery_id) == "skipped"
    assert services.deliveries_due() == []
    # A lease that ran out (its worker died) is handed to the next worker.
    Delivery.objects.filter(pk=delivery_id).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.deliveries_due() == [delivery_id]
    assert services.delivery_attempt(delivery_id=delivery_id) == "succeeded"
    assert services.delivery_attempt(delivery_id=delivery_id) == "skipped"
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_sustained_failure_disables_the_endpoint_and_emails_admins(
    endpoint, receiver, user, django_capture_on_commit_callbacks
):
    receiver.statuses = [503] * 5
    _record(audience=[endpoint.organization.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_attempt(delivery_id=delivery_id)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert "three days" in endpoint.disabled_reason
    assert [m.to for m in mail.outbox] == [[user.email]]
    body = mail.outbox[0].body
    assert "failed for three days" in body
    assert "gagal selama tiga hari" in body  # and in Indonesian
    assert "delivery log" in body
    assert "log pengiriman" in body
    _record(audience=[endpoint.organization.public_id])
    assert services.outbox_dispatch()[0] == []  # a disabled endpoint gets nothing new


@pytest.mark.django_db
def test_rotation_signs_with_both_secrets_for_a_day(endpoint, receiver):
    old = endpoint.secret
    services.webhook_rotate_secret(endpoint=endpoint)
    assert endpoint.secret != old
    _record(audience=[endpoint.organization.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    services.delivery_attempt(delivery_id=delivery_id)
    headers = {k.lower(): v for k, v in receiver.requests[0]["headers"].items()}
    body = receiver.requests[0]["body"]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(endpoint.secret).verify(body, headers)


@pytest.mark.django_db
def test_webhook_api_lifecycle(api, org, receiver, django_capture_on_commit_callbacks):
    created = api.post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["consent.revoked"], "organization": org.public_id}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["id"].startswith("whk_")
    assert body["secret"].startswith("whsec_")
    detail = api.get(f"/api/v1/webhooks/{body['id']}")
    assert "secret" not in detail.json()

    _record(audience=[org.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    services.delivery_attempt(delivery_id=delivery_id)
    log = api.get(f"/api/v1/webhooks/{body['id']}/deliveries").json()["results"]
    assert [(a["event_type"], a["status_code"], a["state"]) for a in log] == [("consent.revoked", 200, "succeeded")]

    delivery = Delivery.objects.get(pk=delivery_id)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(f"/api/v1/webhooks/{body['id']}/deliveries/{delivery.public_id}/redeliver")
    assert response.status_code == 202
    assert len(callbacks) == 1
    assert services.delivery_attempt(delivery_id=delivery_id, manual=True) == "succeeded"
    assert len(receiver.requests) == 2
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {delivery.event.public_id}

    rotated = api.post(f"/api/v1/webhooks/{body['id']}/rotate-secret")
    assert rotated.json()["secret"] != body["secret"]
    etag = api.get(f"/api/v1/webhooks/{body['id']}")["ETag"]
    assert api.patch(f"/api/v1/webhooks/{body['id']}", {"is_active": False}, HTTP_IF_MATCH='"x"').status_code == 412
    assert api.patch(f"/api/v1/webhooks/{body['id']}", {"is_active": False}, HTTP_IF_MATCH=etag).status_code == 200
    assert api.delete(f"/api/v1/webhooks/{body['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/x", "events": ["consent.revoked"]}, "url"),
        ({"url": "https://127.0.0.1/x", "events": ["consent.revoked"]}, "url"),
        ({"url": "https://169.254.169.254/x", "events": ["consent.revoked"]}, "url"),
        ({"url": "https://example.org/x", "events": ["consent.exploded"]}, "events"),
        ({"url": "https://example.org/x", "events": []}, "events"),
        ({"url": "https://example.org/x", "events": ["consent.revoked"], "secret": "mine"}, "secret"),
    ],
)
def test_bad_webhook_registrations_are_refused(api, org, settings, body, field):
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = []
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = False
    response = api.post("/api/v1/webhooks", {**body, "organization": org.public_id})
    assert response.status_code == 400
    assert any(name.split(".")[0] == field for name in response.json()["errors"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_members_cannot_manage_webhooks_and_strangers_cannot_see_them(endpoint, org, make_user, client_for):
    member = make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    response = client_for(member).post(
        "/api/v1/webhooks", {"url": endpoint.url, "events": ["consent.revoked"], "organization": org.public_id}
    )
    assert response.status_code == 403
    stranger = client_for(make_user())
    assert stranger.get(f"/api/v1/webhooks/{endpoint.public_id}").status_code == 404
    assert stranger.get(f"/api/v1/webhooks/{endpoint.public_id}/deliveries").status_code == 404
    assert stranger.get("/api/v1/webhooks").json()["results"] == []


@pytest.mark.django_db
def test_api_key_registers_webhooks_for_its_own_organization(key_client, org, receiver):
    machine, _ = key_client()
    response = machine.post("/api/v1/webhooks", {"url": receiver.url, "events": ["release.status_changed"]})
    assert response.status_code == 201
    assert response.json()["organization"] == org.public_id
    assert json.loads(json.dumps(response.json()))["events"] == ["release.status_changed"]


@pytest.mark.django_db
def test_registered_handlers_react_to_their_events_once():
    services.handler_register(event_type="webhook.test", task_name="tests.react")
    services.handler_register(event_type="webhook.test", task_name="tests.react")
    event = _record(type_="webhook.test")
    _record(type_="guideline.published")  # nobody registered for this one
    _, reactions = services.outbox_dispatch()
    assert reactions == [("tests.react", event.public_id)]
    assert services.outbox_dispatch() == ([], [])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "", "superuser", None])
def test_the_service_refuses_webhooks_from_anyone_below_admin(org, receiver, role):
    # The rule lives in the service, so pages, API and commands all obey it.
    with pytest.raises(NotAllowed):
        services.webhook_create(organization=org, actor_role=role, url=receiver.url, events=["consent.revoked"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_and_owners_register_webhooks_through_the_service(org, receiver, role):
    endpoint = services.webhook_create(organization=org, actor_role=role, url=receiver.url, events=["consent.revoked"])
    assert endpoint.secret.startswith("whsec_")


def test_the_service_needs_the_actors_role():
    with pytest.raises(TypeError):
        services.webhook_create(organization=None, url="https://example.org/x", events=["consent.revoked"])  # type: ignore[call-arg]


@pytest.mark.django_db
def test_api_owners_and_admins_still_register_webhooks(org, make_user, client_for, receiver):
    admin = make_user()
    Membership.objects.create(organization=org, user=admin, role="admin")
    for person, events in ((org.memberships.get(role="owner").user, ["consent.revoked"]), (admin, ["consent.expired"])):
        response = client_for(person).post(
            "/api/v1/webhooks", {"url": receiver.url, "events": events, "organization": org.public_id}, format="json"
        )
        assert response.status_code == 201
    assert WebhookEndpoint.objects.filter(organization=org).count() == 2
