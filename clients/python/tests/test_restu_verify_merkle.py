"""RFC 9162 verification and the minimal JCS, against known answers and references."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from restu_verify.jcs import MAX_SAFE_INTEGER, canonical_json
from restu_verify.merkle import (
    EMPTY_ROOT,
    RootBuilder,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from restu_verify_fakes import mth, subproof

# transparency-dev/merkle proof/verify_test.go (the RFC 6962 test tree), 0-based indices.
LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]]
LEAVES.append(bytes.fromhex("606162636465666768696a6b6c6d6e6f"))
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
ROOT_6 = bytes.fromhex("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef")
PATH_5_OF_8 = [
    bytes.fromhex("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    bytes.fromhex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    bytes.fromhex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
]
CONSISTENCY_6_8 = [
    bytes.fromhex("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
    bytes.fromhex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    bytes.fromhex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
]


def test_known_answers() -> None:
    hashes = [leaf_hash(x) for x in LEAVES]
    assert root_from_leaf_hashes(hashes) == ROOT_8
    assert root_from_leaf_hashes(hashes[:6]) == ROOT_6
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert verify_inclusion(5, 8, hashes[5], PATH_5_OF_8, ROOT_8)
    assert verify_consistency(6, 8, CONSISTENCY_6_8, ROOT_6, ROOT_8)


def test_tampering_is_detected() -> None:
    leaf = leaf_hash(LEAVES[5])
    flipped = [bytes([PATH_5_OF_8[0][0] ^ 8]) + PATH_5_OF_8[0][1:], *PATH_5_OF_8[1:]]
    assert not verify_inclusion(5, 8, leaf, flipped, ROOT_8)
    assert not verify_inclusion(4, 8, leaf, PATH_5_OF_8, ROOT_8)
    assert not verify_inclusion(5, 8, leaf, PATH_5_OF_8[:-1], ROOT_8)
    assert not verify_inclusion(8, 8, leaf, PATH_5_OF_8, ROOT_8)
    assert not verify_consistency(6, 8, CONSISTENCY_6_8[:-1], ROOT_6, ROOT_8)
    assert not verify_consistency(6, 8, CONSISTENCY_6_8, ROOT_8, ROOT_6)
    assert not verify_consistency(5, 8, CONSISTENCY_6_8, ROOT_6, ROOT_8)
    assert not verify_consistency(8, 6, [], ROOT_8, ROOT_6)
    assert not verify_consistency(6, 8, [*CONSISTENCY_6_8, ROOT_8], ROOT_6, ROOT_8)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.binary(max_size=6), min_size=1, max_size=70, unique=True), st.data())
def test_reference_proofs_verify(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(x) for x in leaves]
    n = len(hashes)
    builder = RootBuilder()
    for i, h in enumerate(hashes):
        builder.add(h)
        assert builder.root() == mth(hashes[: i + 1])
    index = data.draw(st.integers(0, n - 1))
    path = _path(index, hashes)
    assert verify_inclusion(index, n, hashes[index], path, mth(hashes))
    m = data.draw(st.integers(1, n))
    proof = subproof(m, hashes, True)
    assert verify_consistency(m, n, proof, mth(hashes[:m]), mth(hashes))
    if proof:
        assert not verify_consistency(m, n, proof[1:], mth(hashes[:m]), mth(hashes))


def _path(index: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    if index < k:
        return [*_path(index, hashes[:k]), mth(hashes[k:])]
    return [*_path(index - k, hashes[k:]), mth(hashes[:k])]


def test_jcs_sorts_by_utf16_and_escapes_like_rfc_8785() -> None:
    value = {"\ufb33": 1, "\U0001f600": 2, "\r": [None, True, False, '\x1f"\\é'], "1": {"b": -1, "a": 0}}
    assert (
        canonical_json(value)
        == '{"\\r":[null,true,false,"\\u001f\\"\\\\é"],"1":{"a":0,"b":-1},"\U0001f600":2,"\ufb33":1}'.encode()
    )


@pytest.mark.parametrize("bad", [1.5, 1.0, float("nan"), MAX_SAFE_INTEGER + 1, {1: 2}, b"x", "\ud800"])
def test_jcs_refuses_what_the_registry_never_signs(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages
        canonical_json(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_jcs_agrees_with_the_rfc8785_package(value: object) -> None:
    rfc8785 = pytest.importorskip("rfc8785")
    assert canonical_json(value) == rfc8785.dumps(value)


def test_leaf_hash_prefix() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
