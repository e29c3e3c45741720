"""RFC 9457 problem documents for every error under /api/."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from registry.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://restu.example/problems/"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_TYPES = {
    400: "bad-request",
    401: "not-authenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "throttled",
    500: "server-error",
    503: "unavailable",
}


def problem(
    status_code: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str | None = None,
    errors: dict[str, list[str]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    """The body of a problem document."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (type_ or _TYPES.get(status_code, "error")),
        "title": title or _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if instance:
        body["instance"] = instance
    return body


def problem_response(status_code: int, detail: str, **kwargs: Any) -> JsonResponse:
    """A plain Django problem response, for errors raised outside DRF views."""
    return JsonResponse(problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_CONTENT_TYPE)


# How long a client should wait before retrying while the database is unreachable: a restart or
# fail-over of PostgreSQL takes seconds, and each retry costs the server only a refused connect.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE_DETAIL = "The registry's database is unavailable for a moment; please retry shortly."


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether ``exc`` means "the database cannot be reached or dropped us", a 503 rather than a 500.

    Django raises ``OperationalError`` for a refused or broken connection (and for other transient
    conditions such as a deadlock or a lock timeout, which a retry also cures) and
    ``InterfaceError`` for a connection that was already closed. Integrity or programming errors
    are bugs and stay 500s.
    """
    return isinstance(exc, (OperationalError, InterfaceError))


def log_database_unavailable(exc: BaseException, where: str) -> None:
    # One line per request, not a traceback each: during an outage every request fails alike.
    first_line = (str(exc).strip().splitlines() or [""])[0]
    logger.error("Database unavailable (%s): %s: %s", where, type(exc).__name__, first_line)


def database_unavailable_response(instance: str | None = None) -> JsonResponse:
    """The 503 problem for a request the database could not serve, with ``Retry-After``."""
    response = problem_response(503, DATABASE_UNAVAILABLE_DETAIL, instance=instance)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"field.sub": [message, …]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = "__all__" if key == "non_field_errors" else str(key)
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(errors, list):
        if all(not isinstance(item, (dict, list)) for item in errors):
            out[prefix or "__all__"] = [str(item) for item in errors]
        else:
            for index, item in enumerate(errors):
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "__all__"] = [str(errors)]
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler, answering with problem documents (and never a traceback)."""
    request = context.get("request")
    instance = request.path if request is not None else None
    if request is not None:
        # A problem is JSON whatever the view renders otherwise (the schema view renders YAML,
        # which DRF would otherwise use for the problem too, under the problem's JSON type).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        set_rollback()
        body = problem(
            exc.status,
            exc.detail,
            title=exc.title if exc.problem_type else None,
            type_=exc.problem_type,
            errors=exc.errors,
            instance=instance,
        )
        return Response(body, status=exc.status, content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        body = problem(413, "The request body is larger than the 1 MiB limit.", instance=instance)
        return Response(body, status=413, content_type=PROBLEM_CONTENT_TYPE)

    if isinstance(exc, exceptions.APIException):
        set_rollback()
        code = exc.status_code
        if isinstance(exc, exceptions.ValidationError):
            body = problem(
                code,
                "The request has invalid fields.",
                title="Validation failed",
                type_="validation",
                errors=_flatten(exc.detail),
                instance=instance,
            )
        else:
            detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
            body = problem(code, str(detail), instance=instance)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]  # set on the exception by APIView.handle_exception
        if isinstance(exc, exceptions.Throttled):
            wait: float | None = exc.wait  # type: ignore[attr-defined]  # Throttled.__init__ sets it; DRF's stubs omit it
            if wait is not None:
                headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return Response(body, status=code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)

    if database_unavailable(exc):
        log_database_unavailable(exc, instance or "API view")
        set_rollback()
        body = problem(503, DATABASE_UNAVAILABLE_DETAIL, instance=instance)
        headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return Response(body, status=503, headers=headers, content_type=PROBLEM_CONTENT_TYPE)

    logger.exception("Unhandled error in API view", exc_info=exc)
    set_rollback()
    body = problem(
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        "Something went wrong on our side; it has been logged.",
        instance=instance,
    )
    return Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)


def api_or_page(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")
