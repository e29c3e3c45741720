"""Reads of the log: entries, proofs and tiles, each costing O(log n) stored hashes at most."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from django.db.models import QuerySet

from registry.lib.merkle import HashSource, consistency_proof, inclusion_proof, range_hash
from registry.transparency.models import Checkpoint, LogEntry, LogNode
from registry.transparency.tree import current_size, with_hashes_and_size

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


class ProofRequestError(ValueError):
    """A proof or range request that cannot be answered for the current tree."""


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    audit_path: list[bytes]


def log_size() -> int:
    # No sequencer row (after a flush, before the first append) is the empty log, not an error.
    return current_size()


def entries_between(start: int, end: int) -> QuerySet[LogEntry]:
    return LogEntry.objects.filter(index__gte=start, index__lt=end).order_by("index")


def entry_at(index: int) -> LogEntry | None:
    return LogEntry.objects.filter(index=index).first()


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def proof_inclusion(*, index: int, tree_size: int) -> InclusionProof:
    if tree_size < 1:
        raise ProofRequestError(f"tree_size must be between 1 and the current size {log_size()}.")
    if index < 0 or index >= tree_size:
        size = log_size()
        if tree_size > size:  # report the size first, as it is the bigger mistake
            raise ProofRequestError(f"tree_size must be between 1 and the current size {size}.")
        raise ProofRequestError("index must be at least 0 and smaller than tree_size.")

    def compute(source: HashSource) -> tuple[list[bytes], bytes, bytes]:
        return (
            inclusion_proof(index, tree_size, source),
            range_hash(source, 0, tree_size),
            range_hash(source, index, index + 1),
        )

    # The hashes and the current size in one round trip: the proof's shape needs only tree_size.
    size, computed = with_hashes_and_size(tree_size, compute)
    if computed is None:
        raise ProofRequestError(f"tree_size must be between 1 and the current size {size}.")
    path, root, leaf = computed
    return InclusionProof(index=index, tree_size=tree_size, leaf_hash=leaf, root_hash=root, audit_path=path)


def proof_consistency(*, first: int, second: int) -> list[bytes]:
    if second < 0:
        raise ProofRequestError(f"second must be between 0 and the current size {log_size()}.")
    if first < 0 or first > second:
        size = log_size()
        if second > size:  # report the size first, as it is the bigger mistake
            raise ProofRequestError(f"second must be between 0 and the current size {size}.")
        raise ProofRequestError("first must be between 0 and second.")
    size, proof = with_hashes_and_size(second, lambda source: consistency_proof(first, second, source))
    if proof is None:
        raise ProofRequestError(f"second must be between 0 and the current size {size}.")
    return proof


def root_at(tree_size: int) -> bytes:
    if tree_size < 0:
        raise ProofRequestError(f"tree size must be between 0 and the current size {log_size()}.")
    size, root = with_hashes_and_size(tree_size, lambda source: range_hash(source, 0, tree_size))
    if root is None:
        raise ProofRequestError(f"tree size must be between 0 and the current size {size}.")
    return root


def _tile_span(level: int, index: int, width: int | None) -> tuple[int, int, int]:
    """Merkle level and [first, last) node indices of a tile; checks they all exist."""
    if level < 0 or index < 0:
        raise ProofRequestError("tile coordinates must not be negative")
    if width is not None and not 1 <= width < TILE_WIDTH:
        raise ProofRequestError(f"a partial tile's width is 1 to {TILE_WIDTH - 1}")
    count = width or TILE_WIDTH
    merkle_level = level * TILE_HEIGHT
    first = index * TILE_WIDTH
    available = log_size() >> merkle_level  # complete subtrees at that level
    if first + count > available:
        raise LookupError("that tile does not exist (yet)")
    return merkle_level, first, first + count


def tile_hashes(level: int, index: int, width: int | None) -> bytes:
    """C2SP tlog-tiles hash tile: the concatenated hashes of ``width`` (or 256) nodes."""
    merkle_level, first, last = _tile_span(level, index, width)
    rows = LogNode.objects.filter(level=merkle_level, index__gte=first, index__lt=last).order_by("index")
    return b"".join(bytes(h) for h in rows.values_list("hash", flat=True))


def tile_entries(index: int, width: int | None) -> bytes:
    """C2SP tlog-tiles entry bundle: each leaf's bytes with a big-endian uint16 length."""
    _, first, last = _tile_span(0, index, width)
    leaves = entries_between(first, last).values_list("leaf", flat=True)
    return b"".join(struct.pack(">H", len(leaf)) + bytes(leaf) for leaf in leaves)
