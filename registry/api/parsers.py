"""The API's JSON parser: DRF's, refusing over-deep nesting (400) before it decodes anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]  # not in the stubs yet
from rest_framework.utils import json

from registry.lib.jsondepth import MAX_JSON_DEPTH, json_depth_exceeds, too_deep_detail


class DepthLimitedJSONParser(JSONParser):
    """``application/json`` nested at most ``MAX_JSON_DEPTH`` levels; deeper is a 400 problem.

    The depth is measured by a linear scan of the decoded text, so the recursive decoder only ever
    sees documents it can finish.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = get_encoding(parser_context or {})  # refuses non-text codecs (bz2_codec and the like)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except UnicodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(text, MAX_JSON_DEPTH):
            raise ParseError(too_deep_detail(MAX_JSON_DEPTH))
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
