"""Site-wide pages and the error handlers that keep /api/ answers in problem form."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.defaults import page_not_found, server_error

from registry.api.problems import api_or_page, problem_response

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_or_page(request):
        return problem_response(404, "There is no API resource at this address.", instance=request.path)
    return page_not_found(request, exception or Exception("not found"), template_name="404.html")


def server_failure(request: HttpRequest) -> HttpResponse:
    if api_or_page(request):
        return problem_response(500, "Something went wrong on our side; it has been logged.")
    return server_error(request, template_name="500.html")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_or_page(request):
        return problem_response(403, "You are not allowed to do this.")
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if api_or_page(request):
        return problem_response(400, "The request could not be understood.")
    return render(request, "400.html", status=400)
