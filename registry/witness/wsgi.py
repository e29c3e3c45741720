"""A lean way in for ``POST /api/v1/witness/add-checkpoint``, the witness's machine endpoint.

Logs submit every checkpoint they sign, so this one endpoint takes far more requests than any
page. It reads no session, cookie, language or user and answers plain text fixed by
C2SP tlog-witness, yet the site's middleware stack (sessions, locale, CSRF, authentication,
messages, allauth, CSP, static files) ran for each request and cost about as much CPU as the
witness's own work (bench/WITNESS.md). ``witness_fast_path`` wraps the site's WSGI application:
exactly that method and path go to a Django handler with only the middleware that still means
something for it; every other request goes to the site's application untouched.

Kept, in the site's order: SecurityMiddleware (HTTPS redirect, security headers), the API's
problem documents (a 500 is still one), the body size limit, CommonMiddleware (the Host header is
checked against ALLOWED_HOSTS). The request still passes through Django's handler: the
request_started/finished signals manage database connections as for any request, and an
exception is still logged and answered 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.urls import reverse
from django.utils.module_loading import import_string

LEAN_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "registry.api.middleware.ProblemsUnderApiMiddleware",
    "registry.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LeanHandler(WSGIHandler):
    """Django's WSGI handler with ``LEAN_MIDDLEWARE`` instead of ``settings.MIDDLEWARE``."""

    middleware: tuple[str, ...] = LEAN_MIDDLEWARE

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler.load_middleware reads settings.MIDDLEWARE itself; this is its synchronous
        # half (a WSGI server is synchronous) over our own list.
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]  # absent from the stubs
        for path in reversed(self.middleware):
            try:
                instance = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


def witness_fast_path(application: WSGIApp) -> WSGIApp:
    """``application``, with ``POST`` to add-checkpoint served by a ``LeanHandler``."""
    lean = LeanHandler()
    path = reverse("witness-add-checkpoint")

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == path and environ.get("REQUEST_METHOD") == "POST":
            return lean(environ, start_response)
        return application(environ, start_response)

    return dispatch
