"""``Idempotency-Key`` on creating POSTs, per the IETF httpapi draft: replay, 422, 409.

Secrets are never replayed (docs/api.md, "v1.1 — trust"): an answer that carried a secret shown once
(an API key's ``key``, a webhook's ``secret``) is stored with that field ``null`` and
``"secret_redacted": true``, so the table never holds a credential and a replay cannot hand one
to whoever holds the caller's Idempotency-Key.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.caller import caller_identity
from registry.api.models import IdempotencyRecord
from registry.errors import Conflict, Unprocessable, ValidationFailed

HEADER = "Idempotency-Key"

# Fields that carry a secret in some answers. A field a view declares secret is always redacted;
# for the others (an attestation's ``key`` is a public key id) only a value shaped like a secret
# the registry issues is: an API key (``restu_<prefix>_…``) or a Standard Webhooks secret.
SECRET_FIELDS = ("key", "secret")
_SECRET_SHAPE = re.compile(r"^(?:restu_[0-9a-f]{8}_|whsec_)")


class Replay(Exception):
    """Carries the stored first response out of ``initial()`` to be sent as is."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("replay")
        self.response = response


def idempotency_begin(request: Request) -> IdempotencyRecord | None:
    """Claim the key for this request, or raise ``Replay``/409/422; None when no key was sent."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationFailed(
            "Idempotency-Key must be 1 to 255 printable characters.",
            errors={HEADER: ["Must be 1 to 255 printable characters."]},
        )
    caller = caller_identity(request)
    digest = hashlib.sha256()
    for part in (request.method or "", request.path):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    fingerprint = digest.hexdigest()
    now = timezone.now()
    expired_before = now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    IdempotencyRecord.objects.filter(caller=caller, key=key, created__lt=expired_before).delete()
    # A claim still in flight long after any request could have ended belongs to a request that
    # died with its process or its database connection (so it could not release the key): free
    # it, or every retry with this key would get 409 for a day.
    abandoned_before = now - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS)
    IdempotencyRecord.objects.filter(
        caller=caller, key=key, state=IdempotencyRecord.State.IN_FLIGHT, created__lt=abandoned_before
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                caller=caller, key=key, method=request.method or "", path=request.path, fingerprint=fingerprint
            )
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
    if existing is None or existing.state == IdempotencyRecord.State.IN_FLIGHT:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    if existing.fingerprint != fingerprint:
        raise Unprocessable("This Idempotency-Key was already used with a different request.")
    replay = HttpResponse(
        bytes(existing.response_body or b""), status=existing.status_code, content_type=existing.content_type
    )
    replay["Idempotent-Replayed"] = "true"
    raise Replay(replay)


def without_secrets(body: bytes, content_type: str, secret_fields: tuple[str, ...] = ()) -> bytes:
    """``body`` as it may be stored: each secret field ``null`` and ``"secret_redacted": true``.

    ``secret_fields`` are the fields the view declares secret; ``key`` and ``secret`` are also
    redacted whenever their value looks like a secret the registry issues. Bodies that are not a
    JSON object, or carry no secret, are returned unchanged.
    """
    if not body or "json" not in content_type.split(";", 1)[0]:
        return body
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if not isinstance(document, dict):
        return body
    redacted = False
    for name in dict.fromkeys((*secret_fields, *SECRET_FIELDS)):
        value = document.get(name)
        if isinstance(value, str) and value and (name in secret_fields or _SECRET_SHAPE.match(value)):
            document[name] = None
            redacted = True
    if not redacted:
        return body
    document["secret_redacted"] = True
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def idempotency_finish(
    record: IdempotencyRecord, response: HttpResponseBase, *, secret_fields: tuple[str, ...] = ()
) -> None:
    """Store the first answer, without its secrets; a server error releases the key so the client may retry."""
    if response.status_code >= 500:
        record.delete()
        return
    if hasattr(response, "render"):
        response.render()
    record.state = IdempotencyRecord.State.COMPLETED
    record.status_code = response.status_code
    record.content_type = response.get("Content-Type", "application/json")
    record.response_body = without_secrets(getattr(response, "content", b""), record.content_type, secret_fields)
    record.save(update_fields=["state", "status_code", "response_body", "content_type"])


def idempotency_abandon(record: IdempotencyRecord) -> None:
    record.delete()


def purge_expired(*, now: datetime | None = None) -> int:
    """Delete records older than the time-to-live; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created__lt=cutoff).delete()
    return deleted


# Checked as an APIView (it is only ever mixed into one, before it); a plain class at run time.
if TYPE_CHECKING:
    _ViewBase = APIView
else:
    _ViewBase = object


class IdempotentPostMixin(_ViewBase):
    """For views whose POST creates something: honours ``Idempotency-Key``.

    A view whose answer shows a secret once names its field in ``idempotency_secret_fields``:
    the stored answer (and so every replay) has it ``null`` with ``"secret_redacted": true``.
    """

    idempotency_secret_fields: tuple[str, ...] = ()
    _idempotency_record: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            self._idempotency_record = idempotency_begin(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Replay):
            return exc.response  # type: ignore[return-value]  # the stored answer is sent as is; DRF's dispatch takes any HttpResponseBase
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            idempotency_finish(record, response, secret_fields=self.idempotency_secret_fields)
        return response
