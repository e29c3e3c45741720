"""The Merkle tree as stored in the database: frontier arithmetic and batched hash look-ups."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from django.db import connections, router

from registry.lib.merkle import EMPTY_ROOT, HASH_SIZE, node_hash
from registry.transparency.models import LogNode

T = TypeVar("T")


def frontier_decode(size: int, blob: bytes) -> dict[int, bytes]:
    """``{level: hash}`` of the right-edge complete subtrees (one per set bit of ``size``)."""
    levels = [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
    if len(blob) != HASH_SIZE * len(levels):
        raise ValueError("the stored frontier does not match the tree size")
    return {level: bytes(blob[i * HASH_SIZE : (i + 1) * HASH_SIZE]) for i, level in enumerate(levels)}


def frontier_encode(frontier: dict[int, bytes]) -> bytes:
    return b"".join(frontier[level] for level in sorted(frontier, reverse=True))


def frontier_root(frontier: dict[int, bytes]) -> bytes:
    """The tree head: fold the right-edge subtrees from the smallest up."""
    if not frontier:
        return EMPTY_ROOT
    levels = sorted(frontier)
    root = frontier[levels[0]]
    for level in levels[1:]:
        root = node_hash(frontier[level], root)
    return root


def frontier_push(frontier: dict[int, bytes], index: int, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
    """Append leaf ``index``; return the (level, index, hash) of every subtree it completes."""
    created = [(0, index, leaf_hash)]
    level, node, position = 0, leaf_hash, index
    while position & 1:
        node = node_hash(frontier.pop(level), node)
        level += 1
        position >>= 1
        created.append((level, position, node))
    frontier[level] = node
    return created


class _Recorder:
    """A hash source that only notes which stored hashes a computation would read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.wanted: set[tuple[int, int]] = set()

    def aligned_hash(self, level: int, index: int) -> bytes:
        self.wanted.add((level, index))
        return bytes(HASH_SIZE)


class _Loaded:
    def __init__(self, size: int, hashes: dict[tuple[int, int], bytes]) -> None:
        self.size = size
        self.hashes = hashes

    def aligned_hash(self, level: int, index: int) -> bytes:
        try:
            return self.hashes[(level, index)]
        except KeyError:
            raise LookupError(f"stored hash {level}/{index} is missing") from None


def with_stored_hashes(size: int, compute: Callable[[object], T]) -> T:
    """Run ``compute(source)`` reading every stored hash it needs in one query.

    Proof shapes depend only on indices and sizes, never on hash values, so a first dry run
    learns the O(log n) coordinates and a second run uses the fetched hashes.
    """
    recorder = _Recorder(size)
    compute(recorder)
    if not recorder.wanted:
        return compute(_Loaded(size, {}))
    return compute(_Loaded(size, fetch_hashes(recorder.wanted)))


def fetch_hashes(wanted: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """``{(level, index): hash}`` of the given stored nodes, in one primary-key query.

    Raw SQL on purpose: a row-value ``IN (VALUES …)`` is one index probe per node on PostgreSQL
    and SQLite, and building the equivalent OR of ~20 Q objects through the ORM cost more time
    (several ms per proof) than the database spent answering it.
    """
    if not wanted:
        return {}
    db = router.db_for_read(LogNode)
    quote = connections[db].ops.quote_name
    table, level, index, digest = (quote(name) for name in (LogNode._meta.db_table, "level", "index", "hash"))
    pairs = sorted(wanted)
    values = ", ".join(["(%s, %s)"] * len(pairs))
    sql = f"SELECT {level}, {index}, {digest} FROM {table} WHERE ({level}, {index}) IN (VALUES {values})"  # noqa: S608 - quoted names, bound values
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [number for pair in pairs for number in pair])
        return {(row[0], row[1]): bytes(row[2]) for row in cursor.fetchall()}
