"""Provenance over HTTP: check a file (anyone, strictly throttled), a queued check's status, a
release's C2PA assertions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, DataAndFiles, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from consent.c2pa import release_c2pa
from consent.models import Release
from provenance import selectors, services, tasks, uploads
from provenance.api.serializers import (
    ProvenanceCheckIn,
    ProvenanceCheckOut,
    ProvenanceCheckQueuedOut,
    ProvenanceCheckStatusOut,
    ReleaseC2paOut,
)
from registry.api.caller import api_key_of
from registry.api.schema import problems
from registry.api.throttling import AnonThrottle, ApiKeyThrottle, UserThrottle
from registry.background import enqueue
from registry.errors import Conflict


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is larger than this registry checks."


class IgnoredBody(BaseParser):
    """Any body that is not multipart: left unread, so the answer is "send a file part" (400).

    Without it a signed-in browser's forged JSON POST got 415 from DRF's parser negotiation before
    the CSRF check (which reads the form) could refuse it."""

    media_type = "*/*"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles[dict[str, Any], dict[str, Any]]:
        return DataAndFiles({}, {})


class ProvenanceCheckThrottle(ScopedRateThrottle):
    """The ``provenance_check`` scope, its rate read at request time (tests and operators change it)."""

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(self.scope))
        return None if rate is None else str(rate)


def run_check(upload: uploads.CheckUploadHandler, received: uploads.CheckedFile) -> tuple[int, dict[str, Any]]:
    """Check at once, or hand a large file to a worker (202); the status code and body."""
    if (received.size or 0) > settings.REGISTRY_PROVENANCE_ASYNC_BYTES:
        check_id = services.provenance_check_queue(sha256=received.sha256)
        upload.hand_over(received.path)
        if enqueue(tasks.provenance_check_file.delay, check_id, received.path, received.sha256, what="a file check"):
            return 202, {"id": check_id, "status": "pending", "sha256": received.sha256}
        # No worker reachable: better slow than lost; the file is ours to delete again.
        upload.paths.append(received.path)
    return 200, services.provenance_check(path=received.path, sha256=received.sha256)


class CheckCreate(APIView):
    """Check a media file's Content Credentials (C2PA) and the Restu consents it claims; the file
    is never stored. Files above the async threshold answer 202 with a status URL."""

    permission_classes = [AllowAny]
    parser_classes = [MultiPartParser, IgnoredBody]
    throttle_scope = "provenance_check"
    throttle_classes = [AnonThrottle, UserThrottle, ApiKeyThrottle, ProvenanceCheckThrottle]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.upload = uploads.CheckUploadHandler(request, limit=settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES)
        request.upload_handlers = [self.upload]
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            self.upload.cleanup()

    @extend_schema(
        request={"multipart/form-data": ProvenanceCheckIn},
        responses={200: ProvenanceCheckOut, 202: ProvenanceCheckQueuedOut, **problems(400, 413, 429)},
    )
    def post(self, request: Request) -> Response:
        try:
            received = request.FILES.get(uploads.FIELD)
        except SuspiciousOperation as exc:  # too many parts or fields: Django's own limits
            raise ParseError(f"The upload was refused: {exc}") from None
        if self.upload.too_large:
            raise UploadTooLarge(
                f"The file is larger than {settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES} bytes, "
                "the most this registry checks."
            )
        if not isinstance(received, uploads.CheckedFile):
            raise ParseError("Send the file as a multipart/form-data part named 'file'.")
        code, body = run_check(self.upload, received)
        if code == 202:
            body["status_url"] = request.build_absolute_uri(f"/api/v1/provenance/checks/{body['id']}")
            return Response(body, status=202, headers={"Location": body["status_url"]})
        return Response(body)


class CheckDetail(APIView):
    """A queued check: ``pending``, then ``done`` with the result (kept an hour), or ``failed``."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ProvenanceCheckStatusOut, **problems(404)})
    def get(self, request: Request, check_id: str) -> Response:
        return Response(selectors.check_status(check_id=check_id))


class ReleaseC2pa(APIView):
    """The C2PA assertions to embed for every appearance of a cleared release."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ReleaseC2paOut, **problems(403, 404, 409)})
    def get(self, request: Request, release_id: str) -> Response:
        key = api_key_of(request)
        release = selectors.release_for_caller(
            public_id=release_id,
            organization_id=key.organization_id if key else None,
            user_id=None if key else request.user.pk,
        )
        if release.status != Release.Status.CLEARED:
            raise Conflict("The release is not cleared: only a cleared release's appearances carry assertions.")
        return Response(release_c2pa(release=release))
