"""How deeply a JSON text nests, found without parsing it (so without recursion).

Python's JSON decoder recurses once per level: a body nested a thousand levels deep raises
``RecursionError`` (a 500) in whatever parses it. Every JSON body is measured first with a linear
scan, which costs nothing for the usual body (fewer brackets than the limit: no scan at all) and
never recurses for a hostile one.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any document the API accepts (a guideline's clauses, a consent's terms, a DSSE
# envelope are a few levels), far below Python's recursion limit.
MAX_JSON_DEPTH = 64

# A JSON string, quotes and escapes included (an unterminated one runs to the end): brackets in
# it are text. Written as "unrolled loop" so it matches in linear time.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest more than ``limit`` levels deep.

    Brackets inside strings do not count. Text that is not JSON at all is measured the same way
    (the parser refuses it afterwards); unbalanced closing brackets never lower the count below
    zero, so they cannot hide nesting that follows them.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    depth = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def too_deep_detail(limit: int = MAX_JSON_DEPTH) -> str:
    return f"The JSON body nests arrays and objects more than {limit} levels deep."


def loads_bounded(data: str | bytes, limit: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` for text from outside: ``ValueError`` (not ``RecursionError``) when it nests
    more than ``limit`` levels, so every caller's existing ``except ValueError`` refuses it."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if json_depth_exceeds(text, limit):
        raise ValueError(f"JSON nested more than {limit} levels deep")
    return json.loads(text, **kwargs)
