"""Our witness (POST /api/v1/witness/add-checkpoint) against C2SP tlog-witness, with every
cosignature checked by the independent code of reference_witness (the spec's message, built here)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from registry.witness.models import WitnessedLog
from tests.registry.witness.reference_witness import DASH, verify_cosignature

URL = "/api/v1/witness/add-checkpoint"
pytestmark = pytest.mark.django_db


def post(client, body: bytes):
    return client.post(URL, data=body, content_type="text/plain")


def our_vkey(client) -> str:
    response = client.get("/api/v1/witness/key")
    assert response.status_code == 200
    return response.content.decode().strip()


def stored() -> tuple[int, bytes] | None:
    row = WitnessedLog.objects.first()
    return (row.size, bytes(row.root)) if row else None


def test_witness_key_is_a_type_4_vkey_named_after_the_log_origin(client, key_file, settings) -> None:
    vkey = our_vkey(client)
    name, key_hex, material = vkey.split("+", 2)
    assert name == settings.REGISTRY_WITNESS_NAME == "restu.example/log/witness"
    raw = base64.b64decode(material)
    assert raw[0] == 0x04
    assert len(raw) == 33
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_hex


def test_first_then_consistent_checkpoints_are_cosigned_and_the_size_moves(
    client, key_file, witnessed_logs_file, other_log
) -> None:
    vkey = our_vkey(client)
    first = post(client, other_log.request(0))
    assert first.status_code == 200, first.content
    line = first.content.decode()
    assert line.startswith(f"{DASH} restu.example/log/witness ")
    assert line.count("\n") == 1
    assert verify_cosignature(line, other_log.text(), vkey) > 1_700_000_000
    assert stored() == (5, other_log.tree.root())

    other_log.grow(6)
    second = post(client, other_log.request(5))
    assert second.status_code == 200, second.content
    verify_cosignature(second.content.decode(), other_log.text(), vkey)
    assert stored() == (11, other_log.tree.root())
    # Same size again, same root: cosigned again, nothing moves.
    again = post(client, other_log.request(11))
    assert again.status_code == 200
    assert stored() == (11, other_log.tree.root())
    # A monitor can read the latest cosigned checkpoint by the origin's hash.
    origin_hash = hashlib.sha256(other_log.origin.encode()).hexdigest()
    monitored = client.get(f"/api/v1/witness/{origin_hash}/checkpoint")
    assert monitored.status_code == 200
    assert monitored.content.decode().startswith(other_log.text() + "\n")


def test_409_answers_the_witness_size_as_text_x_tlog_size_and_changes_nothing(
    client, key_file, witnessed_logs_file, other_log
) -> None:
    assert post(client, other_log.request(0)).status_code == 200
    other_log.grow(3)
    stale = post(client, other_log.request(0))  # a replay from 0, or a client that does not know
    assert stale.status_code == 409
    assert stale["Content-Type"] == "text/x.tlog.size"
    assert stale.content == b"5\n"
    wrong = post(client, other_log.request(3))
    assert wrong.status_code == 409
    assert wrong.content == b"5\n"
    assert stored() == (5, other_log.tree.root(5))


def test_unknown_origin_is_404_and_nothing_is_stored(client, key_file, witnessed_logs_file, other_log) -> None:
    other_log.origin = "stranger.example/log"
    response = post(client, other_log.request(0))
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/problem+json")
    assert stored() is None


def test_no_witnessed_logs_configured_means_every_origin_is_unknown(client, key_file, other_log) -> None:
    assert post(client, other_log.request(0)).status_code == 404


def test_bad_or_missing_log_signature_is_403(client, key_file, witnessed_logs_file, other_log) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = other_log.text()
    forged = other_log.sign("something else\n")  # the right key and name, a signature over other text
    assert post(client, other_log.request(0, note=text + "\n" + forged)).status_code == 403
    # Signed by another key under the log's name: that signature is ignored, so no trusted one.
    stranger = other_log.sign(text, key=Ed25519PrivateKey.generate())
    assert post(client, other_log.request(0, note=text + "\n" + stranger)).status_code == 403
    # A good signature next to a failing one by the same trusted key: still refused (signed-note).
    good = other_log.sign(text)
    assert post(client, other_log.request(0, note=text + "\n" + good + forged)).status_code == 403
    assert stored() is None


def test_old_larger_than_size_is_400(client, key_file, witnessed_logs_file, other_log) -> None:
    assert post(client, other_log.request(6, 5, proof=[])).status_code == 400
    assert stored() is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: body.replace(b"old 0", b"old 00"),
        lambda body: body.replace(b"old 0", b"old -1"),
        lambda body: body.replace(b"old 0", b"olds 0"),
        lambda body: body.replace(b"\n\n", b"\n", 1),
        lambda body: b"old 0\n\n",
        lambda body: b"old 0\nnot base64!\n\n" + body.split(b"\n\n", 1)[1],
        lambda body: b"old 0\nAAAA\n\n" + body.split(b"\n\n", 1)[1],  # base64, but not 32 bytes
        lambda body: (
            b"old 0\n" + b"".join([base64.b64encode(b"\x00" * 32) + b"\n"] * 64) + b"\n" + body.split(b"\n\n", 1)[1]
        ),
        lambda body: body.replace(b"\n5\n", b"\n05\n"),
        lambda body: body.replace(b"\n5\n", b"\n5\x01\n"),
        lambda body: body + b"\xff\n",
        lambda body: body.rstrip(b"\n"),
    ],
)
def test_malformed_requests_are_400_and_nothing_is_stored(
    client, key_file, witnessed_logs_file, other_log, mangle
) -> None:
    response = post(client, mangle(other_log.request(0)))
    assert response.status_code == 400, response.content
    assert stored() is None


def test_bad_proofs_are_422_and_nothing_moves(client, key_file, witnessed_logs_file, other_log) -> None:
    assert post(client, other_log.request(0)).status_code == 200
    other_log.grow(4)
    proof = other_log.tree.consistency_proof(5, 9)
    assert post(client, other_log.request(5, proof=proof[:-1])).status_code == 422  # too short
    assert post(client, other_log.request(5, proof=[*proof, proof[0]])).status_code == 422  # too long
    assert post(client, other_log.request(5, proof=[proof[0], *proof])).status_code == 422
    flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert post(client, other_log.request(5, proof=flipped)).status_code == 422
    # A forked tree: same old size, leaves rewritten.
    fork = type(other_log)(origin=other_log.origin, key=other_log.key)
    for i in range(9):
        fork.tree.append(b"forked %d" % i)
    assert post(client, fork.request(5)).status_code == 422
    # Same size, other root.
    assert post(client, fork.request(5, 5)).status_code == 422
    assert stored() == (5, other_log.tree.root(5))
    assert post(client, other_log.request(5)).status_code == 200


def test_proof_from_zero_must_be_empty_and_size_zero_has_the_empty_root(
    client, key_file, witnessed_logs_file, other_log
) -> None:
    assert post(client, other_log.request(0, proof=[b"\x00" * 32])).status_code == 422
    assert (
        post(client, other_log.request(0, 0, proof=[], note=other_log.checkpoint(0, b"\x01" * 32))).status_code == 422
    )
    assert stored() is None
    assert post(client, other_log.request(0, 0)).status_code == 200


def test_oversized_bodies_are_413_and_nothing_is_stored(client, key_file, witnessed_logs_file, other_log) -> None:
    body = other_log.request(0)
    padded = body.replace(b"\n\n", b"\n" + b"x" * 70_000 + b"\n\n", 1)
    assert post(client, padded).status_code == 413
    assert stored() is None


def test_get_is_not_allowed_on_add_checkpoint(client) -> None:
    assert client.get(URL).status_code == 405


def test_an_empty_body_is_400_and_an_unknown_log_has_no_monitoring_checkpoint(client) -> None:
    response = client.generic("POST", URL, data=None, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert client.get(f"/api/v1/witness/{'0' * 64}/checkpoint").status_code == 404
    assert client.get("/api/v1/witness/not-a-hash/checkpoint").status_code == 404
