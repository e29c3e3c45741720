"""C2SP tlog-tiles read paths: hash tiles and entry bundles, full and partial, and bad paths."""

from __future__ import annotations

import json
import os
import struct

import pytest
from django.db import transaction
from restu_verify.jcs import canonical_json
from restu_verify.merkle import leaf_hash, root_from_leaf_hashes

from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.transparency.models import LogEntry
from registry.transparency.services import log_append, tree_head

WIDTH = 256
SIZE = 2 * WIDTH + 5  # two full level-0 tiles and a partial third


@pytest.fixture(autouse=True)
def _generous_anonymous_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100000/min"},
    }


@pytest.fixture
def log(db: None) -> list[bytes]:
    """A log of SIZE leaves; returns their hashes recomputed from the stored leaf bytes."""
    for _ in range(SIZE):
        with transaction.atomic():
            log_append(type="attestation.stored", ref=new_public_id("att"), digest=sha256_digest(os.urandom(8)))
    return [leaf_hash(bytes(leaf)) for leaf in LogEntry.objects.order_by("index").values_list("leaf", flat=True)]


def _split_hashes(body: bytes) -> list[bytes]:
    assert len(body) % 32 == 0
    return [body[i : i + 32] for i in range(0, len(body), 32)]


def _decode_bundle(body: bytes) -> list[bytes]:
    leaves, offset = [], 0
    while offset < len(body):
        (length,) = struct.unpack(">H", body[offset : offset + 2])
        leaves.append(body[offset + 2 : offset + 2 + length])
        offset += 2 + length
    assert offset == len(body)
    return leaves


def test_full_level0_tiles_are_the_concatenated_leaf_hashes(anon, log):
    for n, path in ((0, "000"), (1, "001")):
        response = anon.get(f"/api/v1/log/tile/0/{path}")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert "immutable" in response["Cache-Control"]
        assert len(response.content) == WIDTH * 32
        assert response.content == b"".join(log[n * WIDTH : (n + 1) * WIDTH])


def test_a_partial_tile_holds_the_first_w_hashes(anon, log):
    response = anon.get("/api/v1/log/tile/0/002.p/5")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    assert _split_hashes(response.content) == log[2 * WIDTH : 2 * WIDTH + 5]
    narrower = anon.get("/api/v1/log/tile/0/002.p/3")
    assert narrower.status_code == 200
    assert _split_hashes(narrower.content) == log[2 * WIDTH : 2 * WIDTH + 3]


def test_a_level1_tile_holds_the_roots_of_256_leaf_subtrees_and_rebuilds_the_head(anon, log):
    response = anon.get("/api/v1/log/tile/1/000.p/2")
    assert response.status_code == 200
    subtrees = _split_hashes(response.content)
    assert subtrees == [root_from_leaf_hashes(log[:WIDTH]), root_from_leaf_hashes(log[WIDTH : 2 * WIDTH])]
    # A client holding only tiles can compute the tree head.
    tail = _split_hashes(anon.get("/api/v1/log/tile/0/002.p/5").content)
    from restu_verify.merkle import node_hash

    assert node_hash(node_hash(*subtrees), root_from_leaf_hashes(tail)) == tree_head().root


def test_entry_bundles_decode_to_the_leaves(anon, log):
    stored = [bytes(leaf) for leaf in LogEntry.objects.order_by("index").values_list("leaf", flat=True)]
    full = anon.get("/api/v1/log/tile/entries/001")
    assert full.status_code == 200
    leaves = _decode_bundle(full.content)
    assert leaves == stored[WIDTH : 2 * WIDTH]
    for raw in leaves:
        assert canonical_json(json.loads(raw)) == raw
    assert [leaf_hash(raw) for raw in leaves] == log[WIDTH : 2 * WIDTH]
    partial = anon.get("/api/v1/log/tile/entries/002.p/5")
    assert partial.status_code == 200
    assert _decode_bundle(partial.content) == stored[2 * WIDTH :]


MISSING = [
    "0/003",  # beyond the log
    "0/002",  # not complete yet
    "0/002.p/6",  # wider than what exists
    "1/000",  # a level-1 tile needs 65,536 leaves
    "1/000.p/3",
    "2/000.p/1",
    "9/000.p/1",
    "0/x001/000",  # tile 1000
    "entries/003",
    "entries/002",
    "entries/002.p/6",
    "entries/x001/000",
]


def test_tiles_that_do_not_exist_yet_are_404_problems(anon, log):
    for path in MISSING:
        response = anon.get(f"/api/v1/log/tile/{path}")
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/problem+json"


MALFORMED = [
    "0/1",
    "0/01",
    "0/0001",
    "0/x1/000",
    "0/001/000",
    "0/abc",
    "0/-01",
    "0/000.p/0",
    "0/000.p/256",
    "0/000.p/9999",
    "0/000.p/abc",
    "0/000.p/",
    "0/000.p/-1",
    "64/000",
    "99/000",
    "-1/000",
    "a/000",
    "000/000",
    "entries/1",
    "entries/000.p/0",
    "entries/000.p/256",
    "entries/x/000",
    "0/x999999999999999999/000",
    "0/x999/x999/x999/x999/x999/x999/x999/999",
]


def test_malformed_tile_paths_are_400_or_404_never_500(anon, log):
    for path in MALFORMED:
        response = anon.get(f"/api/v1/log/tile/{path}")
        assert response.status_code in (400, 404), (path, response.status_code)
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_tiles_of_an_empty_log_are_404(anon):
    assert anon.get("/api/v1/log/tile/0/000.p/1").status_code == 404
    assert anon.get("/api/v1/log/tile/entries/000.p/1").status_code == 404
