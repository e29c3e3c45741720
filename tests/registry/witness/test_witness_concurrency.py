"""Two submissions from the same old size cannot both be cosigned (tlog-witness: the check of
the old size and the update must be atomic). Real threads, real database connections, no mocks:
on PostgreSQL they really run at once; on SQLite the database's write lock orders them."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from registry.witness import services
from registry.witness.models import WitnessedLog

ROUNDS = 8
RACERS = 6


def _race(bodies: list[bytes]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def run(i: int) -> None:
        try:
            barrier.wait()
            statuses[i] = services.add_checkpoint(bodies[i]).status
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
def test_racing_submissions_from_one_old_size_have_exactly_one_winner(key_file, witnessed_logs_file, other_log) -> None:
    old = 0
    for _ in range(ROUNDS):
        start = other_log.tree.size
        other_log.grow(RACERS)
        # Each racer submits a different, valid checkpoint extending the witness's size.
        bodies = [other_log.request(old, start + k + 1) for k in range(RACERS)]
        statuses = _race(bodies)
        assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
        winner = start + statuses.index(200) + 1
        row = WitnessedLog.objects.get(origin=other_log.origin)
        assert row.size == winner
        assert bytes(row.root) == other_log.tree.root(winner)
        old = winner
        # Extend the log's tree to the next round's start from the winner's size.
        other_log.grow(0)
        # Bring the witness to the head of the log so the next round starts from a known size.
        assert services.add_checkpoint(other_log.request(old)).status == 200
        old = other_log.tree.size
