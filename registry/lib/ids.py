"""Opaque public identifiers: a type prefix and 128 bits of randomness (``org_…``, ``key_…``)."""

from __future__ import annotations

import base64
import re
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case: no i, l, o, u
_LENGTH = 26  # 26 characters of 5 bits each: 130 bits
_SHAPE = re.compile(r"^[a-z]{2,4}_[0-9a-hjkmnp-tv-z]{26}$")
# RFC 4648 base32's 32 symbols onto ours, one to one: each character stays 5 uniform random bits.
_FROM_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode("ascii"))


def new_public_id(prefix: str) -> str:
    """A fresh unguessable id such as ``org_5c2m…``."""
    # 160 random bits as 32 base32 characters, of which the first 26 are kept: one call to the
    # system's generator instead of 26 (``secrets.choice`` per character cost ~30 µs on every receipt).
    return f"{prefix}_" + base64.b32encode(secrets.token_bytes(20))[:_LENGTH].translate(_FROM_BASE32).decode("ascii")


def looks_like_public_id(value: str, prefix: str) -> bool:
    """Whether ``value`` has the shape of an id with ``prefix`` (cheap check before a query)."""
    return value.startswith(f"{prefix}_") and bool(_SHAPE.match(value))
