"""Lean ways in for the machine calls that take most requests (witness submissions, API keys).

The site's middleware serves people in browsers: sessions, CSRF, messages, allauth, static files.
A machine call uses none of it, yet paid for all of it on every request. ``fast_paths`` wraps the
site's WSGI application: a request a route's test accepts goes to that route's ``LeanHandler``,
a Django handler with its own, shorter middleware list (and, for a handful of exact paths, its own
small URL conf); every other request goes to the site's application untouched.

Each request still passes through Django's handler: the request_started/finished signals manage
database connections as for any request, and an exception is still logged and answered 500 (a
problem document under /api/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest
from django.urls import ResolverMatch, URLPattern, get_resolver
from django.utils.module_loading import import_string

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Environ = dict[str, Any]

# Machine calls under /api/ with an API key: everything that still means something for them, in
# the site's order. Kept: security headers and the HTTPS redirect, problem documents, the body
# size and JSON depth limits, the caller's language (answers are translated, Content-Language and
# Vary say so), CSP (its policies built once) and X-Frame-Options (the same headers as through the
# site), and
# CommonMiddleware (the Host header checked against ALLOWED_HOSTS). Left out: static files,
# sessions, CSRF, the session user, messages and allauth: a Bearer call is authenticated by its
# key alone (ApiKeyAuthentication answers or refuses it; no other authenticator is asked), and
# must neither read nor keep a browser session.
API_KEY_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "registry.api.middleware.ProblemsUnderApiMiddleware",
    "registry.api.middleware.BodySizeLimitMiddleware",
    "registry.api.middleware.JsonDepthLimitMiddleware",
    "registry.api.middleware.ApiKeyCSPMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


class LeanHandler(WSGIHandler):
    """Django's WSGI handler with ``middleware`` instead of ``settings.MIDDLEWARE``.

    ``urlconf``: resolve paths against that module instead of ``ROOT_URLCONF`` (a route that
    sends only that module's exact paths here skips trying the site's hundred patterns). Links
    built while answering still use the site's URL conf.
    """

    def __init__(self, middleware: Sequence[str], urlconf: str | None = None) -> None:
        self.middleware = tuple(middleware)
        self.urlconf = urlconf
        # The urlconf's fixed paths, resolved once: Django's resolver walks its patterns on every call.
        self._fixed: dict[str, ResolverMatch] = {}
        if urlconf is not None:
            resolver = get_resolver(urlconf)
            for pattern in resolver.url_patterns:
                route = "/" + str(pattern.pattern)
                if isinstance(pattern, URLPattern) and "<" not in route:
                    self._fixed[route] = resolver.resolve(route)
        super().__init__()  # loads the middleware

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

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if self.urlconf is None:
            return super().resolve_request(request)
        # Not ``request.urlconf``: Django would make it the thread's URL conf for reverse() too.
        match = self._fixed.get(request.path_info) or get_resolver(self.urlconf).resolve(request.path_info)
        request.resolver_match = match
        return match


def api_key_call(environ: Environ) -> bool:
    """A request under /api/ carrying ``Authorization: Bearer …`` (an API key, or a refusal)."""
    authorization: str = environ.get("HTTP_AUTHORIZATION", "")
    return environ.get("PATH_INFO", "").startswith("/api/") and authorization[:7].lower() == "bearer "


Route = tuple[Callable[[Environ], bool], WSGIApp]


def api_key_routes(hot_urlconf: str) -> list[Route]:
    """API-key calls to ``hot_urlconf``'s exact paths, resolved on it alone; then every other
    API-key call, on the site's URL conf; both with ``API_KEY_MIDDLEWARE``."""
    hot_paths = frozenset("/" + str(pattern.pattern) for pattern in get_resolver(hot_urlconf).url_patterns)

    def hot(environ: Environ) -> bool:
        return environ.get("PATH_INFO") in hot_paths and api_key_call(environ)

    return [
        (hot, LeanHandler(API_KEY_MIDDLEWARE, urlconf=hot_urlconf)),
        (api_key_call, LeanHandler(API_KEY_MIDDLEWARE)),
    ]


def fast_paths(application: WSGIApp, routes: Sequence[Route]) -> WSGIApp:
    """``application``, with each request the first accepting route's test takes going to its handler."""
    chosen = tuple(routes)

    def dispatch(environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        for accepts, handler in chosen:
            if accepts(environ):
                return handler(environ, start_response)
        return application(environ, start_response)

    return dispatch
