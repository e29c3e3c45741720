"""The public log over HTTP (docs/api.md "Transparency log") and the C2SP tlog-tiles read paths."""

from __future__ import annotations

import base64
import re

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import keys
from registry.api.schema import problems
from registry.api.throttling import LogReadThrottle
from registry.errors import ValidationFailed
from registry.lib.signing import verifier_key_string
from registry.transparency import selectors
from registry.transparency.models import LogEntry
from registry.transparency.services import checkpoint_publish
from registry.witness import selectors as witness_selectors

MAX_ENTRIES_PER_PAGE = 1000
_B64 = serializers.ListField(child=serializers.CharField())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_param(request: Request, name: str, *, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if default is not None:
            return default
        raise ValidationFailed(
            f"The query parameter {name!r} is required.", errors={name: ["This parameter is required."]}
        )
    if not re.fullmatch(r"-?[0-9]{1,19}", raw):
        raise ValidationFailed(f"{name!r} must be a whole number.", errors={name: ["Must be a whole number."]})
    value = int(raw)
    if value < 0:
        raise ValidationFailed(f"{name!r} must not be negative.", errors={name: ["Must not be negative."]})
    return value


def _proof_error(exc: selectors.ProofRequestError, field: str) -> ValidationFailed:
    return ValidationFailed(str(exc), errors={field: [str(exc)]})


def _entry_json(entry: LogEntry) -> dict[str, object]:
    import json

    return {"index": entry.index, "leaf": json.loads(bytes(entry.leaf)), "leaf_hash": _b64(bytes(entry.leaf_hash))}


class PublicLogView(APIView):
    """Base for the log's read endpoints: anyone may read, throttled per client address."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [LogReadThrottle]


_ENTRY = inline_serializer(
    "LogEntry",
    {"index": serializers.IntegerField(), "leaf": serializers.DictField(), "leaf_hash": serializers.CharField()},
)


class CheckpointView(PublicLogView):
    """The checkpoint to rely on, as a C2SP signed note (text/plain); also the tlog-tiles path.

    With a witness policy (``REGISTRY_WITNESS_POLICY``): the newest checkpoint whose cosignatures
    meet the quorum, with every counted cosignature line after the registry's own (404 until one
    is witnessed). Without one: the newest signed checkpoint, as before.
    """

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR, **problems(404, 429)})
    def get(self, request: Request) -> HttpResponse:
        if witness_selectors.witnessing_enabled():
            witnessed = witness_selectors.newest_witnessed()
            if witnessed is None:
                raise NotFound("No checkpoint has met the witness quorum yet; see /api/v1/log/checkpoint/latest.")
            return _note_response(witnessed.note)
        return LatestCheckpointView.latest()


def _note_response(note: str) -> HttpResponse:
    response = HttpResponse(note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


class LatestCheckpointView(PublicLogView):
    """The newest signed checkpoint, witnessed or not (C2SP signed note, text/plain)."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR, **problems(429)})
    def get(self, request: Request) -> HttpResponse:
        return self.latest()

    @staticmethod
    def latest() -> HttpResponse:
        checkpoint = selectors.latest_checkpoint() or checkpoint_publish()
        if checkpoint is None:  # published by someone else in between
            checkpoint = selectors.latest_checkpoint()
        assert checkpoint is not None
        return _note_response(checkpoint.note)


class WitnessesView(PublicLogView):
    """Each witness of the policy: key, URL, last cosigned size and time, last error."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "LogWitnesses",
                {
                    "witnessing": serializers.BooleanField(),
                    "quorum_met_size": serializers.IntegerField(allow_null=True),
                    "witnesses": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **problems(429),
        }
    )
    def get(self, request: Request) -> Response:
        witnessed = witness_selectors.newest_witnessed() if witness_selectors.witnessing_enabled() else None
        return Response(
            {
                "witnessing": witness_selectors.witnessing_enabled(),
                "quorum_met_size": witnessed.size if witnessed else None,
                "witnesses": witness_selectors.witnesses_state(),
            }
        )


class TlogProofView(PublicLogView):
    """C2SP tlog-proof of leaf ``index`` against the newest witnessed checkpoint (text/plain)."""

    @extend_schema(
        parameters=[OpenApiParameter("index", int, required=True)],
        responses={(200, "text/plain"): OpenApiTypes.STR, **problems(400, 404, 429)},
    )
    def get(self, request: Request) -> HttpResponse:
        index = _int_param(request, "index")
        proof = witness_selectors.tlog_proof(index)
        if proof is None and not witness_selectors.witnessing_enabled() and index < selectors.log_size():
            # Without witnessing a signed checkpoint is all there is to wait for: sign one now
            # (as /log/checkpoint does for a fresh log) rather than make the caller retry.
            checkpoint_publish()
            proof = witness_selectors.tlog_proof(index)
        if proof is None:
            raise NotFound("No witnessed checkpoint covers that index yet.")
        response = HttpResponse(proof.format(), content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        return response


class LogKeyView(PublicLogView):
    """The checkpoint verifier key: ``<name>+<hex key hash>+<base64(0x01 ‖ public key)>``."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR, **problems(429)})
    def get(self, request: Request) -> HttpResponse:
        key = keys.keyring().active(keys.CHECKPOINT)
        return HttpResponse(
            verifier_key_string(settings.REGISTRY_LOG_ORIGIN, key.private_key.public_key()) + "\n",
            content_type="text/plain; charset=utf-8",
        )


