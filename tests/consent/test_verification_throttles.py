"""The verification throttles on Redis, as in production: per organization, counted in one round trip."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone

from consent.models import AccessLogEntry

pytestmark = pytest.mark.django_db

USE = {"medium": "face", "activity": "generate", "purpose": "film_tv", "territory": "ID"}


def query(subject: Any) -> dict[str, Any]:
    return {"subject": subject.public_id, **USE, "date": (timezone.now().date() + timedelta(days=3)).isoformat()}


@pytest.fixture
def rates(settings: Any) -> Any:
    def set_rates(**rates: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates


@pytest.fixture
def pipelines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many commands each Redis pipeline sent, in order."""
    sent: list[int] = []
    execute = redis.client.Pipeline.execute

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(len(self.command_stack))
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted)
    return sent


def test_a_verification_counts_both_throttles_in_one_round_trip(redis_cache, rates, signed, studio, pipelines) -> None:
    rates(verify="5/min", api_key="100/min")
    subject, _, _ = signed()
    _, client = studio
    assert client.post("/api/v1/verifications", query(subject), format="json").status_code == 200
    # The key's throttle and the organization's verification throttle: INCRBY + EXPIRE each, one pipeline.
    assert pipelines == [4]


def test_the_organization_budget_refuses_with_the_longest_wait(redis_cache, rates, signed, studio, key_client) -> None:
    rates(verify="2/min", api_key="100/min")
    subject, _, _ = signed()
    _, client = studio
    other_key, _ = key_client()  # the same organization: the same budget
    assert [
        c.post("/api/v1/verifications", query(subject), format="json").status_code for c in (client, other_key)
    ] == [200, 200]
    refused = client.post("/api/v1/verifications", query(subject), format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/problem+json")
    assert int(refused["Retry-After"]) in range(1, 61)
    assert AccessLogEntry.objects.count() == 2  # a refused check is not answered, so not logged


def test_the_key_budget_refuses_too(redis_cache, rates, signed, studio) -> None:
    rates(verify="100/min", api_key="1/min")
    subject, _, _ = signed()
    _, client = studio
    assert client.post("/api/v1/verifications", query(subject), format="json").status_code == 200
    assert client.post("/api/v1/verifications", query(subject), format="json").status_code == 429


def test_a_cache_outage_never_stops_a_verification(rates, signed, studio, settings) -> None:
    rates(verify="1/min", api_key="1/min")
    settings.CACHES = {
        **settings.CACHES,
        # Nothing listens on port 1: every counter fails to be read.
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    subject, _, _ = signed()
    _, client = studio
    answers = [client.post("/api/v1/verifications", query(subject), format="json") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert all(answer.json()["receipt"] for answer in answers)
