"""Hostile input answers 400 with a problem document, never 500: deep JSON and forged cursors.

JSON nested a thousand levels deep made Python's recursive decoder raise RecursionError in DRF's
parser and in allauth's headless views (which parse every body themselves); a cursor whose
position is not a date reached the database filter. Both are refused before any work is done.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from registry.accounts.models import Organization, User
from registry.events import services as event_services
from tests.registry.api.people import key_client as api_key_client

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery"


def nested_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def mixed_with_brackets_in_strings(depth: int) -> str:
    # Brackets inside strings are text, not nesting; the real nesting is in the values.
    return '{"name": "[[[[{{{{", "x": ' + nested_array(depth) + "}"


DEEP_BODIES = {
    "array": nested_array(1000),
    "object": nested_object(1000),
    "mixed": '{"name": "a", "extra": ' + "[{" * 500 + "}]" * 500 + "}",
    "unclosed": "[" * 5000,
}


def assert_depth_refused(response) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400
    assert "64" in body["detail"]


# --- API: anonymous and authenticated callers, every kind of credential ----------------------


@pytest.mark.django_db
@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
@pytest.mark.parametrize("path", ["/api/v1/receipts/verify", "/api/v1/organizations", "/api/v1/verifications"])
def test_deep_json_from_anyone_is_400_not_500(shape: str, path: str) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(path, DEEP_BODIES[shape], content_type="application/json")
    assert_depth_refused(response)


@pytest.mark.django_db
@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
@pytest.mark.parametrize("path", ["/api/v1/organizations", "/api/v1/webhooks", "/api/v1/subjects"])
def test_deep_json_from_a_signed_in_person_is_400_and_changes_nothing(api: APIClient, shape: str, path: str) -> None:
    api.raise_request_exception = False
    before = Organization.objects.count()
    response = api.post(path, DEEP_BODIES[shape], content_type="application/json")
    assert_depth_refused(response)
    assert Organization.objects.count() == before


@pytest.mark.django_db
def test_deep_json_with_an_api_key_and_with_a_charset_is_400(user: User, org: Organization) -> None:
    client = api_key_client(user, org)
    client.raise_request_exception = False
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = client.post("/api/v1/webhooks", nested_object(1000), content_type=content_type)
        assert_depth_refused(response)
    response = client.patch("/api/v1/webhooks/whk_nothing", nested_array(1000), content_type="application/json")
    assert_depth_refused(response)


@pytest.mark.django_db
def test_nesting_up_to_the_limit_is_parsed_and_validated_as_usual(api: APIClient) -> None:
    # 64 levels in all (the object itself is the first): the parser accepts it, the serializer
    # answers which field is wrong.
    body = '{"name": "Studio", "slug": "studio", "kind": ' + nested_array(63) + "}"
    response = api.post("/api/v1/organizations", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"].endswith("/validation")
    assert "kind" in response.json()["errors"]

    too_deep = '{"name": "Studio", "slug": "studio", "kind": ' + nested_array(64) + "}"
    assert_depth_refused(api.post("/api/v1/organizations", too_deep, content_type="application/json"))


@pytest.mark.django_db
def test_brackets_inside_strings_do_not_count_as_nesting(api: APIClient) -> None:
    name = "[" * 60 + "{" * 60 + '\\"[[[' + "]" * 3
    body = '{"name": "' + name + '", "slug": "brackets", "kind": "studio"}'
    response = api.post("/api/v1/organizations", body, content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["name"].startswith("[[[[")


# --- allauth's headless endpoints parse bodies themselves --------------------------------------

HEADLESS_PATHS = [
    "/_allauth/app/v1/auth/login",
    "/_allauth/app/v1/auth/signup",
    "/_allauth/app/v1/auth/password/request",
    "/_allauth/browser/v1/auth/login",
    "/_allauth/browser/v1/auth/signup",
]


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["array", "object", "mixed"])
@pytest.mark.parametrize("path", HEADLESS_PATHS)
def test_deep_json_on_the_headless_auth_endpoints_is_400(shape: str, path: str) -> None:
    client = Client(raise_request_exception=False, enforce_csrf_checks=False)
    response = client.post(path, DEEP_BODIES[shape], content_type="application/json")
    assert_depth_refused(response)


@pytest.mark.django_db
def test_headless_endpoints_refuse_deep_json_whatever_the_declared_type() -> None:
    # allauth parses the body as JSON whatever Content-Type says.
    client = Client(raise_request_exception=False)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/vnd.restu+json"):
        response = client.post("/_allauth/app/v1/auth/login", nested_object(1000), content_type=content_type)
        assert_depth_refused(response)


@pytest.mark.django_db
def test_headless_login_with_a_session_token_then_deep_json_everywhere(make_user: Callable[..., User]) -> None:
    person = make_user("deep@example.org", PASSWORD)
    client = Client(raise_request_exception=False)
    login = client.post(
        "/_allauth/app/v1/auth/login", {"email": person.email, "password": PASSWORD}, content_type="application/json"
    )
    assert login.status_code == 200
    token = login.json()["meta"]["session_token"]
    headers = {"HTTP_X_SESSION_TOKEN": token}
    for path in ("/_allauth/app/v1/auth/reauthenticate", "/_allauth/app/v1/account/password/change"):
        response = client.post(path, nested_array(1000), content_type="application/json", **headers)
        assert_depth_refused(response)
    response = client.post("/api/v1/organizations", nested_object(1000), content_type="application/json", **headers)
    assert_depth_refused(response)
    # The same token still works for an ordinary request: nothing was broken by the refusals.
    ok = client.post(
        "/api/v1/organizations",
        {"name": "Deep", "slug": "deep", "kind": "studio"},
        content_type="application/json",
        **headers,
    )
    assert ok.status_code == 201


@pytest.mark.django_db
def test_an_ordinary_headless_login_still_works(make_user: Callable[..., User]) -> None:
    person = make_user("plain@example.org", PASSWORD)
    response = Client().post(
        "/_allauth/app/v1/auth/login", {"email": person.email, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200


# --- Forged cursors ---------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED_CURSORS = [
    _cursor("p=notadate"),  # the one from issue 13
    _cursor("p=2020-13-45"),
    _cursor("p="),
    _cursor("p=2026-01-01T00:00:00+99:00"),
    _cursor("o=-1"),
    _cursor("o=abc"),
    _cursor("r=x"),
    _cursor("r=1&p=yesterday"),
    "!!!not-base64!!!",
    "cD1ub3RhZGF0ZQ",  # padding cut off
    "%FF%FE",
    "8J+Ygg==",  # a smiley, not ASCII
]

LIST_PATHS = [
    "/api/v1/attestations",
    "/api/v1/organizations",
    "/api/v1/webhooks",
    "/api/v1/consents",
    "/api/v1/releases",
    "/api/v1/guidelines",
]


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
@pytest.mark.parametrize("path", LIST_PATHS)
def test_a_forged_cursor_is_400(api: APIClient, org: Organization, path: str, cursor: str) -> None:
    api.raise_request_exception = False
    query = {"cursor": cursor} if path != "/api/v1/consents" else {"cursor": cursor, "organization": org.public_id}
    response = api.get(path, query)
    assert response.status_code == 400, (path, cursor, response.status_code, response.content[:300])
    assert response["Content-Type"] == PROBLEM
    assert "cursor" in response.json().get("errors", {})


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", FORGED_CURSORS[:4])
def test_a_forged_cursor_on_the_delivery_log_and_anonymously_is_400(
    api: APIClient, org: Organization, cursor: str, settings
) -> None:
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    endpoint = event_services.webhook_create(
        organization=org, actor_role="owner", url="http://127.0.0.1:9/hook", events=["consent.revoked"]
    )
    api.raise_request_exception = False
    response = api.get(f"/api/v1/webhooks/{endpoint.public_id}/deliveries", {"cursor": cursor})
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM

    anonymous = Client(raise_request_exception=False)
    response = anonymous.get("/api/v1/attestations", {"cursor": cursor})
    assert response.status_code in (400, 401)
    assert response.status_code != 500


@pytest.mark.django_db
def test_cursors_the_server_made_still_page_through(api: APIClient) -> None:
    for n in range(5):
        assert (
            api.post("/api/v1/organizations", {"name": f"O{n}", "slug": f"o-{n}", "kind": "studio"}).status_code == 201
        )
    seen: list[str] = []
    url: str | None = "/api/v1/organizations?page_size=2"
    while url:
        page = api.get(url)
        assert page.status_code == 200
        seen.extend(item["slug"] for item in page.json()["results"])
        url = page.json()["next"]
    assert sorted(seen) == [f"o-{n}" for n in range(5)]
    # And back again with the previous links.
    last = api.get("/api/v1/organizations?page_size=2")
    second = api.get(last.json()["next"])
    back = api.get(second.json()["previous"])
    assert back.status_code == 200
    assert [i["slug"] for i in back.json()["results"]] == [i["slug"] for i in last.json()["results"]]


# --- JSON inside a receipt: base64url segments hide nesting from the body's scan ----------------


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["header", "payload"])
def test_a_receipt_with_deep_json_inside_is_invalid_not_500(where: str) -> None:
    deep = nested_array(5000)
    header = deep if where == "header" else '{"alg": "EdDSA", "kid": "k"}'
    payload = deep if where == "payload" else "{}"
    receipt = f"{_b64url(header)}.{_b64url(payload)}.{_b64url('x' * 64)}"
    response = Client(raise_request_exception=False).post(
        "/api/v1/receipts/verify", {"receipt": receipt}, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:200]
    assert response.json()["valid"] is False
    if where == "header":
        assert response.json()["reason"] == "malformed token"


# --- Fuzzing allauth's headless endpoints (issue 13 item 9) --------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_field_names = st.sampled_from(["email", "password", "code", "key", "token", "new_password", "current_password"])
_bodies = st.one_of(
    st.dictionaries(_field_names, _json_values, max_size=4).map(json.dumps),
    _json_values.map(json.dumps),
    st.integers(min_value=60, max_value=3000).map(nested_array),
    st.integers(min_value=60, max_value=3000).map(nested_object),
    st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
)
HEADLESS_FUZZ_PATHS = [
    "/_allauth/app/v1/auth/login",
    "/_allauth/app/v1/auth/signup",
    "/_allauth/app/v1/auth/password/request",
    "/_allauth/app/v1/auth/password/reset",
    "/_allauth/app/v1/auth/email/verify",
    "/_allauth/app/v1/auth/reauthenticate",
    "/_allauth/app/v1/auth/2fa/authenticate",
    "/_allauth/browser/v1/auth/login",
    "/_allauth/browser/v1/auth/signup",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", HEADLESS_FUZZ_PATHS)
def test_headless_auth_endpoints_never_answer_5xx(path: str, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = False  # the fuzzer sends many requests from one address
    client = Client(raise_request_exception=False)

    @hyp_settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=_bodies, content_type=st.sampled_from(["application/json", "text/plain"]))
    def check(body: str, content_type: str) -> None:
        response = client.post(path, body.encode("utf-8", "surrogatepass"), content_type=content_type)
        assert response.status_code < 500, (path, body[:200], response.status_code)

    check()
