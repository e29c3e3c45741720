"""API-key calls through the lean handlers (registry/fast_paths.py) answer as the whole site does.

Each request is sent twice as raw WSGI, as a server sends it (Django's test Client has its own
handler and would bypass the wrapper): once to the site's application, once to the application
gunicorn serves (``registry.wsgi``'s composition). Status, headers and bodies must agree, signed
receipts aside (each answer has its own), and the lean handler must really have answered.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone

from consent.models import AccessLogEntry
from registry.accounts.models import ApiKey
from registry.fast_paths import LeanHandler, api_key_routes, fast_paths
from tests.wsgi_call import Answer, call

pytestmark = pytest.mark.django_db(transaction=True)

USE = {"medium": "face", "activity": "generate", "purpose": "film_tv", "territory": "ID"}


class Counting:
    """A route's handler, counting the requests it took."""

    def __init__(self, handler: Any) -> None:
        self.handler, self.calls = handler, 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.handler(environ, start_response)


@pytest.fixture
def apps() -> tuple[WSGIHandler, Any, list[Counting]]:
    """The site alone, and the site behind the API-key routes as registry.wsgi composes them."""
    site = WSGIHandler()
    routes = [(accepts, Counting(handler)) for accepts, handler in api_key_routes("consent.api.hot_urls")]
    return site, fast_paths(site, routes), [handler for _, handler in routes]


def query(subject: Any, **over: Any) -> dict[str, Any]:
    return {
        "subject": subject.public_id,
        **USE,
        "date": (timezone.now().date() + timedelta(days=10)).isoformat(),
        **over,
    }


_MADE_ANEW = ("receipt", "c2pa_assertions", "token", "expires_at")


def without_receipts(value: Any) -> Any:
    """The body without what each answer makes anew: receipts, what embeds one, a token's expiry."""
    if isinstance(value, dict):
        return {k: without_receipts(v) for k, v in value.items() if k not in _MADE_ANEW}
    if isinstance(value, list):
        return [without_receipts(item) for item in value]
    return value


def assert_same(site: Answer, lean: Answer) -> None:
    assert lean.status_code == site.status_code, lean.body
    assert lean.header_list == site.header_list
    if site.headers.get("content-type", "").endswith("json"):
        assert without_receipts(lean.json()) == without_receipts(site.json())
    else:
        assert lean.body == site.body


@pytest.fixture
def bearer(key_client: Any) -> str:
    _, secret = key_client()
    return f"Bearer {secret}"


def test_a_verification_answers_alike_and_is_logged_each_time(apps, signed, bearer) -> None:
    site, app, [hot, _] = apps
    subject, _, consent = signed()
    first = call(site, "POST", "/api/v1/verifications", query(subject), authorization=bearer)
    second = call(app, "POST", "/api/v1/verifications", query(subject), authorization=bearer)
    assert hot.calls == 1
    assert first.status_code == 200
    assert first.json()["decision"] == "permitted"
    assert second.json()["consent"] == consent.public_id
    assert_same(first, second)
    assert second.json()["receipt"] != first.json()["receipt"]
    assert AccessLogEntry.objects.filter(subject=subject).count() == 2


@pytest.mark.parametrize(
    ("method", "path", "body", "extra"),
    [
        ("POST", "/api/v1/verifications", {"subject": "sub_x"}, {}),  # 400, the serializer's errors
        ("POST", "/api/v1/verifications", {**USE, "subject": 7, "date": "2026-13-01"}, {"accept_language": "id"}),
        ("POST", "/api/v1/verifications/bulk", {"queries": []}, {}),
        ("POST", "/api/v1/consent-tokens", {"subject": "sub_x"}, {"accept_language": "id"}),
        ("GET", "/api/v1/verifications", None, {}),  # 405 with Allow
        ("POST", "/api/v1/verifications/", {}, {}),  # not a hot path: the other lean route
        ("GET", "/api/v1/organizations", None, {"accept_language": "id"}),
        ("GET", "/api/v1/organizations/org_nope", None, {"accept_language": "id"}),  # 404 problem, in Indonesian
        ("GET", "/api/v1/nothing-here", None, {}),
    ],
)
def test_refusals_and_other_calls_answer_alike(apps, bearer, method, path, body, extra) -> None:
    site, app, handlers = apps
    assert_same(
        call(site, method, path, body, authorization=bearer, **extra),
        call(app, method, path, body, authorization=bearer, **extra),
    )
    assert sum(handler.calls for handler in handlers) == 1


