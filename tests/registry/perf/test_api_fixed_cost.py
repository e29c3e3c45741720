"""The fixed cost of an API call (issue 17), and the promises it must not buy speed with.

An API key is looked up with one plain statement on every call (no cache: a revoked key stops at
its next call); machine calls answer in the caller's language and set no cookie (that they skip the
page middleware in production, registry/fast_paths.py, is tested in tests/consent/test_fast_path_api.py).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.accounts.models import ApiKey, Membership

pytestmark = pytest.mark.django_db


def test_the_key_its_organization_and_creator_are_read_in_one_statement(key_client, org) -> None:
    client, _ = key_client()
    client.get("/api/v1/organizations")  # the key's last use is recorded once, on its first call
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/organizations")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [org.public_id]
    # On PostgreSQL the key's statement is prepared (registry/lib/prepared.py): EXECUTE restu_api_key.
    key_reads = [q["sql"] for q in captured.captured_queries if "digest" in q["sql"] or "restu_api_key" in q["sql"]]
    assert len(key_reads) == 1
    # The organization, the creator and their role came with the key: the only other read is the
    # list itself (the throttle's counter is a write, in the test settings' database cache).
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(("SELECT", "EXECUTE"))]
    assert len(reads) == 2, [sql[:100] for sql in reads]


def test_a_revoked_key_is_refused_at_its_very_next_call(key_client) -> None:
    client, _secret = key_client()
    assert client.get("/api/v1/organizations").status_code == 200
    ApiKey.objects.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    refused = client.get("/api/v1/organizations")
    assert refused.status_code == 401
    assert refused["Content-Type"].startswith("application/problem+json")


def test_a_key_whose_creator_was_deactivated_or_left_is_refused(key_client, user, org) -> None:
    client, _ = key_client()
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/v1/organizations").status_code == 401
    type(user).objects.filter(pk=user.pk).update(is_active=True)
    assert client.get("/api/v1/organizations").status_code == 200
    Membership.objects.filter(user=user, organization=org).delete()
    assert client.get("/api/v1/organizations").status_code == 401


def test_the_key_last_use_is_recorded(key_client) -> None:
    client, _ = key_client()
    assert ApiKey.objects.get().last_used_at is None
    client.get("/api/v1/organizations")
    used = ApiKey.objects.get().last_used_at
    assert used is not None
    assert (timezone.now() - used).total_seconds() < 60


def test_a_machine_call_sets_no_cookie_and_answers_in_the_callers_language(key_client) -> None:
    client, _ = key_client()
    response = client.get("/api/v1/organizations", HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert not response.cookies
    assert response["Content-Language"] == "id"
    assert "Accept-Language" in response["Vary"]
    refused = client.get("/api/v1/organizations/org_nope", HTTP_ACCEPT_LANGUAGE="id")
    assert refused.status_code == 404
    assert refused["Content-Language"] == "id"


def test_a_bearer_call_does_not_read_or_keep_the_browser_session(key_client, user, client) -> None:
    client.force_login(user)
    session_cookie = client.cookies["sessionid"].value
    api, _secret = key_client()
    # The same browser, with both its session cookie and an API key: the key decides, the session
    # is neither read nor refreshed.
    api.cookies["sessionid"] = session_cookie
    response = api.get("/api/v1/organizations")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_with_redis_api_keys_are_throttled_per_organization(key_client, make_org, make_user, redis_cache, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": "3/min"},
    }
    first, _ = key_client()
    second, _ = key_client()  # the same organization: one budget for both keys
    other_owner = make_user()
    other, _ = key_client(organization=make_org(other_owner), creator=other_owner)
    statuses = [client.get("/api/v1/organizations").status_code for client in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]
    assert int(second.get("/api/v1/organizations")["Retry-After"]) in range(1, 61)
    assert other.get("/api/v1/organizations").status_code == 200
