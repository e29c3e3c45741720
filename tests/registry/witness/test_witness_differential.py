"""Our witness server and the reference witness (written from the specification alone) give the
same status to the same sequence of submissions, good and bad."""

from __future__ import annotations

import pytest

from registry.witness import services
from tests.registry.witness.conftest import TestLog
from tests.registry.witness.reference_witness import ReferenceWitness, raw_public

pytestmark = pytest.mark.django_db


def test_same_submissions_same_answers(key_file, witnessed_logs_file, other_log: TestLog) -> None:
    reference = ReferenceWitness(name="ref.example/w", logs={other_log.origin: raw_public(other_log.key)})
    fork = TestLog(origin=other_log.origin, key=other_log.key)
    for i in range(12):
        fork.tree.append(b"fork %d" % i)
    bodies: list[tuple[str, bytes]] = [("first", other_log.request(0))]
    other_log.grow(4)
    proof = other_log.tree.consistency_proof(5, 9)
    bodies += [
        ("stale old", other_log.request(0)),
        ("old > size", other_log.request(9, 5, proof=[])),
        ("short proof", other_log.request(5, proof=proof[:-1])),
        ("forked tree", fork.request(5, 9)),
        ("same size other root", fork.request(5, 5)),
        ("proof from 0", other_log.request(0, proof=[b"\x00" * 32])),
        ("good", other_log.request(5)),
        ("replay of the first", other_log.request(0, 5)),
        ("again at the same size", other_log.request(9)),
    ]
    other_log.origin = "unknown.example/log"
    bodies.append(("unknown origin", other_log.request(0)))
    ours, theirs = [], []
    for name, body in bodies:
        ours.append((name, services.add_checkpoint(body).status))
        theirs.append((name, reference.handle(body)[0]))
    assert ours == theirs
    assert [status for _, status in ours] == [200, 409, 400, 422, 422, 422, 409, 200, 409, 200, 404]
