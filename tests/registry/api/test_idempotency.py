"""Idempotency-Key: replay, 422 for another body, 409 in flight, expiry after 24 h."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.accounts.models import Organization
from registry.api.idempotency import purge_expired
from registry.api.models import IdempotencyRecord

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
