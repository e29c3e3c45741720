"""RFC 9162 Merkle tree verification: leaf/node hashes, roots, inclusion and consistency."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class RootBuilder:
    """Streams leaf hashes in and yields the tree head at any point, in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # complete subtrees, largest first

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        width, node = 1, leaf
        while self._stack and self._stack[-1][0] == width:
            left_width, left = self._stack.pop()
            width, node = left_width + width, node_hash(left, node)
        self._stack.append((width, node))
        self.size += 1

    def root(self) -> bytes:
        """Tree head of the leaves added so far."""
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            root = node_hash(left, root)
        return root


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """Tree head of the given leaf hashes."""
    builder = RootBuilder()
    for h in hashes:
        builder.add(h)
    return builder.root()


def _ok(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not (0 <= index < size) or not _ok(leaf) or not _ok(root) or not all(_ok(p) for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(m: int, n: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (``m``, ``old_root``) a prefix of (``n``, ``new_root``)?"""
    if not (0 <= m <= n) or not _ok(old_root) or not _ok(new_root) or not all(_ok(p) for p in proof):
        return False
    if m == n:
        return not proof and hmac.compare_digest(old_root, new_root)
    if m == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not proof:
        return False
    path = [old_root, *proof] if m & (m - 1) == 0 else list(proof)
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
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
