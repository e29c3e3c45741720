"""The one canonicalizer: RFC 8785 (JCS) bytes for anything signed or hashed, plus encodings.

Floats are refused outright, not only NaN and infinities: signed documents carry integers,
strings, booleans and null, so a float can only be a mistake, and JCS's ES6 number formatting
is the part of RFC 8785 that independent verifiers (such as the ``restu-verify`` client) most
often get subtly wrong. Integers must lie within the I-JSON safe range (±(2**53 - 1)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import rfc8785

__all__ = [
    "MAX_SAFE_INTEGER",
    "CanonicalizationError",
    "b64url_decode",
    "b64url_encode",
    "canonical_json",
    "sha256_digest",
]

MAX_SAFE_INTEGER = 2**53 - 1

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class CanonicalizationError(ValueError):
    """The value cannot be turned into canonical JSON (a float, a non-string key, …)."""


def _check(value: object, path: str) -> None:
    # Walk first so the error names where the bad value is; rfc8785 would only say what.
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalizationError(f"{path}: integer outside the I-JSON safe range")
        return
    if isinstance(value, float):
        raise CanonicalizationError(f"{path}: floats are not allowed in canonical JSON")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError(f"{path}: object keys must be strings")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise CanonicalizationError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(obj: object) -> bytes:
    """RFC 8785 canonical JSON of ``obj`` as UTF-8 bytes; raises :class:`CanonicalizationError`."""
    _check(obj, "$")
    try:
        # _check proved obj is a JSON value; rfc8785's own type is narrower than Mapping.
        return rfc8785.dumps(cast(Any, obj))
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:
        # For example a lone surrogate in a string, which has no UTF-8 encoding.
        raise CanonicalizationError(f"$: {exc}") from exc


def sha256_digest(data: bytes) -> str:
    """``"sha256:<lower-case hex>"`` of ``data``, the digest format used across the API."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url_encode`: no padding, no whitespace, canonical bits only.

    Raises ValueError for anything else, so one byte string has exactly one accepted encoding.
    """
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("invalid base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("invalid base64url: non-canonical trailing bits")
    return data
