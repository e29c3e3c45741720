"""The one error type and strict base64 decoders shared by the verifier modules."""

from __future__ import annotations

import base64
import binascii
import re

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class VerificationError(ValueError):
    """Something did not verify; the message says what, in a sentence fit for a terminal."""


def b64url_decode(text: object) -> bytes:
    """Unpadded base64url, canonical encodings only."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("invalid base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != text:
        raise ValueError("invalid base64url")
    return data


def b64_decode(text: object) -> bytes:
    """Padded standard base64 (RFC 4648 §4), canonical encodings only."""
    if not isinstance(text, str):
        raise ValueError("invalid base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("invalid base64") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("invalid base64")
    return data
