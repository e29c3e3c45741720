"""``POST /api/v1/verifications`` for a well-formed API-key call, without DRF's dispatch.

The check every studio makes before using a likeness is the registry's busiest call, and DRF's
machinery around it (a request wrapper, content negotiation, parser and renderer selection, four
throttle objects, a permission object, a template response) cost as much CPU as several of its SQL
statements. This view answers the common case itself, with the same pieces and in the same order
as ``VerificationView``: the JSON body passing ``_quick_check`` (exactly the input the serializer
takes unchanged), the API key through ``ApiKeyAuthentication`` (looked up on every call), the key's
and the organization's throttles, then ``verification_run`` (access-log row committed before the
answer is built), rendered by DRF's own JSON renderer with the ``Allow`` header DRF adds.

Whatever is not that case goes, untouched and before anything was written or counted, to
``VerificationView``, which answers it as always (400 with the serializer's errors, 401, 403, 405,
406, 415, …). A throttle refusal goes there too, after this view counted the request: the
counters only grow within a window, so the refusal is the same, and a refused request was already
over the budget. Only the site's API-key route sends requests here (``consent.api.hot_urls``).
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer

from consent.api.views.verification import VerificationView, _quick_check
from consent.verification import check_from, verification_run
from registry.api.authentication import ApiKeyAuthentication
from registry.api.problems import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_DETAIL,
    PROBLEM_CONTENT_TYPE,
    database_unavailable,
    log_database_unavailable,
    problem,
)
from registry.api.throttling import throttle_waits

_DRF_VIEW = csrf_exempt(VerificationView.as_view())
_RENDERER = JSONRenderer()
_ALLOW = ", ".join(VerificationView().allowed_methods)
# What DRF's negotiation resolves to its JSON renderer without looking further.
_ACCEPTS_JSON = frozenset(("", "*/*", "application/json", "application/*"))


@csrf_exempt
def verification(request: HttpRequest) -> HttpResponse:
    """The answer for a well-formed API-key call; any other request, as ``VerificationView`` answers it."""
    answer = _answer(request)
    return _DRF_VIEW(request) if answer is None else answer


def _answer(request: HttpRequest) -> HttpResponse | None:
    if (
        request.method != "POST"
        or request.META.get("QUERY_STRING")  # ?format= and the like: DRF's to read
        or request.content_type != "application/json"
        or (request.content_params or {}).get("charset", "utf-8").lower() not in ("utf-8", "utf8")
        or request.META.get("HTTP_ACCEPT", "") not in _ACCEPTS_JSON
    ):
        return None
    try:
        data = json.loads(request.body.decode("utf-8"))  # DRF's parser decodes UTF-8 too
    except ValueError:  # not UTF-8, or not JSON
        return None
    fields = _quick_check(data)
    if fields is None:
        return None
    try:
        found = ApiKeyAuthentication().authenticate(request)  # type: ignore[arg-type]  # reads only the request's headers
    except AuthenticationFailed:
        return None
    if found is None:
        return None
    user, key = found
    # What the throttles read of a DRF request: who is calling, and with which key.
    request.user, request.auth = user, key  # type: ignore[attr-defined]  # DRF's names, on the plain request
    view = VerificationView()
    view.request = request  # type: ignore[assignment]  # as DRF sets it; the throttles read nothing else
    if throttle_waits(view, request):  # type: ignore[arg-type]  # the same attributes as a DRF request
        return None
    try:
        body = verification_run(organization=key.organization, check=check_from(fields), user=user, api_key=key)
    except Exception as exc:
        if not database_unavailable(exc):
            raise  # a bug: Django logs it and the API's middleware answers a 500 problem document
        # Nothing was written: the access-log row is the last statement before the answer.
        log_database_unavailable(exc, request.path)
        response = HttpResponse(
            _RENDERER.render(problem(503, DATABASE_UNAVAILABLE_DETAIL, instance=request.path)),
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
        )
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        response["Allow"] = _ALLOW
        return response
    response = HttpResponse(_RENDERER.render(body), content_type=_RENDERER.media_type)
    response["Allow"] = _ALLOW
    return response
