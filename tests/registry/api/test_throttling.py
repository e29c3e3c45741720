"""Default throttles answer 429 with Retry-After."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.api.models import ThrottleCounter


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


@pytest.mark.django_db
def test_a_throttled_caller_is_let_in_again_when_the_window_ends(anon, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "100/min", "api_key": "100/min"},
    }
    from rest_framework.throttling import SimpleRateThrottle

    now = [60 * 16_667 + 20.0]  # 20 s into a minute
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])
    assert [anon.get("/api/v1/schema/").status_code for _ in range(3)] == [200, 200, 429]
    refused = anon.get("/api/v1/schema/")
    assert int(refused["Retry-After"]) == 40  # until the minute ends

    now[0] += 40
    assert anon.get("/api/v1/schema/").status_code == 200


@pytest.mark.django_db
def test_a_flood_costs_one_small_counter_not_a_growing_history(anon, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "100/min", "api_key": "100/min"},
    }
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: 1_000_020.0)
    for _ in range(50):
        assert anon.get("/api/v1/schema/").status_code == 200

    # One integer per caller and window, counting every request (DRF's own throttle would have
    # stored a list of 50 timestamps and rewritten it on every request).
    key = f"throttle_anon_127.0.0.1:{1_000_020 // 60}"
    if isinstance(caches["default"], DatabaseCache):
        assert ThrottleCounter.objects.get(key=key).hits == 50
    else:
        assert cache.get(key) == 50


@pytest.mark.django_db
def test_counting_a_hit_costs_the_same_statements_first_and_later(anon, settings):
    # A cost that depends on whether the window's counter exists makes every request's cost
    # depend on the one before it; on the database cache it is one upsert either way.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "user": "100/min", "api_key": "100/min"},
    }
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            assert anon.get("/api/v1/schema/").status_code == 200
        counts.append(sum("throttle" in query["sql"] for query in captured.captured_queries))
    if isinstance(caches["default"], DatabaseCache):
        assert counts == [1, 1, 1]
    else:  # Redis: the counter is not in the database at all
        assert counts == [0, 0, 0]


@pytest.mark.django_db
def test_closed_windows_are_purged(anon):
    from datetime import timedelta

    from django.utils import timezone

    from registry.api.throttling import purge_expired_counters

    ThrottleCounter.objects.create(key="old:1", hits=3, expires=timezone.now() - timedelta(seconds=1))
    ThrottleCounter.objects.create(key="open:2", hits=1, expires=timezone.now() + timedelta(seconds=60))
    assert purge_expired_counters() == 1
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == ["open:2"]
