"""Refuses oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from registry.api.problems import problem_response


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
        limit = settings.API_MAX_BODY_BYTES if request.path.startswith("/api/") else settings.PAGE_MAX_BODY_BYTES
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)


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
