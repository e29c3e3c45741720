"""The CSP of API-key calls (registry.api.middleware.ApiKeyCSPMiddleware): django-csp's headers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from registry.api.middleware import ApiKeyCSPMiddleware


def both(response_for: Any, path: str = "/api/v1/verifications") -> tuple[HttpResponse, HttpResponse]:
    """The answer through django-csp's middleware, then through ours, for the same view."""
    answers = []
    for middleware in (CSPMiddleware, ApiKeyCSPMiddleware):
        request = RequestFactory().post(path)
        answers.append(middleware(lambda request: response_for(request))(request))
    return answers[0], answers[1]


def test_a_json_answer_gets_the_same_policies() -> None:
    theirs, ours = both(lambda _: JsonResponse({"decision": "permitted"}))
    assert ours[HEADER] == theirs[HEADER]
    assert ours.get(HEADER_REPORT_ONLY) == theirs.get(HEADER_REPORT_ONLY)
    assert "default-src" in ours[HEADER]


def test_the_policies_follow_the_settings_the_handler_loaded_with(settings) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    theirs, ours = both(lambda _: JsonResponse({}, status=404))
    assert ours[HEADER] == theirs[HEADER] == "default-src 'none'"
    assert ours[HEADER_REPORT_ONLY] == theirs[HEADER_REPORT_ONLY]
    assert "img-src 'self'" in ours[HEADER_REPORT_ONLY]


def test_an_exempt_answer_a_set_header_and_an_excluded_path_are_left_alone(settings) -> None:
    def exempt(_: Any) -> HttpResponse:
        response = JsonResponse({})
        response._csp_exempt = True  # type: ignore[attr-defined]  # what csp.decorators.csp_exempt sets
        return response

    assert HEADER not in both(exempt)[1]
    preset = JsonResponse({})
    preset[HEADER] = "default-src 'self' example.org"
    assert both(lambda _: preset)[1][HEADER] == "default-src 'self' example.org"
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "EXCLUDE_URL_PREFIXES": ["/api/v1/verif"],
    }
    theirs, ours = both(lambda _: JsonResponse({}))
    assert HEADER not in theirs
    assert HEADER not in ours


@pytest.mark.parametrize("debug", [True, False])
def test_a_500_under_debug_gets_no_header_as_with_django_csp(settings, debug: bool) -> None:
    settings.DEBUG = debug
    theirs, ours = both(lambda _: JsonResponse({}, status=500))
    assert (HEADER in ours) == (HEADER in theirs) == (not debug)


def test_a_page_or_a_used_nonce_is_django_csps_own_work(settings) -> None:
    from csp.constants import NONCE

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}

    def page_with_nonce(request: Any) -> HttpResponse:
        return JsonResponse({"nonce": str(request.csp_nonce)})

    theirs, ours = both(page_with_nonce)
    # The nonce is drawn per request: the policy carries this answer's own, as django-csp's does.
    assert f"'nonce-{json.loads(ours.content)['nonce']}'" in ours[HEADER]
    assert ours[HEADER].split("'nonce-")[0] == theirs[HEADER].split("'nonce-")[0]
