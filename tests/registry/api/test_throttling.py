"""Default throttles answer 429 with Retry-After."""

import pytest


@pytest.mark.django_db
def test_anonymous_callers_are_throttled_with_retry_after(anon, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "100/min", "api_key": "100/min"},
    }
    statuses = [anon.get("/api/v1/schema/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = anon.get("/api/v1/schema/")
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) in range(1, 61)


@pytest.mark.django_db
def test_api_keys_are_throttled_per_organization(key_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "100/min", "api_key": "2/min"},
    }
    first, _ = key_client()
    second, _ = key_client()
    assert first.get("/api/v1/organizations").status_code == 200
    assert second.get("/api/v1/organizations").status_code == 200
    throttled = first.get("/api/v1/organizations")
    assert throttled.status_code == 429
    assert "Retry-After" in throttled
