"""RFC 9162 Merkle tree: known answers, an independent implementation, tampering."""

from __future__ import annotations

import hashlib
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from registry.lib.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    aligned_hashes_for_append,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# Known answers from transparency-dev/merkle, proof/verify_test.go (the RFC 6962 test tree
# that the certificate-transparency Go and C++ code bases share). Leaf indices here are
# 0-based; the Go file counts leaves from 1.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


CT_INCLUSION = [  # (index, size, path)
    (0, 1, []),
    (
        0,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _h(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _h(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

CT_CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (
        1,
        8,
        _h(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _h(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _h(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.fixture(scope="module")
def ct_tree() -> MemoryTree:
    tree = MemoryTree()
    for data in CT_LEAVES:
        tree.append(data)
    return tree


# --- reference implementation straight from the RFC text, over plain lists ------------


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << (len(leaves) - 1).bit_length() - 1
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = 1 << (n - 1).bit_length() - 1
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


# --- known answers ------------------------------------------------------------------------


def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_use_rfc_prefixes() -> None:
    assert leaf_hash(b"") == CT_ROOTS[0]
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_ct_test_vectors(ct_tree: MemoryTree, size: int) -> None:
    assert ct_tree.root(size) == CT_ROOTS[size - 1]
    assert root_from_leaf_hashes([leaf_hash(x) for x in CT_LEAVES[:size]]) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_the_ct_test_vectors(
    ct_tree: MemoryTree, index: int, size: int, path: list[bytes]
) -> None:
    assert ct_tree.inclusion_proof(index, size) == path
    assert verify_inclusion(index, size, leaf_hash(CT_LEAVES[index]), path, CT_ROOTS[size - 1])


@pytest.mark.parametrize(("m", "n", "proof"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_ct_test_vectors(ct_tree: MemoryTree, m: int, n: int, proof: list[bytes]) -> None:
    assert ct_tree.consistency_proof(m, n) == proof
    assert verify_consistency(m, n, proof, CT_ROOTS[m - 1], CT_ROOTS[n - 1])


def _inclusion_probes(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> list[tuple[str, int, int, bytes, list[bytes], bytes]]:
    probes = [
        ("index - 1", index - 1, size, leaf, proof, root),
        ("index + 1", index + 1, size, leaf, proof, root),
        ("index ^ 2", index ^ 2, size, leaf, proof, root),
        ("size * 2", index, size * 2, leaf, proof, root),
        ("size // 2", index, size // 2, leaf, proof, root),
        ("wrong leaf", index, size, SOME_HASH, proof, root),
        ("short leaf", index, size, b"WrongLeaf", proof, root),
        ("empty root", index, size, leaf, proof, EMPTY_ROOT),
        ("random root", index, size, leaf, proof, SOME_HASH),
        ("trailing garbage", index, size, leaf, [*proof, b""], root),
        ("trailing root", index, size, leaf, [*proof, root], root),
        ("preceding garbage", index, size, leaf, [b"", *proof], root),
        ("preceding root", index, size, leaf, [root, *proof], root),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((f"flipped bit in proof[{i}]", index, size, leaf, flipped, root))
    if proof:
        probes.append(("removed component", index, size, leaf, proof[:-1], root))
    if len(proof) > 1:
        probes.append(("inserted component", index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION[1:])
def test_tampered_inclusion_proofs_fail(index: int, size: int, path: list[bytes]) -> None:
    leaf = leaf_hash(CT_LEAVES[index])
    for desc, i, n, lh, proof, root in _inclusion_probes(index, size, leaf, path, CT_ROOTS[size - 1]):
        assert not verify_inclusion(i, n, lh, proof, root), desc


@pytest.mark.parametrize(("m", "n", "proof"), CT_CONSISTENCY[1:])
def test_tampered_consistency_proofs_fail(m: int, n: int, proof: list[bytes]) -> None:
    r1, r2 = CT_ROOTS[m - 1], CT_ROOTS[n - 1]
    probes = [
        ("m - 1", m - 1, n, r1, r2, proof),
        ("m + 1", m + 1, n, r1, r2, proof),
        ("m ^ 2", m ^ 2, n, r1, r2, proof),
        ("n * 2", m, n * 2, r1, r2, proof),
        ("n // 2", m, n // 2, r1, r2, proof),
        ("wrong old root", m, n, SOME_HASH, r2, proof),
        ("wrong new root", m, n, r1, SOME_HASH, proof),
        ("short root", m, n, b"WrongRoot", r2, proof),
        ("swapped roots", m, n, r2, r1, proof),
        ("empty proof", m, n, r1, r2, []),
        ("trailing garbage", m, n, r1, r2, [*proof, b""]),
        ("trailing old root", m, n, r1, r2, [*proof, r1]),
        ("trailing new root", m, n, r1, r2, [*proof, r2]),
        ("preceding garbage", m, n, r1, r2, [b"", *proof]),
        ("preceding old root", m, n, r1, r2, [r1, *proof]),
        ("preceding new root", m, n, r1, r2, [r2, *proof]),
        ("preceding proof[0]", m, n, r1, r2, [proof[0], *proof]),
        ("truncated", m, n, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((f"flipped bit in proof[{i}]", m, n, r1, r2, flipped))
    for desc, a, b, old, new, p in probes:
        assert not verify_consistency(a, b, p, old, new), desc


def test_single_leaf_inclusion_needs_matching_leaf_and_root() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(0, 1, h, [], h)
    assert not verify_inclusion(0, 1, h, [], b"")
    assert not verify_inclusion(0, 1, b"", [], h)
    for index, size in [(0, 0), (1, 0), (2, 1), (-1, 1)]:
        assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)


def test_trivial_consistency_cases() -> None:
    assert verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    assert verify_consistency(0, 5, [], EMPTY_ROOT, CT_ROOTS[4])
    assert verify_consistency(3, 3, [], CT_ROOTS[2], CT_ROOTS[2])
    assert not verify_consistency(3, 3, [], CT_ROOTS[2], CT_ROOTS[3])
    assert not verify_consistency(3, 3, [EMPTY_ROOT], CT_ROOTS[2], CT_ROOTS[2])
    assert not verify_consistency(0, 5, [EMPTY_ROOT], EMPTY_ROOT, CT_ROOTS[4])
    assert not verify_consistency(0, 5, [], CT_ROOTS[0], CT_ROOTS[4])
    assert not verify_consistency(2, 1, [], CT_ROOTS[1], CT_ROOTS[0])
    assert not verify_consistency(1, 2, [], CT_ROOTS[0], CT_ROOTS[1])


# --- argument checking ----------------------------------------------------------------------


def test_proof_generation_rejects_out_of_range_arguments(ct_tree: MemoryTree) -> None:
    for index, size in [(8, 8), (3, 3), (-1, 8), (0, 0), (0, 9), (0, -1)]:
        with pytest.raises(ValueError, match="outside"):
            inclusion_proof(index, size, ct_tree)
    for m, n in [(5, 4), (-1, 4), (0, 9), (9, 9), (1, -1)]:
        with pytest.raises(ValueError, match="outside"):
            consistency_proof(m, n, ct_tree)
    with pytest.raises(ValueError, match="outside"):
        ct_tree.root(9)
    with pytest.raises(ValueError, match="no complete subtree"):
        ct_tree.aligned_hash(3, 1)  # leaves 8..15 do not exist yet
    with pytest.raises(ValueError, match="32 bytes"):
        ct_tree.append_leaf_hash(b"short")


def test_memory_tree_stores_each_complete_aligned_subtree() -> None:
    leaves = [bytes([i]) for i in range(21)]
    tree = MemoryTree()
    for i, data in enumerate(leaves):
        assert tree.append(data) == i
    assert [len(level) for level in tree.levels] == [21, 10, 5, 2, 1]
    for level, hashes in enumerate(tree.levels):
        width = 1 << level
        for index, h in enumerate(hashes):
            assert h == _mth(leaves[index * width : (index + 1) * width])


class _RowStore:
    """What a database-backed log keeps: one row per (level, index) hash."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], bytes] = {}
        self.size = 0

    def aligned_hash(self, level: int, index: int) -> bytes:
        return self.rows[(level, index)]

    def append(self, data: bytes) -> None:
        for level, index, h in aligned_hashes_for_append(self.size, leaf_hash(data), self):
            assert (level, index) not in self.rows
            self.rows[(level, index)] = h
        self.size += 1


def test_a_row_store_built_with_aligned_hashes_for_append_proves_like_memory_tree() -> None:
    store, tree = _RowStore(), MemoryTree()
    for i in range(37):
        store.append(bytes([i]))
        tree.append(bytes([i]))
    assert len(store.rows) == sum(len(level) for level in tree.levels)
    assert range_hash(store, 0, 37) == tree.root()
    for index in range(37):
        assert inclusion_proof(index, 37, store) == tree.inclusion_proof(index)
    for m in range(38):
        assert consistency_proof(m, 37, store) == tree.consistency_proof(m)


class _CountingSource:
    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.calls = 0

    @property
    def size(self) -> int:
        return self.tree.size

    def aligned_hash(self, level: int, index: int) -> bytes:
        self.calls += 1
        return self.tree.aligned_hash(level, index)


def test_proofs_need_logarithmically_many_lookups() -> None:
    n = 1000
    tree = MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(n))
    bound = 2 * math.ceil(math.log2(n)) + 2
    source = _CountingSource(tree)
    for index in range(0, n, 37):
        source.calls = 0
        inclusion_proof(index, n, source)
        assert source.calls <= bound
    for m in range(1, n, 41):
        source.calls = 0
        consistency_proof(m, n, source)
        assert source.calls <= bound


# --- against pymerkle, an independent implementation -------------------------------------


def _pymerkle_tree(leaves: list[bytes]) -> InmemoryTree:
    # disable_security=False (the default) is what gives RFC 9162's 0x00/0x01 prefixes.
    tree = InmemoryTree(algorithm="sha256", disable_security=False)
    for data in leaves:
        tree.append_entry(data)
    return tree


@pytest.fixture(scope="module")
def sixty_four() -> tuple[list[bytes], MemoryTree, InmemoryTree]:
    leaves = [hashlib.sha256(i.to_bytes(2, "big")).digest()[: i % 7] for i in range(64)]
    return leaves, MemoryTree(leaf_hash(x) for x in leaves), _pymerkle_tree(leaves)


def test_every_size_up_to_64_agrees_with_pymerkle(
    sixty_four: tuple[list[bytes], MemoryTree, InmemoryTree],
) -> None:
    leaves, ours, theirs = sixty_four
    for size in range(1, 65):
        root = theirs.get_root(size)
        assert ours.root(size) == root
        for index in range(size):
            path = ours.inclusion_proof(index, size)
            # pymerkle's path starts with the leaf itself, then the same audit path.
            assert path == theirs.prove_inclusion(index + 1, size).path[1:]
            assert verify_inclusion(index, size, leaf_hash(leaves[index]), path, root)


def test_every_consistency_pair_up_to_64_verifies(
    sixty_four: tuple[list[bytes], MemoryTree, InmemoryTree],
) -> None:
    leaves, ours, theirs = sixty_four
    for n in range(1, 65):
        for m in range(1, n + 1):
            proof = ours.consistency_proof(m, n)
            assert proof == _subproof(m, leaves[:n], True)
            assert verify_consistency(m, n, proof, theirs.get_root(m), theirs.get_root(n))


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=12), min_size=1, max_size=400, unique=True),
    data=st.data(),
)
def test_random_trees_agree_with_pymerkle(leaves: list[bytes], data: st.DataObject) -> None:
    ours = MemoryTree(leaf_hash(x) for x in leaves)
    theirs = _pymerkle_tree(leaves)
    n = data.draw(st.integers(1, len(leaves)), label="n")
    m = data.draw(st.integers(1, n), label="m")
    index = data.draw(st.integers(0, n - 1), label="index")
    root_n, root_m = theirs.get_root(n), theirs.get_root(m)
    assert ours.root(n) == root_n

    leaf = leaf_hash(leaves[index])
    path = ours.inclusion_proof(index, n)
    assert path == theirs.prove_inclusion(index + 1, n).path[1:]
    assert verify_inclusion(index, n, leaf, path, root_n)
    assert not verify_inclusion(index, n, leaf, path, SOME_HASH)
    if index ^ 1 < n:  # the sibling position: leaves are unique, so this must fail
        assert not verify_inclusion(index ^ 1, n, leaf, path, root_n)
    if path:
        flipped = [*path[:-1], bytes([path[-1][0] ^ 1]) + path[-1][1:]]
        assert not verify_inclusion(index, n, leaf, flipped, root_n)
        assert not verify_inclusion(index, n, leaf, path[:-1], root_n)
    assert not verify_inclusion(index, n, leaf, [*path, SOME_HASH], root_n)

    proof = ours.consistency_proof(m, n)
    assert verify_consistency(m, n, proof, root_m, root_n)
    if proof:
        flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        assert not verify_consistency(m, n, flipped, root_m, root_n)
        assert not verify_consistency(m, n, proof[:-1], root_m, root_n)
        assert not verify_consistency(m, n, [*proof, SOME_HASH], root_m, root_n)
    if m < n:
        assert not verify_consistency(m, n, proof, root_n, root_m)
