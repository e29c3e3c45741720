"""Refuses oversized and over-deep request bodies before anything reads them; API answers as
problem documents; the content security policy of API-key calls."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase

from registry.api.problems import problem_response
from registry.lib.jsondepth import MAX_JSON_DEPTH, json_depth_exceeds, too_deep_detail

_UPLOAD_PATHS = frozenset({"/api/v1/provenance/checks", "/check-a-file/"})


class BodySizeLimitMiddleware:
    """413 for a request whose declared body exceeds the limit: ``API_MAX_BODY_BYTES`` under /api/,
    ``PAGE_MAX_BODY_BYTES`` for pages (Django's own limit does not count uploaded files, which it
    would otherwise write to disk in full before a form could refuse them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from registry.views import too_large

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            if request.path.startswith("/api/"):
                return problem_response(400, "The Content-Length header is not a number.")
            return HttpResponseBadRequest("The Content-Length header is not a number.")
        if request.path in _UPLOAD_PATHS:
            # "Check a file" takes media up to its own limit (streamed to disk, counted exactly by
            # its upload handler); the multipart envelope around the file gets a little room.
            limit = settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES + 64 * 1024
        elif request.path.startswith("/api/"):
            limit = settings.API_MAX_BODY_BYTES
        else:
            limit = settings.PAGE_MAX_BODY_BYTES
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)


# allauth's headless views decode every request body as JSON, whatever its declared type.
_PARSED_AS_JSON_WHATEVER_THE_TYPE = ("/_allauth/",)


def _declares_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


class JsonDepthLimitMiddleware:
    """400 problem for a JSON body nested more than ``MAX_JSON_DEPTH`` levels, before any view parses it.

    Python's JSON decoder recurses per level, so a body a thousand levels deep is a RecursionError
    (a 500) in any parser that is not ours: allauth's headless endpoints (login, sign-up…) parse
    bodies themselves. The depth is measured by a linear scan (registry.lib.jsondepth) of bodies
    that declare a JSON type, and of every body sent to the headless endpoints. The body was
    already held to its size limit by ``BodySizeLimitMiddleware``; Django keeps it for the view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
            _declares_json(request.META.get("CONTENT_TYPE", ""))
            or request.path.startswith(_PARSED_AS_JSON_WHATEVER_THE_TYPE)
        ):
            try:
                body = request.body
            except RequestDataTooBig:
                return self.get_response(request)  # the view answers 413 as it always did
            if body and json_depth_exceeds(_text(body, request.encoding), MAX_JSON_DEPTH):
                return problem_response(400, too_deep_detail(MAX_JSON_DEPTH), instance=request.path)
        return self.get_response(request)


def _text(body: bytes, encoding: str | None) -> str:
    # Brackets, quotes and backslashes are ASCII: a body in an unknown or non-text charset is
    # measured as UTF-8, with anything undecodable replaced.
    try:
        return body.decode(encoding or "utf-8")
    except (LookupError, UnicodeError, TypeError):
        return body.decode("utf-8", "replace")


class ProblemsUnderApiMiddleware:
    """Every error under /api/ is a problem document, in every mode.

    With ``DEBUG`` on, Django answers an unresolved path or an uncaught exception with its HTML
    debug page before any handler of ours is asked, and plain Django views answer 405 with an empty
    HTML body; a client that parses ``application/problem+json`` would get neither. Pages keep
    Django's debug pages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/problem+json")
            # An answer whose format a protocol specification fixes (C2SP tlog-witness).
            or getattr(response, "restu_protocol_response", False)
        ):
            return response
        problem = problem_response(
            response.status_code, _DETAILS.get(response.status_code, "The request failed."), instance=request.path
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "Vary"):
            if header in response:
                problem[header] = response[header]
        return problem


_DETAILS = {
    400: "The request could not be understood.",
    403: "You are not allowed to do this.",
    404: "There is no API resource at this address.",
    405: "This method is not allowed here; the Allow header lists the ones that are.",
    500: "Something went wrong on our side; it has been logged.",
}


# What a view can set on a response to change its policy (csp.decorators), and where.
_POLICY_CHANGES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_JSON_TYPES = ("application/json", "application/problem+json")


class ApiKeyCSPMiddleware(CSPMiddleware):
    """django-csp for the lean handler of API-key calls (registry/fast_paths.py).

    A JSON answer that changes nothing of its policy and used no nonce gets the settings' policies,
    which are the same for every such answer: they are built once, when the handler loads, instead
    of with two dataclass copies and two policy builds per call. Set under the same conditions as
    ``CSPMiddleware.process_response`` (not over a header already set, nor on an exempted answer or
    an excluded path, nor on a 404 or 500 under DEBUG). Anything else is django-csp's own work.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        super().__init__(get_response)
        self._policy = build_policy()
        self._policy_ro = build_policy(report_only=True)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or not response.get("Content-Type", "").startswith(_JSON_TYPES)
            or any(getattr(response, name, None) is not None for name in _POLICY_CHANGES)
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.NOT_FOUND):
            return response
        for header, policy, exempt, setting in (
            (HEADER, self._policy, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, self._policy_ro, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            excluded = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        return response
