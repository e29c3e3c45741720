"""Opaque public identifiers: a type prefix and 128 bits of randomness (``org_…``, ``key_…``)."""

from __future__ import annotations

import re
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case: no i, l, o, u
_LENGTH = 26  # 26 characters of 5 bits each: 130 bits
_SHAPE = re.compile(r"^[a-z]{2,4}_[0-9a-hjkmnp-tv-z]{26}$")


def new_public_id(prefix: str) -> str:
    """A fresh unguessable id such as ``org_5c2m…``."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))


def looks_like_public_id(value: str, prefix: str) -> bool:
    """Whether ``value`` has the shape of an id with ``prefix`` (cheap check before a query)."""
    return value.startswith(f"{prefix}_") and bool(_SHAPE.match(value))
