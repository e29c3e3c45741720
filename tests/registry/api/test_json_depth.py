"""The JSON depth limit: a linear scan, strings ignored, and DRF's parser refusing before it decodes."""

from __future__ import annotations

import io
import json
import time

import pytest
from rest_framework.exceptions import ParseError

from registry.api.parsers import DepthLimitedJSONParser
from registry.lib.jsondepth import MAX_JSON_DEPTH, json_depth_exceeds


def test_the_limit_is_64_levels():
    assert MAX_JSON_DEPTH == 64
    assert not json_depth_exceeds("[" * 64 + "]" * 64)
    assert json_depth_exceeds("[" * 65 + "]" * 65)
    assert not json_depth_exceeds('{"a":' * 64 + "1" + "}" * 64)
    assert json_depth_exceeds('{"a":' * 65 + "1" + "}" * 65)


@pytest.mark.parametrize(
    "text",
    [
        '["' + "[" * 1000 + '"]',
        '{"k": "' + "{" * 500 + '\\"' + "[" * 500 + '"}',
        '"\\\\' + '"' + "[]" * 1000,  # an escaped backslash ends the string: the pairs are shallow
        "[]" * 100_000,
    ],
)
def test_brackets_in_strings_and_side_by_side_do_not_count(text):
    assert not json_depth_exceeds(text)


@pytest.mark.parametrize(
    "text",
    [
        "]" * 100 + "[" * 100,  # closing brackets first cannot hide the nesting after them
        '"unterminated' + "[" * 10,  # all text: nothing counts
    ],
)
def test_unbalanced_text_is_measured_safely(text):
    assert json_depth_exceeds(text) is text.startswith("]")


def test_a_megabyte_of_brackets_is_measured_quickly():
    started = time.monotonic()
    assert json_depth_exceeds("[" * (1024 * 1024))
    assert not json_depth_exceeds("[]" * (512 * 1024))
    assert time.monotonic() - started < 2


def test_the_parser_refuses_deep_json_before_decoding_it():
    parser = DepthLimitedJSONParser()
    with pytest.raises(ParseError, match="64 levels"):
        parser.parse(io.BytesIO(("[" * 5000 + "]" * 5000).encode()), "application/json", {})
    with pytest.raises(ParseError, match="64 levels"):
        parser.parse(io.BytesIO(("[" * 100).encode("utf-16")), "application/json", {"encoding": "utf-16"})


def test_the_parser_still_parses_ordinary_json_and_refuses_broken_json():
    parser = DepthLimitedJSONParser()
    document = {"name": "Studio", "nested": [[{"a": [1, 2, "[[["]}]]}
    assert parser.parse(io.BytesIO(json.dumps(document).encode()), "application/json", {}) == document
    with pytest.raises(ParseError, match="JSON parse error"):
        parser.parse(io.BytesIO(b'{"name": '), "application/json", {})
    with pytest.raises(ParseError):
        parser.parse(io.BytesIO(b"{}"), "application/json", {"encoding": "bz2_codec"})
