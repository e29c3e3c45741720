"""X-Forwarded-For counts only through proxies the operator declared (REGISTRY_TRUSTED_PROXIES).

With none declared (the default) the anonymous throttle counts by the connection's address: a
caller who sends a new X-Forwarded-For with every request is still one caller. Behind one proxy,
the address that proxy appended (the last one) is the client; whatever the client wrote before it
is ignored.
"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

RATES = {"anon": "3/min", "user": "100/min", "api_key": "100/min"}


def _rest(settings, **extra) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES, **extra}


@pytest.fixture(autouse=True)
def _one_window(monkeypatch) -> None:
    # Every request of a test falls in the same minute: a window that closes mid-test would
    # reset the count and hide (or fake) a refusal.
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: 60 * 16_667 + 5.0)


def test_no_proxy_is_trusted_by_default():
    assert django_settings.REGISTRY_TRUSTED_PROXIES == 0
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert django_settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0


@pytest.mark.django_db
def test_rotating_a_forged_x_forwarded_for_does_not_escape_the_anonymous_throttle(settings):
    _rest(settings, NUM_PROXIES=0)
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    statuses = [client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]
    # Without the header at all, the same connection is the same caller.
    assert client.get("/api/v1/schema/").status_code == 429
    # Another connection is another caller.
    assert APIClient(REMOTE_ADDR="203.0.113.8").get("/api/v1/schema/").status_code == 200


@pytest.mark.django_db
def test_with_the_default_settings_a_forged_header_changes_nothing(settings):
    # The shipped settings, only the rate lowered.
    _rest(settings)
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    statuses = [
        client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 192.0.2.{n}").status_code for n in range(5)
    ]
    assert statuses[3:] == [429, 429]


@pytest.mark.django_db
def test_behind_one_proxy_the_last_forwarded_address_is_the_client(settings):
    _rest(settings, NUM_PROXIES=1)
    proxy = "10.0.0.2"  # every request arrives from the proxy
    client = APIClient(REMOTE_ADDR=proxy)
    # The client forges a first entry each time; the proxy appends the real address last.
    statuses = [
        client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 192.0.2.50").status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    # Another real client behind the same proxy has its own allowance.
    assert client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR="192.0.2.51").status_code == 200
    # The proxy's own address is not shared by everyone behind it.
    assert client.get("/api/v1/schema/", HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.52").status_code == 200
