"""Refuses oversized API bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from registry.api.problems import problem_response


class BodySizeLimitMiddleware:
    """413 problem for an /api/ request whose declared body exceeds ``API_MAX_BODY_BYTES``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return problem_response(400, "The Content-Length header is not a number.")
            if length > settings.API_MAX_BODY_BYTES:
                return problem_response(
                    413, f"The request body is larger than the limit of {settings.API_MAX_BODY_BYTES} bytes."
                )
        return self.get_response(request)
