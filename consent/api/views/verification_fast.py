"""``POST /api/v1/verifications`` and ``/consent-tokens`` for well-formed API-key calls, without DRF's dispatch.

The check every studio makes before using a likeness is the registry's busiest call, and DRF's
machinery around it (a request wrapper, content negotiation, parser and renderer selection, four
throttle objects, a permission object, a template response) cost as much CPU as several of its SQL
statements. These views answer the common case themselves, with the same pieces and in the same
order as ``VerificationView`` and ``ConsentTokenView``: the JSON body passing the plain input check
(exactly the input the serializer takes unchanged), the API key through ``ApiKeyAuthentication``
(looked up on every call), the key's and the organization's throttles, then the service (the
access-log row committed before the answer is built), rendered by DRF's own JSON renderer with the
``Allow`` header DRF adds; an error the service raises is rendered by the API's exception handler,
as DRF would.

Whatever is not that case goes, untouched and before anything was written or counted, to the DRF
view, which answers it as always (400 with the serializer's errors, 401, 403, 405, 406, 415, …). A
throttle refusal goes there too, after these views counted the request: the counters only grow
within a window, so the refusal is the same, and a refused request was already over the budget.
Only the site's API-key route sends requests here (``consent.api.hot_urls``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from consent.api.views.verification import ConsentTokenView, VerificationView, _quick_check, quick_token_input
from consent.verification import check_from, consent_token_issue, verification_run
from registry.accounts.models import ApiKey, User
from registry.api.authentication import ApiKeyAuthentication
from registry.api.problems import PROBLEM_CONTENT_TYPE, exception_handler
from registry.api.throttling import throttle_waits

_RENDERER = JSONRenderer()
# What DRF's negotiation resolves to its JSON renderer without looking further.
_ACCEPTS_JSON = frozenset(("", "*/*", "application/json", "application/*"))


_ALLOW: dict[type[APIView], str] = {
    view: ", ".join(view().allowed_methods) for view in (VerificationView, ConsentTokenView)
}


def _rendered(view: type[APIView], body: Any, status: int, content_type: str, headers: Any = ()) -> HttpResponse:
    response = HttpResponse(_RENDERER.render(body), status=status, content_type=content_type)
    for name, value in headers:
        response[name] = value
    response["Allow"] = _ALLOW[view]  # as DRF's finalize_response adds it
    return response


def _served(view: type[APIView], answer: Callable[[HttpRequest], HttpResponse | None]) -> Callable[..., Any]:
    """A view: ``answer``'s response, or the DRF ``view``'s when ``answer`` returns None."""

    @csrf_exempt
    def served(request: HttpRequest) -> Any:
        response = answer(request)
        return served.drf_view(request) if response is None else response  # type: ignore[attr-defined]

    served.drf_view = csrf_exempt(view.as_view())  # type: ignore[attr-defined]  # an attribute, so tests can count
    return served


def _json_body(request: HttpRequest) -> Any:
    """The request's JSON body when DRF would parse it as such with its JSON renderer; else ``...``."""
    if (
        request.method != "POST"
        or request.META.get("QUERY_STRING")  # ?format= and the like: DRF's to read
        or request.content_type != "application/json"
        or (request.content_params or {}).get("charset", "utf-8").lower() not in ("utf-8", "utf8")
        or request.META.get("HTTP_ACCEPT", "") not in _ACCEPTS_JSON
    ):
        return ...
    try:
        return json.loads(request.body.decode("utf-8"))  # DRF's parser decodes UTF-8 too
    except ValueError:  # not UTF-8, or not JSON
        return ...


def _authenticated(request: HttpRequest) -> tuple[User, ApiKey] | None:
    """The valid key and its creator (set on the request as DRF names them); None when DRF must
    answer (no key, or a refused one)."""
    try:
        found = ApiKeyAuthentication().authenticate(request)  # type: ignore[arg-type]  # reads only the request's headers
    except AuthenticationFailed:
        return None
    if found is None:
        return None
    # What the throttles read of a DRF request: who is calling, and with which key.
    request.user, request.auth = found  # type: ignore[attr-defined]  # DRF's names, on the plain request
    return found


def _throttled(request: HttpRequest, view: type[APIView]) -> bool:
    """Count the call on ``view``'s throttles (as DRF would); whether any of them refuses it."""
    instance = view()
    instance.request = request  # type: ignore[assignment]  # as DRF sets it; the throttles read nothing else
    return bool(throttle_waits(instance, request))  # type: ignore[arg-type]  # the same attributes as a DRF request


def _service(view: type[APIView], request: HttpRequest, run: Callable[[], Any], status: int) -> HttpResponse:
    """``run()``'s answer with ``status``, or the problem document DRF's handler makes of its error."""
    try:
        body = run()
    except Exception as exc:
        handled = exception_handler(exc, {"request": request, "view": None})
        headers = [(name, value) for name, value in handled.items() if name.lower() != "content-type"]
        # A DRF Response keeps its content type aside until rendered.
        content_type = handled.content_type or PROBLEM_CONTENT_TYPE
        return _rendered(view, handled.data, handled.status_code, content_type, headers)
    return _rendered(view, body, status, _RENDERER.media_type)


def _verification(request: HttpRequest) -> HttpResponse | None:
    fields = _quick_check(_json_body(request))
    if fields is None:
        return None
    caller = _authenticated(request)
    if caller is None or _throttled(request, VerificationView):
        return None
    user, key = caller
    check = check_from(fields)
    return _service(
        VerificationView,
        request,
        lambda: verification_run(organization=key.organization, check=check, user=user, api_key=key),
        200,
    )


def _consent_token(request: HttpRequest) -> HttpResponse | None:
    quick = quick_token_input(_json_body(request))
    if quick is None:
        return None
    fields, grantee = quick
    caller = _authenticated(request)
    if caller is None:
        return None
    user, key = caller
    organization = key.organization
    # A key asks for tokens for its own organization only: DRF's 400, before anything is counted.
    if (grantee and grantee != organization.public_id) or _throttled(request, ConsentTokenView):
        return None
    check = check_from(fields)
    return _service(
        ConsentTokenView,
        request,
        lambda: consent_token_issue(
            check=check, audience=organization.public_id, organization=organization, user=user, api_key=key
        ),
        201,
    )


verification = _served(VerificationView, _verification)
consent_token = _served(ConsentTokenView, _consent_token)
