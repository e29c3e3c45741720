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
