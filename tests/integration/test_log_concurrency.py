"""Several OS processes (and threads) appending at once still give a gap-free, ordered log."""

from __future__ import annotations

import io
import multiprocessing
import os
import threading
import time
from pathlib import Path
from queue import Empty

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from registry.lib.merkle import root_from_leaf_hashes

from .conftest import _database_url

# The 'spawn' children import this module before Django is set up: model imports stay inside
# the functions that run once it is.

WRITERS = 4
PER_WRITER = 50


class _Rollback(Exception):
    pass


def _append_many(count: int, tag: int) -> list[int]:
    """Append ``count`` leaves, each in its own transaction; every 5th attempt is rolled back too."""
    from registry.lib.canonical import sha256_digest
    from registry.lib.ids import new_public_id
    from registry.transparency.services import log_append

    indices: list[int] = []
    attempt = 0
    while len(indices) < count:
        attempt += 1
        doomed = attempt % 5 == 0
        try:
            with transaction.atomic():
                entry = log_append(
                    type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(f"{tag}:{attempt}".encode())
                )
                if doomed:  # the change failing after its leaf was written: no leaf may remain
                    raise _Rollback
        except _Rollback:
            continue
        indices.append(entry.index)
    return indices


def _process_writer(vendor: str, database: str, count: int, tag: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """Runs in a fresh ('spawn') interpreter: set Django up on the test database, then append."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    if vendor == "postgresql":
        os.environ["DATABASE_URL"] = database
    else:
        # Keep the project's SQLite options (IMMEDIATE transactions, busy timeout); only point
        # them at the test database file. A sqlite:/// DATABASE_URL would drop those options.
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.db import connection as child_connection

    if vendor != "postgresql":
        child_connection.settings_dict["NAME"] = database
    barrier.wait(timeout=60)
    try:
        results.put((tag, _append_many(count, tag)))
    finally:
        child_connection.close()


def _assert_log_is_whole(expected: int) -> None:
    from registry.transparency.models import LogEntry, LogNode
    from registry.transparency.services import tree_head

    indices = list(LogEntry.objects.order_by("index").values_list("index", flat=True))
    assert indices == list(range(expected)), "gaps or duplicates"
    hashes = [bytes(h) for h in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    head = tree_head()
    assert head.size == expected
    assert head.root == root_from_leaf_hashes(hashes)
    assert LogNode.objects.filter(level=0).count() == expected
    out = io.StringIO()
    call_command("verify_log", "--quiet", stdout=out, stderr=io.StringIO())
    assert f"{expected} leaves" in out.getvalue()
    assert root_from_leaf_hashes(hashes).hex() in out.getvalue()


def _check_writers(results: dict[int, list[int]]) -> None:
    assert len(results) == WRITERS
    every = []
    for indices in results.values():
        assert len(indices) == PER_WRITER
        assert indices == sorted(indices), "a writer's own appends must come out in its order"
        every.extend(indices)
    assert sorted(every) == list(range(WRITERS * PER_WRITER))


@pytest.mark.timeout(600)
def test_several_processes_append_gap_free(transactional_db):
    vendor = connection.vendor
    database = _database_url() if vendor == "postgresql" else str(Path(connection.settings_dict["NAME"]).resolve())
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    queue = ctx.Queue()
    processes = [
        ctx.Process(target=_process_writer, args=(vendor, database, PER_WRITER, tag, barrier, queue))
        for tag in range(WRITERS)
    ]
    for process in processes:
        process.start()
    results: dict[int, list[int]] = {}
    deadline = time.monotonic() + 300
    while len(results) < WRITERS:
        try:
            tag, indices = queue.get(timeout=1)
        except Empty:
            crashed = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            assert not crashed, f"a writer process failed: exit codes {crashed}"
            assert time.monotonic() < deadline, "writers did not finish in time"
            continue
        results[tag] = indices
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    _check_writers(results)
    _assert_log_is_whole(WRITERS * PER_WRITER)


@pytest.mark.timeout(600)
def test_several_threads_append_gap_free(transactional_db):
    barrier = threading.Barrier(WRITERS)
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def writer(tag: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[tag] = _append_many(PER_WRITER, tag)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    _check_writers(results)
    _assert_log_is_whole(WRITERS * PER_WRITER)
