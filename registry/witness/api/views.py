"""The witness side of C2SP tlog-witness over HTTP, and the witness's verifier key.

These answers follow tlog-witness byte for byte (plain bodies, ``text/x.tlog.size`` on 409)
rather than the API's problem documents: witnesses and logs of the public witness network parse
them. docs/witnessing.md says so.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from registry.witness import services

# The API's problem middleware turns every 4xx under /api/ into a problem document; these
# protocol answers must reach the client as the specification writes them.
PROTOCOL_MARK = "restu_protocol_response"


def _protocol(request: HttpRequest, answer: services.WitnessAnswer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    response["Cache-Control"] = "no-store"
    setattr(response, PROTOCOL_MARK, True)
    if answer.status >= 400:
        # Until the middleware honours PROTOCOL_MARK, step outside its /api/ prefix check.
        request.path = "/witness-protocol" + request.path
    return response


@csrf_exempt
@require_POST
def add_checkpoint(request: HttpRequest) -> HttpResponse:
    """``POST <submission prefix>/add-checkpoint``: old size, consistency proof, checkpoint."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > services.MAX_REQUEST_BYTES:
        return _protocol(request, services.WitnessAnswer(413, "request too large\n"))
    body = request.read(services.MAX_REQUEST_BYTES + 1)
    return _protocol(request, services.add_checkpoint(body))


@never_cache
@require_GET
def witness_key(request: HttpRequest) -> HttpResponse:
    """The witness's cosigning key as a C2SP vkey (type 0x04)."""
    return HttpResponse(services.witness_verifier().vkey + "\n", content_type="text/plain; charset=utf-8")


_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")


@require_GET
def witnessed_checkpoint(request: HttpRequest, origin_hash: str) -> HttpResponse:
    """tlog-witness monitoring: the latest checkpoint cosigned for a log, by SHA-256 of its origin."""
    note = services.witnessed_checkpoint_note(origin_hash) if _ORIGIN_HASH.fullmatch(origin_hash) else None
    if note is None:
        return _protocol(request, services.WitnessAnswer(404, "no checkpoint cosigned for that log\n"))
    response = HttpResponse(note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
