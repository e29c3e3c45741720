"""The witness cosigning key: a registry key of its own purpose, added on first use, rotated."""

from __future__ import annotations

import json

import pytest

from registry import keys
from registry.lib.note import parse_vkey

pytestmark = pytest.mark.django_db


def test_the_witness_key_is_added_to_an_existing_key_file_once_and_kept(client, key_file) -> None:
    ring = keys.keyring()
    before = {key.kid for key in ring.keys}
    assert {key.purpose for key in ring.keys} == {keys.RECEIPT, keys.CHECKPOINT}
    first = keys.witness_key()
    assert first.purpose == keys.WITNESS
    assert keys.witness_key().kid == first.kid  # not a new key each time
    after = keys.keyring()
    assert {key.kid for key in after.keys} == before | {first.kid}
    assert after.active(keys.RECEIPT).kid in before  # the other keys are untouched
    stored = json.loads(key_file.read_text())
    assert [entry["purpose"] for entry in stored["keys"]].count("witness") == 1
    # Its public half is the vkey served at /api/v1/witness/key; the receipt JWKS does not list it.
    vkey = parse_vkey(client.get("/api/v1/witness/key").content.decode().strip())
    assert vkey.type == 0x04
    assert first.kid not in json.dumps(client.get("/.well-known/jwks.json").json())


def test_the_witness_key_rotates_like_the_others(client, key_file) -> None:
    old = keys.witness_key()
    old_vkey = client.get("/api/v1/witness/key").content.decode()
    new = keys.key_rotate(keys.WITNESS)
    assert new.kid != old.kid
    assert keys.witness_key().kid == new.kid
    assert client.get("/api/v1/witness/key").content.decode() != old_vkey
    retired = next(key for key in keys.keyring().keys if key.kid == old.kid)
    assert retired.retired is not None
