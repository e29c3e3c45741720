"""Site-wide pages and the error handlers that keep /api/ answers in problem form."""

from __future__ import annotations

import logging
import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views.defaults import page_not_found, server_error

from registry.api.problems import (
    DATABASE_RETRY_AFTER_SECONDS,
    api_or_page,
    database_unavailable,
    database_unavailable_response,
    problem_response,
)

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_or_page(request):
        return problem_response(404, "There is no API resource at this address.", instance=request.path)
    return page_not_found(request, exception or Exception("not found"), template_name="404.html")


def server_failure(request: HttpRequest) -> HttpResponse:
    # Django calls this handler inside its ``except`` block, so the exception is still at hand: an
    # unreachable database is a temporary outage (503, retry), not a fault of ours (500).
    if database_unavailable(sys.exc_info()[1]):
        return service_unavailable(request)
    if api_or_page(request):
        return problem_response(500, "Something went wrong on our side; it has been logged.")
    return server_error(request, template_name="500.html")


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 while the database is unreachable: a problem document under /api/, a plain page elsewhere.

    The page is rendered without the request's context processors (they would read the session and
    the user, from the database that is down), like Django's own 500 page.
    """
    if api_or_page(request):
        return database_unavailable_response(instance=request.path)
    body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_or_page(request):
        return problem_response(403, "You are not allowed to do this.")
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_or_page(request):
        return problem_response(400, "The request could not be understood.")
    return render(request, "400.html", status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: say so in plain words, in our own layout."""
    if api_or_page(request):
        return problem_response(403, "CSRF verification failed: send the form's token, or use an API key.")
    return render(request, "403_csrf.html", status=403)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    """A body over the limit, refused before anything reads it."""
    if api_or_page(request):
        return problem_response(413, f"The request body is larger than the limit of {limit} bytes.")
    return render(request, "413.html", {"limit_mib": limit // (1024 * 1024)}, status=413)
