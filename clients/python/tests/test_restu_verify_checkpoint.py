"""C2SP signed notes and checkpoints."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from restu_verify import Checkpoint, VerificationError, verify_checkpoint
from restu_verify.checkpoint import verify_note
from restu_verify_fakes import signed_checkpoint, verifier_key

# golang.org/x/mod/sumdb/note, note_test.go.
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
NAME = "restu.test/log"


def test_the_go_reference_note_verifies() -> None:
    assert verify_note(GO_NOTE, GO_VERIFIER_KEY) == GO_TEXT
    with pytest.raises(VerificationError):
        verify_note(GO_NOTE.replace("answer", "Answer"), GO_VERIFIER_KEY)


def test_a_checkpoint_verifies_and_parses() -> None:
    key = Ed25519PrivateKey.generate()
    root = hashlib.sha256(b"r").digest()
    note = signed_checkpoint(NAME, key, 12, root)
    witness = "\u2014 witness.test " + base64.b64encode(bytes(68)).decode() + "\n"
    assert verify_checkpoint(note + witness, verifier_key(NAME, key)) == Checkpoint(NAME, 12, root)


def test_bad_checkpoints_are_refused() -> None:
    key = Ed25519PrivateKey.generate()
    vkey = verifier_key(NAME, key)
    root = bytes(32)
    note = signed_checkpoint(NAME, key, 12, root)
    for bad_note, bad_key in [
        (note.replace("\n12\n", "\n13\n"), vkey),
        (note, verifier_key(NAME, Ed25519PrivateKey.generate())),
        (signed_checkpoint(NAME, Ed25519PrivateKey.generate(), 12, root), vkey),
        (note.replace("\n\n", "\n"), vkey),
        (note + note.split("\n")[-2] + "\n", vkey),
        (signed_checkpoint(NAME, key, 12, root).replace("\u2014", "--"), vkey),
        (note, vkey.replace("+", "-", 1)),
        (note, vkey[:-4] + "AAA="),
    ]:
        with pytest.raises(VerificationError):
            verify_checkpoint(bad_note, bad_key)
