"""A lean way in for ``POST /api/v1/witness/add-checkpoint``, the witness's machine endpoint.

Logs submit every checkpoint they sign, so this one endpoint takes far more requests than any
page. It reads no session, cookie, language or user and answers plain text fixed by
C2SP tlog-witness, yet the site's middleware stack (sessions, locale, CSRF, authentication,
messages, allauth, CSP, static files) ran for each request and cost about as much CPU as the
witness's own work (bench/WITNESS.md). ``witness_route`` sends exactly that method and path
(through ``registry.fast_paths``) to a Django handler with only the middleware that still means
something for it.

Kept, in the site's order: SecurityMiddleware (HTTPS redirect, security headers), the API's
problem documents (a 500 is still one), the body size limit, CommonMiddleware (the Host header is
checked against ALLOWED_HOSTS). The request still passes through Django's handler: the
request_started/finished signals manage database connections as for any request, and an
exception is still logged and answered 500.
"""

from __future__ import annotations

from django.urls import reverse

from registry.fast_paths import Environ, LeanHandler, Route

LEAN_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "registry.api.middleware.ProblemsUnderApiMiddleware",
    "registry.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
)


def witness_route() -> Route:
    """``POST`` to add-checkpoint, to a ``LeanHandler`` with ``LEAN_MIDDLEWARE`` (for ``fast_paths``)."""
    path = reverse("witness-add-checkpoint")

    def accepts(environ: Environ) -> bool:
        return environ.get("PATH_INFO") == path and environ.get("REQUEST_METHOD") == "POST"

    return accepts, LeanHandler(LEAN_MIDDLEWARE)