def test_a_bulk_check_and_a_consent_token_answer_alike(apps, signed, bearer) -> None:
    site, app, [hot, _] = apps
    subject, _, _ = signed()
    bulk = {
        "queries": [query(subject), query(subject, purpose="advertising"), {**query(subject), "subject": "sub_nobody"}]
    }
    assert_same(
        call(site, "POST", "/api/v1/verifications/bulk", bulk, authorization=bearer),
        call(app, "POST", "/api/v1/verifications/bulk", bulk, authorization=bearer),
    )
    site_token = call(site, "POST", "/api/v1/consent-tokens", query(subject), authorization=bearer)
    lean_token = call(app, "POST", "/api/v1/consent-tokens", query(subject), authorization=bearer)
    assert site_token.status_code == 201
    assert lean_token.json()["token"]
    assert_same(site_token, lean_token)
    assert hot.calls == 2


def test_a_revoked_or_malformed_key_is_refused_alike(apps, signed, bearer) -> None:
    site, app, _ = apps
    subject, _, _ = signed()
    ApiKey.objects.update(revoked_at=timezone.now())
    for authorization in (bearer, "Bearer not-a-key", "bearer restu_00000000_nope"):
        refused = call(app, "POST", "/api/v1/verifications", query(subject), authorization=authorization)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert_same(call(site, "POST", "/api/v1/verifications", query(subject), authorization=authorization), refused)
    assert not AccessLogEntry.objects.exists()


def test_a_bearer_call_with_a_browser_session_neither_reads_nor_sets_a_cookie(
    apps, signed, bearer, user, client
) -> None:
    _, app, [hot, _] = apps
    client.force_login(user)
    subject, _, _ = signed()
    answer = call(
        app,
        "POST",
        "/api/v1/verifications",
        query(subject),
        authorization=bearer,
        cookie=f"sessionid={client.cookies['sessionid'].value}",
    )
    assert answer.status_code == 200
    assert hot.calls == 1
    assert "set-cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("vary", "")
    assert answer.headers["content-language"] == "en"


def test_calls_without_an_api_key_still_take_the_whole_site(apps, signed, user, client) -> None:
    site, app, handlers = apps
    subject, _, _ = signed()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    for method, path, body, headers in (
        ("POST", "/api/v1/verifications", query(subject), {"cookie": cookie}),  # a person: 403, CSRF first
        ("GET", "/api/v1/organizations", None, {"authorization": "Token abc"}),
        ("GET", "/", None, {"authorization": "Bearer restu_x"}),  # a page, not the API
    ):
        whole, routed = call(site, method, path, body, **headers), call(app, method, path, body, **headers)
        # Pages carry a fresh CSRF token each time: compare what is not random.
        assert routed.status_code == whole.status_code
        assert [name for name, _ in routed.header_list] == [name for name, _ in whole.header_list]
    assert sum(handler.calls for handler in handlers) == 0


def test_the_lean_handler_keeps_the_host_check_and_the_body_limit(apps, bearer, settings) -> None:
    _, app, _ = apps
    settings.API_MAX_BODY_BYTES = 64
    too_big = call(app, "POST", "/api/v1/verifications", {"subject": "x" * 100}, authorization=bearer)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("application/problem+json")