class EntryListView(PublicLogView):
    """Leaves ``[start, end)``, at most 1,000 per page; ``next`` continues."""

    @extend_schema(
        operation_id="log_entries_list",
        parameters=[OpenApiParameter("start", int), OpenApiParameter("end", int)],
        responses={
            200: inline_serializer(
                "LogEntries",
                {
                    "entries": _ENTRY.__class__(many=True),
                    "tree_size": serializers.IntegerField(),
                    "next": serializers.CharField(allow_null=True),
                },
            ),
            **problems(400, 429),
        },
    )
    def get(self, request: Request) -> Response:
        size = selectors.log_size()
        start = _int_param(request, "start", default=0)
        end = min(_int_param(request, "end", default=size), size)
        if start > end:
            raise ValidationFailed("start must not be after end.", errors={"start": ["Must be at most end."]})
        stop = min(end, start + MAX_ENTRIES_PER_PAGE)
        entries = [_entry_json(entry) for entry in selectors.entries_between(start, stop)]
        following = None
        if stop < end:
            following = request.build_absolute_uri(f"{request.path}?start={stop}&end={end}")
        return Response({"entries": entries, "tree_size": size, "next": following})


class EntryDetailView(PublicLogView):
    """One leaf by index."""

    @extend_schema(responses={200: _ENTRY, **problems(404, 429)})
    def get(self, request: Request, index: int) -> Response:
        entry = selectors.entry_at(index)
        if entry is None:
            raise NotFound("There is no leaf at that index.")
        return Response(_entry_json(entry))


class InclusionProofView(PublicLogView):
    """RFC 9162 §2.1.3 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves."""

    @extend_schema(
        parameters=[OpenApiParameter("index", int, required=True), OpenApiParameter("tree_size", int, required=True)],
        responses={
            200: inline_serializer(
                "InclusionProof",
                {
                    "index": serializers.IntegerField(),
                    "tree_size": serializers.IntegerField(),
                    "leaf_hash": serializers.CharField(),
                    "root_hash": serializers.CharField(),
                    "audit_path": _B64,
                },
            ),
            **problems(400, 429),
        },
    )
    def get(self, request: Request) -> Response:
        index = _int_param(request, "index")
        tree_size = _int_param(request, "tree_size")
        try:
            proof = selectors.proof_inclusion(index=index, tree_size=tree_size)
        except selectors.ProofRequestError as exc:
            raise _proof_error(exc, "index" if "index" in str(exc) else "tree_size") from None
        return Response(
            {
                "index": proof.index,
                "tree_size": proof.tree_size,
                "leaf_hash": _b64(proof.leaf_hash),
                "root_hash": _b64(proof.root_hash),
                "audit_path": [_b64(h) for h in proof.audit_path],
            }
        )


class ConsistencyProofView(PublicLogView):
    """RFC 9162 §2.1.4 proof that the tree of ``first`` leaves is a prefix of the tree of ``second``."""

    @extend_schema(
        parameters=[OpenApiParameter("first", int, required=True), OpenApiParameter("second", int, required=True)],
        responses={
            200: inline_serializer(
                "ConsistencyProof",
                {"first": serializers.IntegerField(), "second": serializers.IntegerField(), "proof": _B64},
            ),
            **problems(400, 429),
        },
    )
    def get(self, request: Request) -> Response:
        first = _int_param(request, "first")
        second = _int_param(request, "second")
        try:
            proof = selectors.proof_consistency(first=first, second=second)
        except selectors.ProofRequestError as exc:
            raise _proof_error(exc, "first" if str(exc).startswith("first") else "second") from None
        return Response({"first": first, "second": second, "proof": [_b64(h) for h in proof]})


_TILE_INDEX = re.compile(r"^(?:x\d{3}/)*\d{3}$")


def parse_tile_index(path: str) -> int:
    """C2SP tlog-tiles index: groups of three digits, all but the last prefixed with ``x``."""
    if not _TILE_INDEX.match(path):
        raise ValidationFailed("Malformed tile index.", errors={"N": ["Use the tlog-tiles path form, e.g. x001/234."]})
    return int(path.replace("x", "").replace("/", ""))


def _tile_response(body: bytes, partial: bool) -> HttpResponse:
    response = HttpResponse(body, content_type="application/octet-stream")
    # A full tile never changes; a partial one is replaced by a wider one as the log grows.
    response["Cache-Control"] = "no-cache" if partial else "public, max-age=31536000, immutable"
    return response


def _width(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,3}", raw):
        raise ValidationFailed("Malformed partial width.", errors={"W": ["Must be 1 to 255."]})
    return int(raw)


class TileView(PublicLogView):
    """A hash tile: ``/tile/<L>/<N>[.p/<W>]`` (C2SP tlog-tiles)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **problems(400, 404, 429)})
    def get(self, request: Request, level: str, index_path: str, width: str | None = None) -> HttpResponse:
        if int(level) > 63:
            raise ValidationFailed("Tile level out of range.", errors={"L": ["Must be at most 63."]})
        try:
            body = selectors.tile_hashes(int(level), parse_tile_index(index_path), _width(width))
        except selectors.ProofRequestError as exc:
            raise ValidationFailed(str(exc)) from None
        except LookupError:
            raise NotFound("That tile does not exist yet.") from None
        return _tile_response(body, width is not None)


class EntryTileView(PublicLogView):
    """An entry bundle: ``/tile/entries/<N>[.p/<W>]`` (C2SP tlog-tiles)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **problems(400, 404, 429)})
    def get(self, request: Request, index_path: str, width: str | None = None) -> HttpResponse:
        try:
            body = selectors.tile_entries(parse_tile_index(index_path), _width(width))
        except selectors.ProofRequestError as exc:
            raise ValidationFailed(str(exc)) from None
        except LookupError:
            raise NotFound("That entry bundle does not exist yet.") from None
        return _tile_response(body, width is not None)
