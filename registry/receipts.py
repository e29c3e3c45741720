"""Signed receipts: compact JWS by the registry's receipt key, with the log position at the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from registry import keys
from registry.lib.canonical import canonical_json
from registry.lib.ids import new_public_id
from registry.lib.signing import VerificationError, verify_compact
from registry.transparency.services import TreeHead, tree_head

RECEIPT_TYPE = "restu-receipt+jws"
_CLOCK_SKEW = timedelta(minutes=5)


def receipt_sign(
    *, claims: dict[str, Any], log_index: int | None = None, typ: str = RECEIPT_TYPE, head: TreeHead | None = None
) -> str:
    """Sign ``claims`` plus ``iss``, ``iat``, ``jti`` and ``log`` (the leaf's index and the tree head:
    ``head`` when the caller read it already, else read now)."""
    from registry.lib.signing import sign_compact

    head = head if head is not None else tree_head()
    payload = {
        **claims,
        "iss": settings.REGISTRY_ISSUER,
        "iat": int(timezone.now().timestamp()),
        "jti": new_public_id("rcp"),
        "log": {"index": log_index, "tree_size": head.size, "root": _b64(head.root)},
    }
    key = keys.keyring().active(keys.RECEIPT)
    return sign_compact(canonical_json(payload), key.private_key, key.kid, typ=typ)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class ReceiptCheck:
    valid: bool
    reason: str | None = None
    kid: str | None = None
    payload: dict[str, Any] | None = None


def receipt_verify(token: str) -> ReceiptCheck:
    """Check a receipt against every receipt key the registry ever used, within its validity."""
    ring = keys.keyring()
    candidates = ring.by_purpose(keys.RECEIPT)
    try:
        verified = verify_compact(token, {"keys": [key.public_jwk() for key in candidates]})
        payload = verified.json()
    except VerificationError as exc:
        return ReceiptCheck(valid=False, reason=exc.reason if hasattr(exc, "reason") else str(exc))
    except (TypeError, ValueError):
        # A header whose members have the wrong JSON types (e.g. ``"alg": ["Ed25519"]``) makes the
        # JWS library's checks raise TypeError; that is a malformed receipt, not a server error.
        return ReceiptCheck(valid=False, reason="malformed token")
    key = next(k for k in candidates if k.kid == verified.kid)
    issued = payload.get("iat")
    if not isinstance(issued, int) or isinstance(issued, bool):
        return ReceiptCheck(valid=False, reason="receipt has no issue time", kid=verified.kid)
    try:
        issued_at = datetime.fromtimestamp(issued, UTC)
    except (OverflowError, OSError, ValueError):
        return ReceiptCheck(valid=False, reason="receipt has no valid issue time", kid=verified.kid)
    if issued_at < key.created - _CLOCK_SKEW or (key.retired is not None and issued_at > key.retired + _CLOCK_SKEW):
        return ReceiptCheck(valid=False, reason="issued outside the signing key's validity", kid=verified.kid)
    if payload.get("iss") != settings.REGISTRY_ISSUER:
        return ReceiptCheck(valid=False, reason="issued by someone else", kid=verified.kid)
    if verified.header.get("typ") != RECEIPT_TYPE:
        # Consent tokens are signed by the same key; a token must never pass as a receipt.
        return ReceiptCheck(valid=False, reason="not a receipt", kid=verified.kid)
    return ReceiptCheck(valid=True, kid=verified.kid, payload=payload)
