"""Idempotency-Key: replay, 422 for another body, 409 in flight, expiry after 24 h."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from registry.accounts.models import ApiKey, Organization
from registry.api.idempotency import purge_expired
from registry.api.models import IdempotencyRecord
from registry.events.models import WebhookEndpoint
from tests.registry.api.people import signed_in

BODY = {"name": "Studio", "slug": "studio", "kind": "studio"}


@pytest.mark.django_db
def test_repeat_with_same_key_replays_first_response(api):
    first = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_different_body_is_422(api):
    api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-2")
    response = api.post("/api/v1/organizations", {**BODY, "slug": "other"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_repeat_while_first_in_flight_is_409(api, user):
    api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-3")
    IdempotencyRecord.objects.filter(key="k-3").update(state=IdempotencyRecord.State.IN_FLIGHT)
    response = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 409
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_a_claim_abandoned_by_a_dead_request_is_freed_after_two_minutes(api):
    # A request that died mid-way (its worker killed, its database gone) left its key in flight.
    api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-dead")
    Organization.objects.all().delete()
    IdempotencyRecord.objects.filter(key="k-dead").update(
        state=IdempotencyRecord.State.IN_FLIGHT, created=timezone.now() - timedelta(seconds=119)
    )
    assert api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-dead").status_code == 409

    IdempotencyRecord.objects.filter(key="k-dead").update(created=timezone.now() - timedelta(seconds=121))
    retry = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-dead")

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Organization.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="k-dead").state == IdempotencyRecord.State.COMPLETED


@pytest.mark.django_db
def test_keys_are_per_caller(api, make_user, client_for):
    api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="shared")
    other = client_for(make_user())
    response = other.post("/api/v1/organizations", {**BODY, "slug": "theirs"}, HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert response.json()["slug"] == "theirs"


@pytest.mark.django_db
def test_error_answers_are_replayed_too(api, org):
    first = api.post("/api/v1/organizations", {**BODY, "slug": org.slug}, HTTP_IDEMPOTENCY_KEY="k-4")
    assert first.status_code == 409
    again = api.post("/api/v1/organizations", {**BODY, "slug": org.slug}, HTTP_IDEMPOTENCY_KEY="k-4")
    assert again.status_code == 409
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_keys_expire_after_24_hours(api):
    api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="k-5")
    IdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
    response = api.post("/api/v1/organizations", {**BODY, "slug": "later"}, HTTP_IDEMPOTENCY_KEY="k-5")
    assert response.status_code == 201
    assert Organization.objects.count() == 2


@pytest.mark.django_db
def test_purge_forgets_only_expired_records(api):
    api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="old")
    api.post("/api/v1/organizations", {**BODY, "slug": "new"}, HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(created=timezone.now() - timedelta(hours=25))
    assert purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_overlong_key_is_400(api):
    response = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert response.status_code == 400
    assert Organization.objects.count() == 0


# --- Secrets are never replayed (docs/api.md "v1.1 — trust") -----------------------------------------


def _stored_body(key: str) -> bytes:
    return bytes(IdempotencyRecord.objects.get(key=key).response_body or b"")


@pytest.mark.django_db
def test_an_api_key_secret_is_shown_once_and_never_stored_for_replay(user, org):
    client = signed_in(user)
    body = {"organization": org.public_id, "name": "deploy"}
    first = client.post("/api/v1/api-keys", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == 201
    secret = first.json()["key"]
    assert secret.startswith("restu_")
    assert "secret_redacted" not in first.json()

    # The stored answer never holds the secret, in any form.
    stored = _stored_body("key-1")
    assert secret.encode() not in stored
    assert secret.removeprefix(f"restu_{first.json()['prefix']}_").encode() not in stored
    assert json.loads(stored)["key"] is None

    replay = client.post("/api/v1/api-keys", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == {**first.json(), "key": None, "secret_redacted": True}
    assert secret not in replay.content.decode()
    assert ApiKey.objects.filter(organization=org).count() == 1
    # The key shown the first time works; the replay did not make a second one.
    works = APIClient()
    works.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert works.get(f"/api/v1/organizations/{org.public_id}").status_code == 200


@pytest.mark.django_db
def test_a_webhook_secret_is_shown_once_and_never_stored_for_replay(api, org):
    body = {"organization": org.public_id, "url": "https://hooks.example.org/restu", "events": ["consent.revoked"]}
    first = api.post("/api/v1/webhooks", body, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert first.status_code == 201
    secret = first.json()["secret"]
    assert secret.startswith("whsec_")

    stored = _stored_body("hook-1")
    assert secret.encode() not in stored
    assert secret.removeprefix("whsec_").encode() not in stored
    assert json.loads(stored)["secret"] is None

    replay = api.post("/api/v1/webhooks", body, format="json", HTTP_IDEMPOTENCY_KEY="hook-1")
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == {**first.json(), "secret": None, "secret_redacted": True}
    assert WebhookEndpoint.objects.get(public_id=first.json()["id"]).secret == secret
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.django_db
def test_answers_without_a_secret_are_replayed_unchanged(api):
    first = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="plain")
    replay = api.post("/api/v1/organizations", BODY, HTTP_IDEMPOTENCY_KEY="plain")
    assert replay.json() == first.json()
    assert "secret_redacted" not in replay.json()


@pytest.mark.django_db
def test_answers_stored_before_the_fix_lose_their_secrets():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("registry.api.migrations.0004_redact_stored_secrets")
    secret = "restu_0123abcd_" + "s" * 43
    old = IdempotencyRecord.objects.create(
        caller="user:1",
        key="before",
        method="POST",
        path="/api/v1/api-keys",
        fingerprint="f",
        state=IdempotencyRecord.State.COMPLETED,
        status_code=201,
        response_body=json.dumps({"id": "key_x", "prefix": "0123abcd", "key": secret}).encode(),
        content_type="application/json",
    )
    migration.redact(apps, None)
    old.refresh_from_db()
    assert secret.encode() not in bytes(old.response_body)
    assert json.loads(bytes(old.response_body)) == {
        "id": "key_x",
        "prefix": "0123abcd",
        "key": None,
        "secret_redacted": True,
    }
