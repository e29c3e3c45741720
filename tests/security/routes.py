"""The URL configuration's routes as path templates, for the tests generated from it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


def _readable(pattern: str) -> str:
    """A URL pattern as a path template: ``<str:org_id>`` and ``(?P<org_id>…)`` become ``{org_id}``."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("(?P<", i):
            name_end = pattern.index(">", i)
            out.append("{" + pattern[i + 4 : name_end] + "}")
            depth, i = 1, name_end + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(pattern[i], 0) if pattern[i - 1] != "\\" else 0
                i += 1
            continue
        out.append(pattern[i])
        i += 1
    text = "".join(out).replace("^", "").replace("$", "").replace("\\.", ".")
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)


def _walk(patterns: list[Any], prefix: str = "/") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _readable(str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            yield prefix + _readable(str(entry.pattern)), entry.callback


def all_routes() -> list[tuple[str, Any]]:
    """Every (path template, view callback) the URL configuration serves, sorted by path."""
    return sorted(_walk(get_resolver().url_patterns), key=lambda pair: pair[0])
