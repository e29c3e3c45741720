"""Compact JWS receipts and consent tokens, checked against the registry's JWKS.

Only ``alg`` ``Ed25519`` (RFC 9864) and the older ``EdDSA`` are accepted, and the ``kid``
header must name exactly one Ed25519 key in the JWKS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from restu_verify._common import VerificationError, b64url_decode

ACCEPTED_ALGS = ("Ed25519", "EdDSA")


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature checked out: protected header, payload object, key id."""

    header: dict[str, Any]
    payload: dict[str, Any]
    kid: str


RECEIPT_TYPE = "restu-receipt+jws"
CONSENT_TOKEN_TYPE = "restu-consent-token+jws"  # noqa: S105 — a JWS "typ", not a secret


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError("duplicate member")
        return dict(pairs)

    try:
        value = json.loads(data, object_pairs_hook=no_duplicates)
    except ValueError as exc:
        raise VerificationError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise VerificationError(f"{what} is not a JSON object")
    return value


def _key(jwks: Mapping[str, Any] | list[Any], kid: str) -> Ed25519PublicKey:
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else jwks
    if not isinstance(keys, list):
        raise VerificationError("the JWKS has no key list")
    matches = [k for k in keys if isinstance(k, Mapping) and k.get("kid") == kid]
    if not matches:
        raise VerificationError(f"no key with kid {kid!r} in the JWKS")
    if len(matches) > 1:
        raise VerificationError(f"several keys with kid {kid!r} in the JWKS")
    jwk = matches[0]
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or jwk.get("use", "sig") != "sig":
        raise VerificationError(f"key {kid!r} is not an Ed25519 signing key")
    try:
        raw = b64url_decode(jwk.get("x"))
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise VerificationError(f"key {kid!r} is malformed") from exc


def verify_jws(token: str, jwks: Mapping[str, Any] | list[Any]) -> VerifiedToken:
    """Verify a compact JWS with a JSON-object payload; raises VerificationError."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise VerificationError("not a compact JWS (three dot-separated parts)")
    try:
        header_bytes, payload_bytes, signature = (b64url_decode(part) for part in parts)
    except ValueError as exc:
        raise VerificationError("not a compact JWS (bad base64url)") from exc
    header = _json_object(header_bytes, "JWS header")
    if header.get("alg") not in ACCEPTED_ALGS:
        raise VerificationError(f"algorithm {header.get('alg')!r} is not accepted")
    if "crit" in header or "b64" in header:
        raise VerificationError("critical header extensions are not supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise VerificationError("the JWS header has no kid")
    public_key = _key(jwks, kid)
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature as exc:
        raise VerificationError("the signature does not verify") from exc
    return VerifiedToken(header=header, payload=_json_object(payload_bytes, "payload"), kid=kid)


def verify_receipt(token: str, jwks: Mapping[str, Any] | list[Any]) -> dict[str, Any]:
    """A verification receipt's payload, once its signature checks out.

    A receipt proves the answer at the time it was given (``iat``); it does not expire. Consent
    tokens are signed by the same key, so the ``typ`` header tells the two apart.
    """
    verified = verify_jws(token, jwks)
    if verified.header.get("typ") != RECEIPT_TYPE:
        raise VerificationError("this is not a Restu receipt")
    return verified.payload


def check_validity_period(payload: Mapping[str, Any], *, now: float | None = None, leeway: int = 60) -> None:
    """Raise VerificationError unless ``now`` lies within the payload's ``nbf``/``exp`` (if any)."""
    current = time.time() if now is None else now
    exp, nbf = payload.get("exp"), payload.get("nbf")
    for name, value in (("exp", exp), ("nbf", nbf)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise VerificationError(f"{name} is not a NumericDate")
    if isinstance(exp, int) and current > exp + leeway:
        raise VerificationError("the token has expired")
    if isinstance(nbf, int) and current < nbf - leeway:
        raise VerificationError("the token is not valid yet")


def verify_consent_token(
    token: str, jwks: Mapping[str, Any] | list[Any], *, now: float | None = None, leeway: int = 60
) -> dict[str, Any]:
    """A consent token's payload, once its signature checks out and it is within ``nbf``/``exp``."""
    verified = verify_jws(token, jwks)
    if verified.header.get("typ") != CONSENT_TOKEN_TYPE:
        raise VerificationError("this is not a Restu consent token")
    payload = verified.payload
    check_validity_period(payload, now=now, leeway=leeway)
    return payload
