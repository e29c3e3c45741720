"""The Merkle tree as stored in the database: frontier arithmetic and batched hash look-ups."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import TypeVar

from django.db import connections, router

from registry.lib.merkle import EMPTY_ROOT, HASH_SIZE, HashSource, node_hash
from registry.transparency.models import LogNode, LogState

T = TypeVar("T")
# Sizes and indices are stored as signed 64-bit integers.
MAX_TREE_SIZE = 2**62


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


class LoadedHashes:
    """Stored hashes already read, as a ``HashSource`` (a missing one is a LookupError)."""

    def __init__(self, size: int, hashes: dict[tuple[int, int], bytes]) -> None:
        self.size = size
        self.hashes = hashes

    def aligned_hash(self, level: int, index: int) -> bytes:
        try:
            return self.hashes[(level, index)]
        except KeyError:
            raise LookupError(f"stored hash {level}/{index} is missing") from None


def with_stored_hashes(size: int, compute: Callable[[HashSource], T]) -> T:
    """Run ``compute(source)`` reading every stored hash it needs in one query.

    Proof shapes depend only on indices and sizes, never on hash values, so a first dry run
    learns the O(log n) coordinates and a second run uses the fetched hashes.
    """
    wanted = hashes_wanted(size, compute)
    return compute(LoadedHashes(size, fetch_hashes(wanted)))


def hashes_wanted(size: int, compute: Callable[[HashSource], object]) -> set[tuple[int, int]]:
    """The (level, index) of every stored hash ``compute`` reads in a tree of ``size`` leaves."""
    recorder = _Recorder(size)
    compute(recorder)
    return recorder.wanted


def with_hashes_and_size(tree_size: int, compute: Callable[[HashSource], T]) -> tuple[int, T | None]:
    """The log's current size and ``compute(source)`` over a tree of ``tree_size`` leaves, in ONE query.

    For requests that name a tree size (proofs, old roots): the hashes they need depend only on
    that size, so they are read together with the current size instead of after it, one round
    trip instead of two. ``compute`` is not run (None) when ``tree_size`` is beyond the current
    size: the caller reports that.
    """
    if tree_size > MAX_TREE_SIZE:  # beyond any real log, and beyond the database's integers
        return current_size(), None
    wanted = hashes_wanted(tree_size, compute)
    size, hashes = fetch_hashes_and_size(wanted)
    if tree_size > size:
        return size, None
    return size, compute(LoadedHashes(tree_size, hashes))


def current_size() -> int:
    """The committed log's size, from the sequencer row (0 when there is none yet, e.g. after a flush)."""
    return fetch_hashes_and_size(())[0]


@functools.lru_cache(maxsize=256)
def _fetch_sql(alias: str, count: int, with_size: bool) -> str:
    """The text of the look-up of ``count`` nodes: built once per (database, count), as a proof at
    a given size always needs about the same number of nodes."""
    quote = connections[alias].ops.quote_name
    table, level, index, digest = (quote(name) for name in (LogNode._meta.db_table, "level", "index", "hash"))
    parts = []
    if count:
        values = ", ".join(["(%s, %s)"] * count)
        parts.append(f"SELECT {level}, {index}, {digest} FROM {table} WHERE ({level}, {index}) IN (VALUES {values})")  # noqa: S608 - quoted names, bound values
    if with_size:
        # The size rides along as a row with level -1 (no stored node has a negative level).
        state = quote(LogState._meta.db_table)
        parts.append(f"SELECT -1, size, NULL FROM {state} WHERE id = 1")  # noqa: S608 - quoted names
    return " UNION ALL ".join(parts)


def fetch_hashes(wanted: Collection[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """``{(level, index): hash}`` of the given stored nodes, in one primary-key query."""
    if not wanted:
        return {}
    return fetch_hashes_and_size(wanted, with_size=False)[1]


def fetch_hashes_and_size(
    wanted: Collection[tuple[int, int]], *, with_size: bool = True
) -> tuple[int, dict[tuple[int, int], bytes]]:
    """The log's current size (0 unless ``with_size``) and ``{(level, index): hash}`` of the given
    stored nodes, in ONE query, so also from one snapshot.

    Raw SQL on purpose: a row-value ``IN (VALUES …)`` is one index probe per node on PostgreSQL
    and SQLite, and building the equivalent OR of ~20 Q objects through the ORM cost more time
    (several ms per proof) than the database spent answering it. Even a plain ORM read of the
    size cost ~0.4 ms on the bench VM, about as much as this whole query.
    """
    alias = router.db_for_read(LogNode)
    connection = connections[alias]
    pairs = sorted(wanted)
    sql = _fetch_sql(alias, len(pairs), with_size)
    hashes: dict[tuple[int, int], bytes] = {}
    size = 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [number for pair in pairs for number in pair])
        for level, index, digest in cursor.fetchall():
            if level < 0:
                size = index
            else:
                hashes[(level, index)] = bytes(digest)
    return size, hashes
