"""RFC 8785 canonical JSON, digests and strict base64url."""

from __future__ import annotations

import json
import math

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from registry.lib.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalizationError,
    b64url_decode,
    b64url_encode,
    canonical_json,
    sha256_digest,
)


def test_keys_are_sorted_by_utf16_code_units_as_in_rfc_8785() -> None:
    # RFC 8785 §3.2.3: the emoji (a surrogate pair, 0xD83D…) sorts before U+FB33 in UTF-16
    # order although it comes after it in code point order.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_output_has_no_whitespace_and_escapes_only_what_json_requires() -> None:
    value = {"b": [1, True, None, {"z": "", "a": -5}], "a": 'quote " back \\ nl \n ctl \x1f é'}
    assert (
        canonical_json(value)
        == ('{"a":"quote \\" back \\\\ nl \\n ctl \\u001f é","b":[1,true,null,{"a":-5,"z":""}]}').encode()
    )


def test_tuples_are_arrays() -> None:
    assert canonical_json({"a": (1, 2)}) == b'{"a":[1,2]}'


@pytest.mark.parametrize("bad", [1.0, 0.5, math.nan, math.inf, -math.inf])
def test_floats_are_refused_even_integral_ones(bad: float) -> None:
    with pytest.raises(CanonicalizationError, match="floats"):
        canonical_json({"nested": [{"x": bad}]})


@pytest.mark.parametrize(
    "bad",
    [
        MAX_SAFE_INTEGER + 1,
        -MAX_SAFE_INTEGER - 1,
        {1: "non-string key"},
        b"bytes",
        {"a": {1, 2}},
        object(),
        "lone surrogate \ud800",
    ],
)
def test_values_without_a_canonical_form_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json(bad)
    assert issubclass(CanonicalizationError, ValueError)


def test_safe_integer_bounds_are_accepted() -> None:
    assert canonical_json([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == b"[9007199254740991,-9007199254740991]"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_round_trips_and_is_stable(value: object) -> None:
    encoded = canonical_json(value)
    assert json.loads(encoded) == value
    assert canonical_json(json.loads(encoded)) == encoded


# Strings and keys drawn from every plane, with the characters the two encoders could treat
# differently made likely: controls, quotes, backslashes, DEL, line separators, surrogate pairs.
_tricky_text = st.text(
    st.sampled_from(["\x00", "\x1f", "\b", "\f", "\n", "\r", "\t", '"', "\\", "/", "\x7f", "\u2028", "\ufb33"])
    | st.characters(codec="utf-8"),
    max_size=8,
)
_tricky_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | _tricky_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(_tricky_text, children, max_size=5)
    ),
    max_leaves=25,
)


@given(_tricky_values)
def test_canonical_json_is_byte_for_byte_the_rfc8785_librarys(value: object) -> None:
    # The stdlib encoder takes most values (registry.lib.canonical._check): its bytes must be the
    # reference implementation's, or every signature over them would differ from a verifier's.
    assert canonical_json(value) == rfc8785.dumps(value)


def test_a_key_beyond_the_basic_plane_still_sorts_by_utf16_among_many() -> None:
    value = {"\U0001f600": 1, "\ufb33": 2, "a": {"\U0001f600x": 3, "\uffff": 4}}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index("\ufb33".encode())


def test_a_lone_surrogate_is_refused_on_either_path() -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json({"a": "\ud800"})
    with pytest.raises(CanonicalizationError):
        canonical_json({"\U0001f600": "\ud800"})


def test_sha256_digest_format() -> None:
    assert sha256_digest(b"") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_b64url_matches_rfc_7515_example() -> None:
    # RFC 7515 Appendix C.
    assert b64url_encode(bytes([3, 236, 255, 224, 193])) == "A-z_4ME"
    assert b64url_decode("A-z_4ME") == bytes([3, 236, 255, 224, 193])


@given(st.binary(max_size=80))
def test_b64url_round_trips(data: bytes) -> None:
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert b64url_decode(encoded) == data


@pytest.mark.parametrize("bad", ["A-z_4ME=", "A+z/4ME", "A-z 4ME", "A", "AB", "A-z_4MF", "é", "\n"])
def test_b64url_decode_rejects_padding_foreign_and_non_canonical_input(bad: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(bad)
