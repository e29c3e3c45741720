"""The witness side of C2SP tlog-witness over HTTP, and the witness's verifier key.

These answers follow tlog-witness byte for byte (plain bodies, ``text/x.tlog.size`` on 409)
rather than the API's problem documents: witnesses and logs of the public witness network parse
them. docs/witnessing.md says so.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from registry.witness import services

# The API's problem middleware turns every 4xx under /api/ into a problem document; these
# protocol answers must reach the client as the specification writes them, so they carry a mark
# the middleware honours.
PROTOCOL_MARK = "restu_protocol_response"


def _protocol(request: HttpRequest, answer: services.WitnessAnswer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    response["Cache-Control"] = "no-store"
    setattr(response, PROTOCOL_MARK, True)
    return response


@method_decorator(csrf_exempt, name="dispatch")
class AddCheckpointView(View):
    """``POST <submission prefix>/add-checkpoint``: old size, consistency proof, checkpoint.

    Anyone may submit: as tlog-witness says, the only authentication is the log's signature on
    the checkpoint, checked against REGISTRY_WITNESSED_LOGS.
    """

    http_method_names = ["post", "options"]

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > services.MAX_REQUEST_BYTES:
            return _protocol(request, services.WitnessAnswer(413, "request too large\n"))
        body = request.read(services.MAX_REQUEST_BYTES + 1)
        return _protocol(request, services.add_checkpoint(body))


# No view here reads the session (nor any credential): like the DRF views of the API, they are
# exempt from the CSRF middleware, which only protects cookie-authenticated requests.
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class WitnessKeyView(View):
    """The witness's cosigning key as a C2SP vkey (type 0x04)."""

    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(services.witness_verifier().vkey + "\n", content_type="text/plain; charset=utf-8")


_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")


@method_decorator(csrf_exempt, name="dispatch")
class WitnessedCheckpointView(View):
    """tlog-witness monitoring: the latest checkpoint cosigned for a log, by SHA-256 of its origin."""

    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, origin_hash: str) -> HttpResponse:
        note = services.witnessed_checkpoint_note(origin_hash) if _ORIGIN_HASH.fullmatch(origin_hash) else None
        if note is None:
            return _protocol(request, services.WitnessAnswer(404, "no checkpoint cosigned for that log\n"))
        response = HttpResponse(note, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        return response
