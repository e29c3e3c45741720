"""What the registry's own trust core produces, this client accepts (skipped outside the repo)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from restu_verify import verify_checkpoint, verify_receipt
from restu_verify.jcs import MAX_SAFE_INTEGER
from restu_verify.jcs import canonical_json as client_jcs
from restu_verify.merkle import verify_consistency, verify_inclusion

signing = pytest.importorskip("registry.lib.signing")
merkle = pytest.importorskip("registry.lib.merkle")
canonical = pytest.importorskip("registry.lib.canonical")


def test_registry_receipts_and_checkpoints_verify_here() -> None:
    key = signing.generate_private_key()
    jwk = signing.public_jwk(key)
    payload = canonical.canonical_json({"decision": "permitted", "sub": "sub_1"})
    token = signing.sign_compact(payload, key, jwk["kid"], typ="restu-receipt+jws")
    assert verify_receipt(token, {"keys": [jwk]}) == json.loads(payload)

    tree = merkle.MemoryTree(merkle.leaf_hash(bytes([i])) for i in range(13))
    note = signing.sign_note(signing.checkpoint_body("restu.test/log", 13, tree.root()), "restu.test/log", key)
    checkpoint = verify_checkpoint(note, signing.verifier_key_string("restu.test/log", key))
    assert (checkpoint.size, checkpoint.root) == (13, tree.root())
    for index in range(13):
        assert verify_inclusion(index, 13, tree.leaf_hash(index), tree.inclusion_proof(index), checkpoint.root)
    for m in range(14):
        assert verify_consistency(m, 13, tree.consistency_proof(m), tree.root(m), checkpoint.root)


leaves = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=15,
)


@given(leaves)
def test_leaf_bytes_are_the_same_on_both_sides(leaf: object) -> None:
    assert client_jcs(leaf) == canonical.canonical_json(leaf)