def test_the_hot_url_conf_serves_only_its_paths_and_links_use_the_site() -> None:
    from django.test import RequestFactory
    from django.urls import reverse

    from consent.api.views import verification_fast

    handler = LeanHandler((), urlconf="consent.api.hot_urls")
    expected = {
        "/api/v1/verifications": ("verification", verification_fast.verification),
        "/api/v1/verifications/bulk": ("verification-bulk", None),
        "/api/v1/consent-tokens": ("consent-token", verification_fast.consent_token),
    }
    for path, (name, func) in expected.items():
        match = handler.resolve_request(RequestFactory().post(path))
        assert match.url_name == name
        assert func is None or match.func is func
    # Answering on the small URL conf never changes what reverse() builds elsewhere.
    assert reverse("verification") == "/api/v1/verifications"
    assert reverse("organization-list") == "/api/v1/organizations"


# --- A single verification without DRF's dispatch (consent/api/views/verification_fast.py) ---------


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests the fast view handed to ``VerificationView``."""
    from consent.api.views import verification_fast

    handed: list[str] = []
    for served in (verification_fast.verification, verification_fast.consent_token):

        def counting(request: Any, drf_view: Any = served.drf_view) -> Any:
            handed.append(request.path)
            return drf_view(request)

        monkeypatch.setattr(served, "drf_view", counting)
    return handed


def test_a_well_formed_check_is_answered_without_drf(apps, signed, bearer, deferred) -> None:
    _, app, _ = apps
    subject, _, consent = signed()
    for body in (query(subject), query(subject, production=None, min_assurance="self_asserted", territory="id")):
        answer = call(app, "POST", "/api/v1/verifications", body, authorization=bearer)
        assert answer.status_code == 200
        assert answer.json()["consent"] == consent.public_id
    assert deferred == []
    assert AccessLogEntry.objects.filter(subject=subject).count() == 2


@pytest.mark.parametrize(
    ("body", "options"),
    [
        (None, {"content_type": "text/plain"}),  # 415 from DRF's parsers
        (None, {"accept": "text/html"}),  # 406 from DRF's negotiation
        (None, {"query": "format=json"}),
        ("utf-16", {}),  # DRF reads UTF-8 only
        ("unknown field", {}),
        ("not json", {}),
        ("a list", {}),
        ("padded subject", {}),  # the serializer would strip it: its answer, not ours
    ],
)
def test_every_other_request_is_answered_by_drf_as_before(apps, signed, bearer, deferred, body, options) -> None:
    site, app, _ = apps
    subject, _, _ = signed()
    well_formed = query(subject)
    raw: Any = {
        None: well_formed,
        "utf-16": json.dumps(well_formed).encode("utf-16"),
        "unknown field": {**well_formed, "grantee": "org_x"},
        "not json": b"{'subject':",
        "a list": [well_formed],
        "padded subject": {**well_formed, "subject": f" {subject.public_id} "},
    }[body]
    before = AccessLogEntry.objects.count()
    fast = call(app, "POST", "/api/v1/verifications", raw, authorization=bearer, **options)
    assert deferred == ["/api/v1/verifications"]
    assert_same(call(site, "POST", "/api/v1/verifications", raw, authorization=bearer, **options), fast)
    assert AccessLogEntry.objects.count() - before == (2 if fast.status_code == 200 else 0)


def test_a_throttle_refusal_is_drfs_and_the_budget_holds(apps, signed, bearer, deferred, settings) -> None:
    _, app, _ = apps
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "2/min"},
    }
    subject, _, _ = signed()
    answers = [call(app, "POST", "/api/v1/verifications", query(subject), authorization=bearer) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 429, 429]
    assert deferred == ["/api/v1/verifications"] * 2
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert int(answers[2].headers["retry-after"]) in range(1, 61)
    assert AccessLogEntry.objects.filter(subject=subject).count() == 2


def test_a_database_outage_is_a_503_as_through_drf(apps, signed, bearer, monkeypatch) -> None:
    from django.db import OperationalError

    from consent.api.views import verification as drf_module
    from consent.api.views import verification_fast

    site, app, _ = apps
    subject, _, _ = signed()

    def unavailable(**_: Any) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(verification_fast, "verification_run", unavailable)
    monkeypatch.setattr(verification_fast, "consent_token_issue", unavailable)
    monkeypatch.setattr(drf_module, "verification_run", unavailable)
    monkeypatch.setattr(drf_module, "consent_token_issue", unavailable)
    for path in ("/api/v1/verifications", "/api/v1/consent-tokens"):
        fast = call(app, "POST", path, query(subject), authorization=bearer)
        assert fast.status_code == 503
        assert fast.headers["retry-after"] == "5"
        assert_same(call(site, "POST", path, query(subject), authorization=bearer), fast)


def test_a_consent_token_is_answered_without_drf_refusals_included(apps, signed, bearer, deferred, org) -> None:
    site, app, _ = apps
    subject, _, consent = signed()
    issued = call(app, "POST", "/api/v1/consent-tokens", query(subject), authorization=bearer)
    assert issued.status_code == 201
    assert issued.json()["consent"] == consent.public_id
    named = call(
        app, "POST", "/api/v1/consent-tokens", {**query(subject), "grantee": org.public_id}, authorization=bearer
    )
    assert named.status_code == 201
    # Not permitted: the refusal is logged by the service, then answered as DRF's handler would.
    refused = call(app, "POST", "/api/v1/consent-tokens", query(subject, purpose="advertising"), authorization=bearer)
    assert refused.status_code == 403
    assert deferred == []
    assert_same(
        call(site, "POST", "/api/v1/consent-tokens", query(subject, purpose="advertising"), authorization=bearer),
        refused,
    )
    assert AccessLogEntry.objects.filter(subject=subject, kind=AccessLogEntry.Kind.TOKEN).count() == 4


def test_a_token_for_another_grantee_is_drfs_400(apps, signed, bearer, deferred) -> None:
    site, app, _ = apps
    subject, _, _ = signed()
    body = {**query(subject), "grantee": "org_0123456789abcdefghjkmnpqrs"}
    answer = call(app, "POST", "/api/v1/consent-tokens", body, authorization=bearer)
    assert answer.status_code == 400
    assert deferred == ["/api/v1/consent-tokens"]
    assert_same(call(site, "POST", "/api/v1/consent-tokens", body, authorization=bearer), answer)
    assert not AccessLogEntry.objects.exists()


def test_the_served_application_takes_the_lean_ways_for_api_keys_only(signed, bearer, monkeypatch) -> None:
    from registry import fast_paths
    from registry.wsgi import application

    taken: list[tuple[str | None, str]] = []
    lean_call = fast_paths.LeanHandler.__call__

    def spy(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        taken.append((self.urlconf, environ["PATH_INFO"]))
        return lean_call(self, environ, start_response)

    monkeypatch.setattr(fast_paths.LeanHandler, "__call__", spy)
    subject, _, _ = signed()
    assert call(application, "POST", "/api/v1/verifications", query(subject), authorization=bearer).status_code == 200
    assert call(application, "GET", "/api/v1/organizations", authorization=bearer).status_code == 200
    call(application, "GET", "/api/v1/organizations")  # no key: the whole site
    call(application, "GET", "/health", authorization=bearer)  # not the API: the whole site
    assert taken == [("consent.api.hot_urls", "/api/v1/verifications"), (None, "/api/v1/organizations")]


@pytest.mark.parametrize(
    ("path", "authorization", "lean"),
    [
        ("/api/v1/verifications", "Bearer restu_x", True),
        ("/api/v1/organizations", "bearer restu_x", True),
        ("/api/v1/organizations", "BEARER restu_x", True),
        ("/api/v1/organizations", "Bearer", False),  # no space, no key: DRF's authenticators decide
        ("/api/v1/organizations", "Token restu_x", False),
        ("/api/v1/organizations", "", False),
        ("/apix/v1/organizations", "Bearer restu_x", False),
        ("/", "Bearer restu_x", False),
    ],
)
def test_an_api_key_call_is_a_bearer_header_under_the_api(path: str, authorization: str, lean: bool) -> None:
    from registry.fast_paths import api_key_call

    environ = {"PATH_INFO": path, **({"HTTP_AUTHORIZATION": authorization} if authorization else {})}
    assert api_key_call(environ) is lean
