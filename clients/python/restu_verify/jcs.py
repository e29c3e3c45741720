"""Just enough RFC 8785 (JCS) to recompute log leaves: no floats, by design.

Strings are serialized by :func:`json.dumps` with ``ensure_ascii=False``, which escapes
exactly what JCS escapes (``"``, ``\\``, and control characters, the short forms for
``\\b \\f \\n \\r \\t`` and lower-case ``\\u00xx`` otherwise). Keys sort by UTF-16 code units.
Integers must be within ±(2**53 - 1), as the registry enforces when it signs.
"""

from __future__ import annotations

import json

MAX_SAFE_INTEGER = 2**53 - 1


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _encode(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError("integer outside the I-JSON safe range")
        return str(value)
    if isinstance(value, float):
        raise ValueError("floats are not used in Restu log leaves")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("object keys must be strings")
        items = sorted(value.items(), key=lambda item: _utf16_key(item[0]))
        return "{" + ",".join(f"{_encode(k)}:{_encode(v)}" for k, v in items) + "}"
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: object) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value (ValueError for floats, lone surrogates)."""
    try:
        return _encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("string is not valid Unicode") from exc
