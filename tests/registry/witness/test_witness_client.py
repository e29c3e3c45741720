"""Our witness client (registry.witness.services.witness_round, run by the Celery task) against
the reference witness of this folder, written from C2SP tlog-witness and not from our code; then
against a live server of ours acting as the witness."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from registry import keys
from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.note import SIG_ED25519, format_vkey
from registry.transparency.models import Checkpoint
from registry.transparency.services import checkpoint_publish, log_append
from registry.witness import services
from registry.witness.models import Cosignature, Witness, WitnessedCheckpoint
from tests.registry.witness.reference_witness import (
    ReferenceWitness,
    ReferenceWitnessServer,
    verify_cosignature,
)

pytestmark = pytest.mark.django_db


def grow(count: int) -> Checkpoint:
    for _ in range(count):
        with transaction.atomic():
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
    checkpoint = checkpoint_publish()
    assert checkpoint is not None
    return checkpoint


def our_log_public() -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = keys.keyring().active(keys.CHECKPOINT).private_key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def our_log_vkey() -> str:
    return format_vkey(django_settings.REGISTRY_LOG_ORIGIN, SIG_ED25519, our_log_public())


@pytest.fixture
def outbound(settings) -> None:
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    settings.REGISTRY_WITNESS_MIN_INTERVAL = 0
    settings.REGISTRY_WITNESS_TIMEOUT = 5


def write_policy(tmp_path: Path, settings, witnesses: list[tuple[str, str, str]], quorum: str) -> Path:
    lines = [f"log {our_log_vkey()}  # our own log"]
    lines += [f"witness {name} {vkey} {url}" for name, vkey, url in witnesses]
    lines += [quorum]
    path = tmp_path / f"policy-{len(list(tmp_path.glob('policy-*')))}"
    path.write_text("\n".join(lines) + "\n")
    settings.REGISTRY_WITNESS_POLICY = str(path)
    return path


def reference(**kwargs: object) -> ReferenceWitness:
    return ReferenceWitness(
        name="witness.example/ref", logs={django_settings.REGISTRY_LOG_ORIGIN: our_log_public()}, **kwargs
    )  # type: ignore[arg-type]


def test_a_checkpoint_is_cosigned_by_the_reference_witness_then_served_with_its_cosignature(
    client, key_file, outbound, tmp_path, settings
) -> None:
    first = grow(3)
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        # Not yet witnessed: the witnessed path has nothing to serve, the latest one is there.
        assert client.get("/api/v1/log/checkpoint").status_code == 404
        assert client.get("/api/v1/log/checkpoint/latest").content.decode() == first.note
        assert services.witness_round() == {"ref": "cosigned"}
        line = Cosignature.objects.get(checkpoint=first).line
        body = first.note.split("\n\n")[0] + "\n"
        verify_cosignature(line, body, witness.vkey)  # checked from the spec text, not our code
        served = client.get("/api/v1/log/checkpoint")
        assert served.status_code == 200
        assert served.content.decode() == first.note + line
        # The log grows: the next submission carries a consistency proof the reference checks.
        second = grow(4)
        assert services.witness_round() == {"ref": "cosigned"}
        assert witness.requests[-1].startswith("old 3\n")
        assert witness.state[settings.REGISTRY_LOG_ORIGIN][0] == 7
        assert client.get("/api/v1/log/checkpoint").content.decode().startswith(second.note)
        assert services.witness_round() == {"ref": "current"}
    listed = client.get("/api/v1/log/witnesses").json()
    assert listed["witnessing"] is True
    assert listed["quorum_met_size"] == 7
    assert listed["witnesses"][0]["name"] == "ref"
    assert listed["witnesses"][0]["cosigned_size"] == 7
    assert listed["witnesses"][0]["last_error"] is None


def test_409_is_recovered_by_resending_from_the_witness_size(client, key_file, outbound, tmp_path, settings) -> None:
    grow(2)
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        assert services.witness_round() == {"ref": "cosigned"}
        # We forget what the witness holds (a restored backup, say); it tells us with a 409.
        Witness.objects.update(known_size=0, cosigned_size=None)
        grow(3)
        assert services.witness_round() == {"ref": "cosigned"}
    assert [r.split("\n", 1)[0] for r in witness.requests] == ["old 0", "old 0", "old 2"]
    assert WitnessedCheckpoint.objects.order_by("-size").first().size == 5


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: ReferenceWitness(name="witness.example/ref", logs={}), "404"),  # does not know our log
        (lambda: reference(clock_skew=3600), "future"),
    ],
)
def test_refusals_and_bad_answers_are_recorded_backed_off_and_nothing_is_witnessed(
    client, key_file, outbound, tmp_path, settings, make, expected, caplog
) -> None:
    grow(2)
    witness = make()
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        settings.REGISTRY_WITNESS_MIN_INTERVAL = 30
        assert services.witness_round() == {"ref": "error"}
        row = Witness.objects.get(name="ref")
        assert expected in row.last_error
        assert row.failures == 1
        assert row.next_attempt > timezone.now()
        assert services.witness_round() == {"ref": "waiting"}  # backoff: not asked again yet
        assert len(witness.requests) == 1
    assert not Cosignature.objects.exists()
    assert not WitnessedCheckpoint.objects.exists()
    assert client.get("/api/v1/log/checkpoint").status_code == 404
    listed = client.get("/api/v1/log/witnesses").json()["witnesses"][0]
    assert expected in listed["last_error"]
    settings.REGISTRY_WITNESS_ALERT_AFTER = 3600
    assert client.get("/health").json()["alerts"] == []
    settings.REGISTRY_WITNESS_ALERT_AFTER = 0
    Witness.objects.update(next_attempt=None)
    with caplog.at_level("ERROR", logger="registry.witness.services"):
        services.witness_round()
    assert "witness quorum not met" in caplog.text
    health = client.get("/health")
    assert health.status_code == 200
    assert "witness quorum not met" in health.json()["alerts"][0]


def test_a_cosignature_by_another_key_is_not_stored(client, key_file, outbound, tmp_path, settings) -> None:
    grow(1)
    witness = reference()
    impostor_vkey = ReferenceWitness(name="witness.example/ref", logs={}).vkey  # same name, other key
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", impostor_vkey, server.url)], "quorum ref")
        assert services.witness_round() == {"ref": "error"}
    assert "no cosignature by the witness's key" in Witness.objects.get().last_error
    assert not Cosignature.objects.exists()


def test_a_slow_witness_times_out_and_is_recorded(key_file, outbound, tmp_path, settings) -> None:
    grow(1)
    witness = reference(delay=2.0)
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        settings.REGISTRY_WITNESS_TIMEOUT = 1
        assert services.witness_round() == {"ref": "error"}
    assert "timed out" in Witness.objects.get().last_error.lower()


def test_outbound_address_check_applies_to_witness_urls(key_file, outbound, tmp_path, settings) -> None:
    grow(1)
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = []
        assert services.witness_round() == {"ref": "error"}
    assert "loopback" in Witness.objects.get().last_error
    assert witness.requests == []


def test_the_quorum_needs_every_member_of_an_all_group(client, key_file, outbound, tmp_path, settings) -> None:
    checkpoint = grow(2)
    good, absent = reference(), ReferenceWitness(name="witness.example/b", logs={})
    with ReferenceWitnessServer(good) as one, ReferenceWitnessServer(absent) as two:
        policy = [("a", good.vkey, one.url), ("b", absent.vkey, two.url)]
        write_policy(tmp_path, settings, policy, "group both all a b\nquorum both")
        assert services.witness_round() == {"a": "cosigned", "b": "error"}
        assert not WitnessedCheckpoint.objects.exists()
        absent.logs[settings.REGISTRY_LOG_ORIGIN] = our_log_public()
        Witness.objects.filter(name="b").update(next_attempt=None)
        assert services.witness_round() == {"a": "current", "b": "cosigned"}
    served = client.get("/api/v1/log/checkpoint").content.decode()
    lines = served[len(checkpoint.note) :].splitlines(keepends=True)
    assert [line.split(" ")[1] for line in lines] == ["witness.example/ref", "witness.example/b"]


def test_quorum_none_serves_every_signed_checkpoint(client, key_file, tmp_path, settings) -> None:
    checkpoint = grow(2)
    write_policy(tmp_path, settings, [], "quorum none")
    assert services.witness_round() == {}
    assert client.get("/api/v1/log/checkpoint").content.decode() == checkpoint.note


def test_tlog_proof_of_a_leaf_against_the_witnessed_checkpoint(client, key_file, outbound, tmp_path, settings) -> None:
    from registry.lib.merkle import leaf_hash, verify_inclusion
    from registry.lib.note import parse_checkpoint, parse_note, parse_tlog_proof
    from registry.transparency.models import LogEntry

    grow(5)
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        assert client.get("/api/v1/log/proof/tlog?index=1").status_code == 404  # nothing witnessed yet
        services.witness_round()
    grow(2)  # signed but not witnessed: proofs stay against the witnessed size 5
    response = client.get("/api/v1/log/proof/tlog?index=1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    proof = parse_tlog_proof(text)
    entry = LogEntry.objects.get(index=1)
    assert proof.extra == bytes(entry.leaf)
    checkpoint = parse_checkpoint(parse_note(proof.checkpoint).text)
    assert checkpoint.size == 5
    assert verify_inclusion(1, 5, leaf_hash(proof.extra), list(proof.proof), checkpoint.root)
    assert client.get("/api/v1/log/proof/tlog?index=5").status_code == 404
    assert client.get("/api/v1/log/proof/tlog?index=x").status_code == 400
    assert client.get("/api/v1/log/proof/tlog").status_code == 400


def test_without_a_policy_nothing_changes(client, key_file) -> None:
    checkpoint = grow(1)
    assert services.witness_round() == {}
    assert client.get("/api/v1/log/checkpoint").content.decode() == checkpoint.note
    assert client.get("/api/v1/log/witnesses").json() == {
        "witnessing": False,
        "quorum_met_size": None,
        "witnesses": [],
    }
    assert client.get("/health").json()["alerts"] == []
    # Without a policy the tlog-proof is against the newest signed checkpoint.
    assert client.get("/api/v1/log/proof/tlog?index=0").status_code == 200


def test_a_live_server_of_ours_is_the_witness_and_refuses_a_fork(live_server, tmp_path, settings) -> None:
    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "keys.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    settings.REGISTRY_WITNESS_MIN_INTERVAL = 0
    import requests

    # The live server witnesses our own log (one registry acting as log and witness).
    logs = tmp_path / "witnessed"
    logs.write_text(our_log_vkey() + "\n")
    settings.REGISTRY_WITNESSED_LOGS = str(logs)
    witness_vkey = requests.get(f"{live_server.url}/api/v1/witness/key", timeout=5).text.strip()
    write_policy(tmp_path, settings, [("self", witness_vkey, f"{live_server.url}/api/v1/witness")], "quorum self")
    first = grow(3)
    assert services.witness_round() == {"self": "cosigned"}
    line = Cosignature.objects.get(checkpoint=first).line
    verify_cosignature(line, first.note.split("\n\n")[0] + "\n", witness_vkey)
    grow(2)
    assert services.witness_round() == {"self": "cosigned"}

    # A hostile log: a checkpoint of another tree of the same size, validly signed by our log key.
    from registry.lib.note import format_checkpoint, format_note, sign_ed25519

    key = keys.keyring().active(keys.CHECKPOINT).private_key
    origin = settings.REGISTRY_LOG_ORIGIN
    body = format_checkpoint(origin, 9, b"\x09" * 32)
    forged = format_note(body, [sign_ed25519(body, origin, key)])
    url = f"{live_server.url}/api/v1/witness/add-checkpoint"
    stale = requests.post(url, data=f"old 3\n\n{forged}".encode(), timeout=5)
    assert stale.status_code == 409
    assert stale.headers["Content-Type"] == "text/x.tlog.size"
    assert stale.text == "5\n"
    bogus = base64.b64encode(b"\x00" * 32).decode()
    refused = requests.post(url, data=f"old 5\n{bogus}\n{bogus}\n\n{forged}".encode(), timeout=5)
    assert refused.status_code == 422
    same_size = format_checkpoint(origin, 5, b"\x05" * 32)
    forked = format_note(same_size, [sign_ed25519(same_size, origin, key)])
    assert requests.post(url, data=f"old 5\n\n{forked}".encode(), timeout=5).status_code == 422


def test_an_inconsistent_checkpoint_is_never_served_even_if_cosigned(
    client, key_file, outbound, tmp_path, settings, caplog
) -> None:
    from registry.lib.note import cosign, format_checkpoint, format_note, sign_ed25519

    grow(3)
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        assert services.witness_round() == {"ref": "cosigned"}
    served = client.get("/api/v1/log/checkpoint").content.decode()
    with transaction.atomic():
        for _ in range(2):
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
    # A checkpoint of size 5 with a root that is not the log's (a forked history), signed by our
    # key and cosigned by a (compromised) witness key of the policy.
    origin = settings.REGISTRY_LOG_ORIGIN
    key = keys.keyring().active(keys.CHECKPOINT)
    body = format_checkpoint(origin, 5, b"\x05" * 32)
    forked = Checkpoint.objects.create(
        size=5, root=b"\x05" * 32, note=format_note(body, [sign_ed25519(body, origin, key.private_key)]), kid=key.kid
    )
    line = cosign(body, witness.name, witness.key, 1_700_000_000).line
    Cosignature.objects.create(checkpoint=forked, witness="ref", vkey=witness.vkey, line=line, timestamp=1_700_000_000)
    assert services.checkpoint_evaluate(forked) is None
    assert "not consistent" in caplog.text
    assert client.get("/api/v1/log/checkpoint").content.decode() == served
    assert not WitnessedCheckpoint.objects.filter(size=5).exists()


def test_a_200_without_signature_lines_is_an_error(key_file, outbound, tmp_path, settings) -> None:
    grow(1)

    class Garbled(ReferenceWitness):
        def handle(self, body: bytes) -> tuple[int, str, bytes]:
            super().handle(body)
            return 200, "text/plain", b"<html>hello</html>"

    witness = Garbled(name="witness.example/ref", logs={settings.REGISTRY_LOG_ORIGIN: our_log_public()})
    with ReferenceWitnessServer(witness) as server:
        write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        assert services.witness_round() == {"ref": "error"}
    assert "200 with an unusable answer" in Witness.objects.get().last_error
    assert not Cosignature.objects.exists()


def test_without_a_policy_a_tlog_proof_of_a_fresh_leaf_is_signed_on_demand(client, key_file) -> None:
    grow(2)
    with transaction.atomic():
        log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"fresh"))
    response = client.get("/api/v1/log/proof/tlog?index=2")
    assert response.status_code == 200
    assert "\n3\n" in response.content.decode()
    assert client.get("/api/v1/log/proof/tlog?index=3").status_code == 404
