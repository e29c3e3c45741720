"""registry.lib.note against the C2SP specifications' own examples and an independent check
(hashlib and ``cryptography`` used directly, messages built from the specification text)."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.lib import note
from registry.lib.note import NoteError

# c2sp.org/signed-note, "Verifier keys" → "Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"  # noqa: E501
)
# c2sp.org/tlog-cosignature, the example cosigned checkpoint (signatures not verifiable: no keys given).
SPEC_COSIGNED = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"  # noqa: E501
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"  # noqa: E501
)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_the_specs_example_vkey_parses_and_verifies_the_specs_example_note() -> None:
    verifier = note.parse_vkey(SPEC_VKEY)
    assert verifier.name == "example.com/foo"
    assert verifier.key_id.hex() == "530d903a"
    assert verifier.type == note.SIG_ED25519
    assert verifier.vkey == SPEC_VKEY
    parsed = note.parse_note(SPEC_NOTE)
    assert parsed.text == "This is an example message.\n"
    assert note.verified_by(parsed, [verifier]) == [verifier]
    assert parsed.format() == SPEC_NOTE
    # Independently: the key id is SHA-256(name || 0x0A || 0x01 || key)[:4], and the signature is
    # plain Ed25519 over the text.
    material = base64.b64decode(SPEC_VKEY.split("+", 2)[2])
    assert hashlib.sha256(b"example.com/foo\n" + material).digest()[:4].hex() == "530d903a"
    blob = base64.b64decode(SPEC_NOTE.rsplit(" ", 1)[1])
    Ed25519PublicKey.from_public_bytes(material[1:]).verify(blob[4:], b"This is an example message.\n")


def test_a_changed_text_fails_against_the_spec_key() -> None:
    tampered = note.parse_note(SPEC_NOTE.replace("example message", "exemplary message"))
    with pytest.raises(NoteError, match="bad signature"):
        note.verified_by(tampered, [note.parse_vkey(SPEC_VKEY)])


def test_the_specs_cosigned_checkpoint_parses_and_the_cosignature_timestamp_is_the_specs() -> None:
    parsed = note.parse_note(SPEC_COSIGNED)
    checkpoint = note.parse_checkpoint(parsed.text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    witness = parsed.signatures[1]
    assert witness.name == "witness.example.com/w1"
    # tlog-cosignature's example signed message says "time 1679315147".
    assert note.cosignature_timestamp(witness) == 1679315147
    # Unknown keys are ignored: no verifier matches, so nothing verified and nothing raised.
    assert note.verified_by(parsed, [note.parse_vkey(SPEC_VKEY)]) == []


def test_cosignature_is_checked_by_an_independent_construction_of_the_signed_message() -> None:
    key = Ed25519PrivateKey.generate()
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    sig = note.cosign(text, "witness.example/w1", key, 1679315147)
    # From the spec text: key id = SHA-256(name || "\n" || 0x04 || key)[:4]; signature =
    # u64 big-endian timestamp || Ed25519("cosignature/v1\ntime 1679315147\n" || body).
    assert sig.key_id == hashlib.sha256(b"witness.example/w1\n\x04" + _raw(key)).digest()[:4]
    assert sig.signature[:8] == struct.pack(">Q", 1679315147)
    message = b"cosignature/v1\ntime 1679315147\n" + text.encode()
    key.public_key().verify(sig.signature[8:], message)
    vkey = note.format_vkey("witness.example/w1", note.SIG_COSIGNATURE_V1, key)
    assert vkey.split("+")[1] == sig.key_id.hex()
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    assert note.parse_vkey(vkey).verify(text, sig)
    # The same key as a type 0x01 key has another id, so a cosignature never passes for a log signature.
    assert note.format_vkey("witness.example/w1", note.SIG_ED25519, key).split("+")[1] != sig.key_id.hex()


def test_ed25519_signature_matches_the_independent_construction() -> None:
    key = Ed25519PrivateKey.generate()
    text = "restu.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    sig = note.sign_ed25519(text, "restu.example/log", key)
    key.public_key().verify(sig.signature, text.encode())
    assert sig.key_id == hashlib.sha256(b"restu.example/log\n\x01" + _raw(key)).digest()[:4]
    assert sig.line.startswith("\u2014 restu.example/log ")


@pytest.mark.parametrize(
    "bad",
    [
        "no final newline\n\n\u2014 a AAAAAAA=",
        "no blank line\n\u2014 a AAAAAAAA\n",
        "control \x01 char\n\n\u2014 a AAAAAAAA\n",
        "text\n\n",
        "text\n\n- a AAAAAAAA\n",
        "text\n\n\u2014 a+b AAAAAAAA\n",
        "text\n\n\u2014 a AAAA\n",  # shorter than a key id and one byte
        "text\n\n\u2014 a AAAAAAAA=\n",  # bad padding
        "text\n\n\u2014 a\n",
        b"text \xff\n\n\xe2\x80\x94 a AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_refused(bad: str | bytes) -> None:
    with pytest.raises(NoteError):
        note.parse_note(bad)


def test_two_signatures_by_one_key_reject_the_note() -> None:
    key = Ed25519PrivateKey.generate()
    sig = note.sign_ed25519("a\n", "k", key)
    parsed = note.parse_note(note.format_note("a\n", [sig, sig]))
    with pytest.raises(NoteError):
        note.verified_by(parsed, [note.Verifier.for_key("k", 1, key)])


@pytest.mark.parametrize(
    "vkey",
    [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # wrong id
        "example.com/fo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # other name
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # upper-case hex
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  # truncated
        "example.com/foo+530d903a",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_malformed_or_mismatched_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        note.parse_vkey(vkey)


def test_checkpoint_round_trip_and_strictness() -> None:
    root = hashlib.sha256(b"").digest()
    text = note.format_checkpoint("restu.example/log", 0, root)
    assert text == "restu.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert note.parse_checkpoint(text) == note.Checkpoint("restu.example/log", 0, root)
    for bad in (
        "o\n01\n" + text.split("\n")[2] + "\n",
        "o\n1\nAAAA\n",
        "o\n1\n",
        "o\n-1\n" + text.split("\n")[2] + "\n",
    ):
        with pytest.raises(NoteError):
            note.parse_checkpoint(bad)


def test_tlog_proof_round_trip_with_extra_and_strict_parse() -> None:
    key = Ed25519PrivateKey.generate()
    body = note.format_checkpoint("o.example/log", 5, b"\x01" * 32)
    checkpoint = note.format_note(body, [note.sign_ed25519(body, "o.example/log", key)])
    proof = note.TlogProof(index=3, proof=(b"\x02" * 32, b"\x03" * 32), checkpoint=checkpoint, extra=b"leaf")
    text = proof.format()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra bGVhZg==\nindex 3\n")
    assert text.endswith("\n\n" + checkpoint)
    assert note.parse_tlog_proof(text) == proof
    bare = note.TlogProof(index=0, proof=(), checkpoint=checkpoint)
    assert note.parse_tlog_proof(bare.format()) == bare
    for bad in (
        text.replace("index 3", "index 03"),
        text.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        text.replace("index 3\n", ""),
        text.replace("AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=", "AgIC"),
    ):
        with pytest.raises(NoteError):
            note.parse_tlog_proof(bad)


def _witness_key(name: str) -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return key, note.format_vkey(name, note.SIG_COSIGNATURE_V1, key)


def test_policy_parse_and_quorum_like_the_sigsum_example() -> None:
    log_key = Ed25519PrivateKey.generate()
    keys = {n: _witness_key(f"w.example/{n}") for n in ("X1", "X2", "X3", "Y1", "Y2", "Y3")}
    lines = [f"log {note.format_vkey('o.example/log', 1, log_key)} https://o.example  # the log"]
    lines += [f"witness {n} {keys[n][1]} https://{n}.example/" for n in ("X1", "X2", "X3")]
    lines += ["group X-witnesses 2 X1 X2 X3", "", "  # a comment line"]
    lines += [f"witness {n} {keys[n][1]}" for n in ("Y1", "Y2", "Y3")]
    lines += ["group Y-witnesses any Y1 Y2 Y3", "group X-and-Y all X-witnesses Y-witnesses", "quorum X-and-Y"]
    policy = note.parse_policy("\n".join(lines) + "\n")
    assert policy.witnesses["X1"].url == "https://X1.example/"
    assert policy.witnesses["Y1"].url is None
    assert policy.logs[0][1] == "https://o.example"
    assert not policy.quorum_met({"X1", "X2"})
    assert not policy.quorum_met({"X1", "Y1", "Y2"})
    assert policy.quorum_met({"X1", "X3", "Y2"})

    body = note.format_checkpoint("o.example/log", 7, b"\x07" * 32)
    sigs = [note.sign_ed25519(body, "o.example/log", log_key)]
    sigs += [note.cosign(body, f"w.example/{n}", keys[n][0], 1_700_000_000) for n in ("X1", "X3", "Y2")]
    verified = note.verify_cosigned_checkpoint(note.format_note(body, sigs), policy, now=1_700_000_000)
    assert set(verified.cosigned_by) == {"X1", "X3", "Y2"}
    with pytest.raises(NoteError, match="quorum"):
        note.verify_cosigned_checkpoint(note.format_note(body, sigs[:3]), policy)
    # A cosignature from the future does not count.
    future = [*sigs[:3], note.cosign(body, "w.example/Y2", keys["Y2"][0], 1800000000)]
    with pytest.raises(NoteError, match="quorum"):
        note.verify_cosigned_checkpoint(note.format_note(body, future), policy, now=1_700_000_000)


@pytest.mark.parametrize(
    "policy",
    [
        "",  # no quorum
        "quorum W\n",  # undefined
        "quorum none\nquorum none\n",
        "group G 1 W\nquorum G\n",  # member not defined before
        "witness none {w}\nquorum none\n",
        "witness W {w}\nwitness W2 {w}\nquorum none\n",  # duplicate key
        "witness W {w}\ngroup G 2 W\nquorum G\n",  # threshold above the member count
        "witness W {w}\ngroup G 0 W\nquorum G\n",
        "witness W {w}\ngroup G any W W\nquorum G\n",
        "witness W {l}\nquorum W\n",  # a log key (type 0x01) as a witness key
        "log {w}\nquorum none\n",  # a witness key as a log key
        "log {l}\nlog {l2}\nquorum none\n",  # one log key twice (under two names)
        "frobnicate\nquorum none\n",
        "witness W {w}\x01\nquorum none\n",
    ],
)
def test_invalid_policies_are_refused(policy: str) -> None:
    _, w = _witness_key("w.example")
    log_key = Ed25519PrivateKey.generate()
    l_ = note.format_vkey("o.example/log", 1, log_key)
    l2 = note.format_vkey("o.example/other", 1, log_key)
    with pytest.raises(NoteError):
        note.parse_policy(policy.format(w=w, l=l_, l2=l2))


def test_quorum_none_needs_no_cosignature() -> None:
    key = Ed25519PrivateKey.generate()
    policy = note.parse_policy(f"log {note.format_vkey('o.example/log', 1, key)}\nquorum none\n")
    body = note.format_checkpoint("o.example/log", 1, b"\x01" * 32)
    verified = note.verify_cosigned_checkpoint(
        note.format_note(body, [note.sign_ed25519(body, "o.example/log", key)]), policy
    )
    assert verified.quorum_met
    assert verified.cosigned_by == ()
