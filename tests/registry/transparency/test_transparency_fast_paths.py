"""The log's fast paths build the same tree as the reference code, and answer in one query.

On PostgreSQL an append is migration 0003's server-side function and on SQLite it is the Python
path; the same tests run on both (run them with DATABASE_URL=postgres://… for the function).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.merkle import leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion
from registry.transparency import selectors
from registry.transparency.models import LogEntry, LogNode, LogState
from registry.transparency.services import log_append, tree_head
from registry.transparency.tree import frontier_decode, frontier_encode, frontier_push


def _append() -> LogEntry:
    with transaction.atomic():
        return log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(16)))


@pytest.mark.django_db
def test_every_size_up_to_300_has_the_root_and_subtree_hashes_of_an_independent_computation():
    heads = []
    returned = []
    for _ in range(300):
        entry = _append()
        returned.append(bytes(entry.leaf_hash))
        heads.append(tree_head())
    leaves = [bytes(b) for b in LogEntry.objects.order_by("index").values_list("leaf", flat=True)]
    stored_leaf_hashes = [bytes(h) for h in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    # The database's leaf hash (SHA-256 of 0x00 || leaf, computed by the function on PostgreSQL)
    # is the RFC 9162 one, and the one handed back to the caller.
    expected = [leaf_hash(leaf) for leaf in leaves]
    assert stored_leaf_hashes == expected == returned
    for size, head in enumerate(heads, start=1):
        assert (head.size, head.root) == (size, root_from_leaf_hashes(expected[:size])), size
    stored = {(level, index): bytes(h) for level, index, h in LogNode.objects.values_list("level", "index", "hash")}
    wanted = {
        (level, index): root_from_leaf_hashes(expected[index << level : (index + 1) << level])
        for level in range(9)
        for index in range(300 >> level)
    }
    assert stored == wanted  # every complete subtree, each exactly once, nothing else


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2**20 - 1, 2**33 - 1, 5_000_000_001, 2**40 + 2**39 - 1])
def test_an_append_to_a_large_tree_folds_its_frontier_like_the_reference_code(size):
    # A tree this size is not built here: only its sequencer row, which is all an append reads.
    levels = [level for level in range(size.bit_length()) if size >> level & 1]
    frontier = {level: hashlib.sha256(f"subtree {level}".encode()).digest() for level in levels}
    LogState.objects.update_or_create(pk=1, defaults={"size": size, "frontier": frontier_encode(frontier)})
    entry = _append()
    assert entry.index == size
    created = frontier_push(frontier, size, leaf_hash(bytes(entry.leaf)))
    stored = {(level, index): bytes(h) for level, index, h in LogNode.objects.values_list("level", "index", "hash")}
    assert stored == {(level, index): digest for level, index, digest in created}
    state = LogState.objects.get(pk=1)
    assert state.size == size + 1
    assert frontier_decode(size + 1, bytes(state.frontier)) == frontier


@pytest.mark.django_db
def test_a_sequencer_row_that_does_not_match_its_frontier_stops_appends_and_writes_nothing():
    _append()
    _append()
    LogState.objects.filter(pk=1).update(size=3)  # a frontier of one hash belongs to size 2, not 3
    # PostgreSQL: the function raises (an InternalError); SQLite: frontier_decode's ValueError.
    with pytest.raises((DatabaseError, ValueError), match="frontier does not match"), transaction.atomic():
        log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"x"))
    assert LogEntry.objects.count() == 2
    assert LogNode.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_second_appender_waits_for_the_first_ones_commit_then_takes_the_next_index():
    _append()
    first_appended, release = threading.Event(), threading.Event()
    got: dict[str, object] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():  # the caller's transaction, still open after log_append
                got["first"] = log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"1"))
                first_appended.set()
                release.wait(timeout=20)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_appended.wait(timeout=20)
            with transaction.atomic():
                got["second"] = log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"2"))
            got["second_done"] = time.monotonic()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_appended.wait(timeout=20)
    time.sleep(0.5)
    assert "second" not in got, "an append went ahead while the log's lock was held by an open transaction"
    released = time.monotonic()
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert (got["first"].index, got["second"].index) == (1, 2)
    assert got["second_done"] >= released
    assert list(LogEntry.objects.order_by("index").values_list("index", flat=True)) == [0, 1, 2]
    assert tree_head().root == root_from_leaf_hashes(
        [bytes(h) for h in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    )


@pytest.mark.django_db
def test_an_append_on_postgresql_is_a_single_statement(django_assert_num_queries):
    _append()
    # The sequencer lock, the leaf, its subtrees and the new frontier: one round trip on
    # PostgreSQL; SQLite keeps the ORM path (lock, leaf, nodes, sequencer update).
    expected = 1 if connection.vendor == "postgresql" else 4
    with transaction.atomic(), django_assert_num_queries(expected):
        entry = log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"y"))
    assert entry.index == 1
    assert entry.pk == LogEntry.objects.get(index=1).pk


@pytest.mark.django_db
def test_proofs_and_old_roots_read_the_size_and_every_hash_in_one_query(django_assert_num_queries):
    for _ in range(37):
        _append()
    head = tree_head()
    for index, size in ((0, 37), (36, 37), (20, 33), (31, 32), (5, 6)):
        with django_assert_num_queries(1):
            proof = selectors.proof_inclusion(index=index, tree_size=size)
        root = selectors.root_at(size)
        assert verify_inclusion(index, size, proof.leaf_hash, proof.audit_path, root)
    for first, second in ((1, 37), (16, 32), (17, 37), (37, 37)):
        with django_assert_num_queries(1):
            proof = selectors.proof_consistency(first=first, second=second)
        assert verify_consistency(first, second, proof, selectors.root_at(first), selectors.root_at(second))
    with django_assert_num_queries(1):
        assert selectors.root_at(37) == head.root


@pytest.mark.django_db
@pytest.mark.parametrize("tree_size", [38, 2**62, 2**63, 10**30])
def test_proofs_beyond_the_current_size_are_refused_with_that_size(tree_size):
    for _ in range(37):
        _append()
    with pytest.raises(selectors.ProofRequestError, match="current size 37"):
        selectors.proof_inclusion(index=0, tree_size=tree_size)
    # Both wrong: the size is reported, as it was before the proofs took one query.
    with pytest.raises(selectors.ProofRequestError, match="current size 37"):
        selectors.proof_inclusion(index=tree_size, tree_size=tree_size)
    with pytest.raises(selectors.ProofRequestError, match="current size 37"):
        selectors.proof_consistency(first=1, second=tree_size)
    with pytest.raises(selectors.ProofRequestError, match="current size 37"):
        selectors.proof_consistency(first=tree_size + 1, second=tree_size)
    with pytest.raises(selectors.ProofRequestError, match="current size 37"):
        selectors.root_at(tree_size)
