"""ETag and If-Match for mutable resources (412 when the client's copy is stale)."""

from __future__ import annotations

import hashlib

from rest_framework.exceptions import APIException
from rest_framework.request import Request


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = "The resource changed since you read it (If-Match does not match its ETag)."
    default_code = "precondition_failed"


def etag_for(*parts: object) -> str:
    """A strong ETag from the values that change when the resource does."""
    digest = hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def check_if_match(request: Request, current: str) -> None:
    """Raise 412 when ``If-Match`` is sent and names neither ``*`` nor the current ETag."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in candidates and current not in candidates:
        raise PreconditionFailed()
