"""RFC 9162 Merkle tree hashing, proofs and their verification.

Leaf hash ``SHA-256(0x00 || leaf)``, node hash ``SHA-256(0x01 || left || right)``, the hash
of the empty tree is ``SHA-256("")`` (RFC 9162 §2.1.1).

Proofs are generated from a :class:`HashSource`, which only has to answer for *complete,
aligned* subtrees: level ``k``, index ``i`` is the hash of leaves ``[i·2^k, (i+1)·2^k)``
(level 0 are the leaf hashes). Every range a proof needs is either such a subtree or the
ragged right edge of the tree, which splits into at most ``log2(n)`` of them, so generating a
proof costs O(log² n) look-ups at worst and O(log n) in the common case. A database-backed
store keeps one row per stored (level, index) hash, written as the tree grows — exactly what
:class:`MemoryTree` keeps in lists.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HashSource",
    "MemoryTree",
    "aligned_hashes_for_append",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """The largest power of two strictly smaller than ``width`` (``width`` >= 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The tree head of the given leaf hashes, computed bottom-up in O(n)."""
    if not hashes:
        return EMPTY_ROOT
    # Compact range: a stack of the complete subtrees so far, largest first. Merging on the
    # right whenever two neighbours have the same size gives RFC 9162's left-heavy shape.
    stack: list[tuple[int, bytes]] = []
    for h in hashes:
        size, node = 1, h
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, node = left_size + size, node_hash(left, node)
        stack.append((size, node))
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


class HashSource(Protocol):
    """Where proofs read hashes from: stored hashes of complete, aligned subtrees."""

    @property
    def size(self) -> int:
        """Number of leaves currently in the tree."""
        ...

    def aligned_hash(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``."""
        ...


def aligned_hashes_for_append(index: int, leaf: bytes, source: HashSource) -> list[tuple[int, int, bytes]]:
    """The ``(level, index, hash)`` entries to store when leaf ``index`` (hash ``leaf``) is appended.

    That is the leaf itself plus every parent it completes; ``source`` supplies the left
    siblings, which are already stored. At most ``log2(n) + 1`` entries and ``log2(n)`` reads.
    """
    if not _valid_hash(leaf):
        raise ValueError("a leaf hash is 32 bytes")
    entries = [(0, index, leaf)]
    level, i, node = 0, index, leaf
    # Each time a node completes a right child, its parent subtree is complete too.
    while i & 1:
        node = node_hash(source.aligned_hash(level, i - 1), node)
        level, i = level + 1, i >> 1
        entries.append((level, i, node))
    return entries


def range_hash(source: HashSource, start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)`` as RFC 9162 defines it for a tree of ``end - start`` leaves."""
    if not 0 <= start <= end <= source.size:
        raise ValueError(f"range [{start}, {end}) outside a tree of {source.size} leaves")
    width = end - start
    if width == 0:
        return EMPTY_ROOT
    if width & (width - 1) == 0 and start % width == 0:
        return source.aligned_hash(width.bit_length() - 1, start // width)
    k = _split(width)
    return node_hash(range_hash(source, start, start + k), range_hash(source, start + k, end))


def _check_size(size: int, source: HashSource) -> None:
    if size < 0 or size > source.size:
        raise ValueError(f"tree size {size} outside [0, {source.size}]")


def inclusion_proof(index: int, size: int, source: HashSource) -> list[bytes]:
    """RFC 9162 §2.1.3.1 audit path for leaf ``index`` in the tree of the first ``size`` leaves."""
    _check_size(size, source)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside [0, {size})")
    path: list[bytes] = []
    start, end = 0, size
    # PATH(m, D[n]) recurses into one half and appends the other half's hash: walk down,
    # collecting the siblings, then reverse so the path runs leaf-to-root.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(source, start + k, end))
            end = start + k
        else:
            path.append(range_hash(source, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(m: int, n: int, source: HashSource) -> list[bytes]:
    """RFC 9162 §2.1.4.1 proof that the tree of ``m`` leaves is a prefix of the tree of ``n``.

    Empty when ``m`` is 0 or equal to ``n``: those are consistent without any hashes.
    """
    _check_size(n, source)
    if not 0 <= m <= n:
        raise ValueError(f"first size {m} outside [0, {n}]")
    if m == 0 or m == n:
        return []
    proof: list[bytes] = []
    start, end, old, complete = 0, n, m, True
    # SUBPROOF(m, D[start:end], b) walked iteratively; siblings are collected top-down.
    while old != end - start:
        k = _split(end - start)
        if old <= k:
            proof.append(range_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(source, start, start + k))
            start += k
            old -= k
            complete = False
    if not complete:
        proof.append(range_hash(source, start, end))
    proof.reverse()
    return proof


def _valid_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root that ``proof`` implies for ``leaf`` at ``index`` (RFC 9162 §2.1.3.2), or None."""
    if not (0 <= index < size) or not _valid_hash(leaf):
        return None
    if not all(_valid_hash(p) for p in proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows ``leaf`` (a leaf *hash*) at ``index`` in the tree with ``root``.

    Any malformed input (index out of range, hashes of the wrong length) is simply False.
    """
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    return computed is not None and _valid_hash(root) and hmac.compare_digest(computed, root)


def verify_consistency(m: int, n: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """Whether ``proof`` shows the tree (``m``, ``old_root``) is a prefix of (``n``, ``new_root``).

    RFC 9162 §2.1.4.2, plus the cases it leaves out: ``m == n`` needs an empty proof and equal
    roots; ``m == 0`` needs an empty proof and ``old_root`` equal to the empty-tree hash.
    """
    if not (0 <= m <= n) or not _valid_hash(old_root) or not _valid_hash(new_root):
        return False
    if not all(_valid_hash(p) for p in proof):
        return False
    if m == n:
        return not proof and hmac.compare_digest(old_root, new_root)
    if m == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, old_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


class MemoryTree:
    """An append-only tree that keeps every complete aligned subtree hash, level by level.

    ``levels[0]`` holds the leaf hashes and ``levels[k][i]`` the hash of leaves
    ``[i·2^k, (i+1)·2^k)``. An append adds one leaf hash and at most ``log2(n)`` parents; the
    database store mirrors this with one row per (level, index).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_leaf_hash(h)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self.levels[0])

    def append(self, data: bytes) -> int:
        """Append a leaf's bytes; returns its index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, h: bytes) -> int:
        """Append an already hashed leaf; returns its index."""
        index = self.size
        for level, _, node in aligned_hashes_for_append(index, h, self):
            if len(self.levels) == level:
                self.levels.append([])
            self.levels[level].append(node)
        return index

    def aligned_hash(self, level: int, index: int) -> bytes:
        """Stored hash of a complete aligned subtree; ValueError if it is not complete yet."""
        if not (0 <= level < len(self.levels) and 0 <= index < len(self.levels[level])):
            raise ValueError(f"no complete subtree at level {level}, index {index}")
        return self.levels[level][index]

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        return self.aligned_hash(0, index)

    def root(self, size: int | None = None) -> bytes:
        """Tree head of the first ``size`` leaves (default: all of them)."""
        size = self.size if size is None else size
        _check_size(size, self)
        return range_hash(self, 0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path for ``index`` in the tree of ``size`` leaves (default: all)."""
        return inclusion_proof(index, self.size if size is None else size, self)

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        """Consistency proof from size ``m`` to size ``n`` (default: all)."""
        return consistency_proof(m, self.size if n is None else n, self)
