"""The public log over HTTP: entries, proofs and checkpoints, all checked with the offline client."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from restu_verify import verify_checkpoint
from restu_verify.jcs import canonical_json
from restu_verify.merkle import leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion

from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.transparency import selectors
from registry.transparency.models import LogEntry
from registry.transparency.services import checkpoint_publish, log_append

ROOT = Path(__file__).resolve().parents[3]
PROBLEM = "application/problem+json"


def append(count: int) -> None:
    for _ in range(count):
        with transaction.atomic():
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def served_leaf_hashes(anon, size: int) -> list[bytes]:
    """Leaf hashes recomputed by the offline client from the served leaves (not the stored hashes)."""
    body = anon.get(f"/api/v1/log/entries?start=0&end={size}").json()
    hashes = []
    for position, entry in enumerate(body["entries"]):
        assert entry["index"] == position
        recomputed = leaf_hash(canonical_json(entry["leaf"]))
        assert b64(entry["leaf_hash"]) == recomputed
        hashes.append(recomputed)
    assert len(hashes) == size
    return hashes


SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 16, 17)


@pytest.fixture(autouse=True)
def _generous_anonymous_rate(settings):
    # These tests make hundreds of anonymous reads; the default 60/min would throttle them.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100000/min"},
    }


@pytest.mark.django_db
def test_every_inclusion_proof_for_every_index_of_several_sizes_verifies_offline(anon):
    append(max(SIZES))
    hashes = served_leaf_hashes(anon, max(SIZES))
    for size in SIZES:
        root = root_from_leaf_hashes(hashes[:size])
        for index in range(size):
            response = anon.get(f"/api/v1/log/proof/inclusion?index={index}&tree_size={size}")
            assert response.status_code == 200, response.content
            body = response.json()
            assert body["index"] == index
            assert body["tree_size"] == size
            assert b64(body["leaf_hash"]) == hashes[index]
            assert b64(body["root_hash"]) == root
            path = [b64(h) for h in body["audit_path"]]
            assert verify_inclusion(index, size, hashes[index], path, root), (index, size)
            # Tampered proofs fail: a flipped bit in any hash, a dropped or extra hash, a wrong index.
            for position in range(len(path)):
                bad = list(path)
                bad[position] = bytes([bad[position][0] ^ 1]) + bad[position][1:]
                assert not verify_inclusion(index, size, hashes[index], bad, root)
            if path:
                assert not verify_inclusion(index, size, hashes[index], path[:-1], root)
            assert not verify_inclusion(index, size, hashes[index], [*path, bytes(32)], root)
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, hashes[index], path, root)
                assert not verify_inclusion(index, size, hashes[other], path, root)


@pytest.mark.django_db
def test_every_consistency_proof_between_several_sizes_verifies_offline(anon):
    append(max(SIZES))
    hashes = served_leaf_hashes(anon, max(SIZES))
    for second in SIZES:
        new_root = root_from_leaf_hashes(hashes[:second])
        for first in range(0, second + 1):
            old_root = root_from_leaf_hashes(hashes[:first])
            response = anon.get(f"/api/v1/log/proof/consistency?first={first}&second={second}")
            assert response.status_code == 200, response.content
            body = response.json()
            assert (body["first"], body["second"]) == (first, second)
            proof = [b64(h) for h in body["proof"]]
            assert verify_consistency(first, second, proof, old_root, new_root), (first, second)
            if 0 < first < second:
                for position in range(len(proof)):
                    bad = list(proof)
                    bad[position] = bytes(32)
                    assert not verify_consistency(first, second, bad, old_root, new_root)
                assert not verify_consistency(first, second, proof, bytes(32), new_root)
                assert not verify_consistency(first, second, proof, old_root, bytes(32))


@pytest.mark.django_db
def test_the_checkpoint_verifies_with_the_served_key_and_each_extends_the_last(anon):
    append(5)
    key = anon.get("/api/v1/log/key")
    assert key.status_code == 200
    assert key["Content-Type"].startswith("text/plain")
    vkey = key.content.decode().strip()
    previous = None
    for more in (0, 1, 6, 20):
        append(more)
        checkpoint_publish()
        response = anon.get("/api/v1/log/checkpoint")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        checkpoint = verify_checkpoint(response.content.decode(), vkey)
        assert checkpoint.size == selectors.log_size()
        assert checkpoint.root == root_from_leaf_hashes(served_leaf_hashes(anon, checkpoint.size))
        if previous is not None and previous.size < checkpoint.size:
            body = anon.get(f"/api/v1/log/proof/consistency?first={previous.size}&second={checkpoint.size}").json()
            proof = [b64(h) for h in body["proof"]]
            assert verify_consistency(previous.size, checkpoint.size, proof, previous.root, checkpoint.root)
        previous = checkpoint
    # A checkpoint altered in transit no longer verifies.
    note = anon.get("/api/v1/log/checkpoint").content.decode()
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    from restu_verify import VerificationError

    with pytest.raises(VerificationError):
        verify_checkpoint("\n".join(lines), vkey)


@pytest.mark.django_db
def test_checkpoint_of_a_fresh_log_is_served_for_the_empty_tree(anon):
    response = anon.get("/api/v1/log/checkpoint")
    assert response.status_code == 200
    vkey = anon.get("/api/v1/log/key").content.decode().strip()
    assert verify_checkpoint(response.content.decode(), vkey).size == 0


@pytest.mark.django_db
def test_entries_are_paged_and_single_entries_are_served(anon):
    append(7)
    body = anon.get("/api/v1/log/entries?start=2&end=5").json()
    assert [e["index"] for e in body["entries"]] == [2, 3, 4]
    assert body["tree_size"] == 7
    assert body["next"] is None
    whole = anon.get("/api/v1/log/entries").json()
    assert [e["index"] for e in whole["entries"]] == list(range(7))
    one = anon.get("/api/v1/log/entries/3").json()
    stored = LogEntry.objects.get(index=3)
    assert one["index"] == 3
    assert canonical_json(one["leaf"]) == bytes(stored.leaf)
    assert set(one["leaf"]) == {"type", "id", "digest", "at"}
    assert b64(one["leaf_hash"]) == bytes(stored.leaf_hash)
    missing = anon.get("/api/v1/log/entries/7")
    assert missing.status_code == 404
    assert missing["Content-Type"] == PROBLEM
    huge = anon.get("/api/v1/log/entries/99999999999999999999999")
    assert huge.status_code == 404


def _assert_problem(response, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["title"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "index=4&tree_size=4",  # index == size
        "index=9&tree_size=4",  # index > size
        "index=0&tree_size=5",  # tree_size > current size
        "index=0&tree_size=0",  # the empty tree has no leaves
        "index=-1&tree_size=4",
        "index=0&tree_size=-4",
        "index=one&tree_size=4",
        "index=1.0&tree_size=4",
        "index=1e2&tree_size=4",
        "index=0x1&tree_size=4",
        "index= 1&tree_size=4",
        "index=%EF%BC%91&tree_size=4",  # a full-width digit one
        "index=&tree_size=4",
        "tree_size=4",
        "index=0",
        "index=0&tree_size=99999999999999999999999999",
        "index=9223372036854775808&tree_size=9223372036854775809",
    ],
)
def test_bad_inclusion_proof_requests_are_400_problems(anon, query):
    append(4)
    _assert_problem(anon.get(f"/api/v1/log/proof/inclusion?{query}"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "first=3&second=2",  # first > second
        "first=0&second=5",  # second > current size
        "first=5&second=5",
        "first=-1&second=2",
        "first=1&second=-2",
        "first=a&second=2",
        "first=1.5&second=2",
        "first=1&second=",
        "first=1",
        "second=2",
        "first=1&second=99999999999999999999999",
    ],
)
def test_bad_consistency_proof_requests_are_400_problems(anon, query):
    append(4)
    _assert_problem(anon.get(f"/api/v1/log/proof/consistency?{query}"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["start=-1", "start=x", "end=1.5", "start=3&end=1", "start=99999999999999999999999", "start=9223372036854775807"],
)
def test_bad_entry_ranges_are_400_problems(anon, query):
    append(4)
    _assert_problem(anon.get(f"/api/v1/log/entries?{query}"))


@pytest.mark.django_db
def test_proofs_on_an_empty_log_are_refused_not_crashed(anon):
    _assert_problem(anon.get("/api/v1/log/proof/inclusion?index=0&tree_size=0"))
    _assert_problem(anon.get("/api/v1/log/proof/consistency?first=0&second=1"))
    assert anon.get("/api/v1/log/proof/consistency?first=0&second=0").json()["proof"] == []


@pytest.mark.django_db
def test_an_inclusion_proof_costs_a_bounded_number_of_queries_whatever_the_size(anon, django_assert_max_num_queries):
    append(5)
    with django_assert_max_num_queries(2):
        selectors.proof_inclusion(index=3, tree_size=5)
    append(300)
    for index, size in ((0, 305), (304, 305), (157, 300), (255, 256), (128, 257)):
        with django_assert_max_num_queries(2):
            proof = selectors.proof_inclusion(index=index, tree_size=size)
        assert len(proof.audit_path) <= 9
    # Over HTTP the count does not grow with the tree either (throttling may add a fixed few).
    counts = []
    for size in (5, 305):
        with CaptureQueriesContext(connection) as captured:
            assert anon.get(f"/api/v1/log/proof/inclusion?index=2&tree_size={size}").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 8, counts


@pytest.mark.django_db
def test_a_consistency_proof_costs_a_bounded_number_of_queries(django_assert_max_num_queries):
    append(300)
    for first, second in ((1, 300), (129, 300), (256, 257), (7, 8)):
        with django_assert_max_num_queries(2):
            selectors.proof_consistency(first=first, second=second)


def _audit(url: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restu_verify", "audit", url, "--state", str(state), "--page-size", "7"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_restu_verify_audit_cli_passes_then_checks_consistency_then_catches_tampering(live_server, tmp_path):
    state = tmp_path / "audit-state.json"
    append(11)
    checkpoint_publish()
    first = _audit(live_server.url, state)
    assert first.returncode == 0, first.stdout + first.stderr
    result = json.loads(first.stdout)
    assert result["valid"] is True
    assert result["size"] == 11
    assert result["consistent_with_size"] is None
    assert json.loads(state.read_text())["size"] == 11

    append(9)
    checkpoint_publish()
    second = _audit(live_server.url, state)
    assert second.returncode == 0, second.stdout + second.stderr
    result = json.loads(second.stdout)
    assert result["size"] == 20
    assert result["consistent_with_size"] == 11

    # Rewriting history (a leaf's bytes changed) is caught by the next audit.
    entry = LogEntry.objects.get(index=4)
    forged = bytes(entry.leaf).replace(b"consent.signed", b"consent.revoked")
    LogEntry.objects.filter(index=4).update(leaf=forged)
    third = _audit(live_server.url, state)
    assert third.returncode == 1, third.stdout + third.stderr
    assert json.loads(third.stdout)["valid"] is False
