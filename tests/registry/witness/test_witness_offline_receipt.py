"""A receipt and its tlog proof verify from files alone: `restu_verify receipt FILE --proof FILE
--policy FILE --jwks FILE --log-key KEY` in a process where creating a socket fails. And `audit
--policy` checks the served checkpoint's cosignatures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from registry import keys
from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.receipts import receipt_sign
from registry.transparency.services import checkpoint_publish, log_append
from registry.witness import services
from tests.registry.witness.reference_witness import ReferenceWitnessServer
from tests.registry.witness.test_witness_client import our_log_vkey, reference, write_policy

ROOT = Path(__file__).resolve().parents[3]
CLIENT = ROOT / "clients" / "python"
# Every way to open a socket fails in the verifier's process.
NO_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access is blocked in this test")
class NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        refuse()
socket.socket = NoSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.path.insert(0, sys.argv.pop(1))
from restu_verify.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def _verify_offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_NETWORK, str(CLIENT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("HTTP", "HTTPS"))},
    )


@pytest.mark.django_db
def test_a_receipt_verifies_with_no_network_from_files(client, key_file, tmp_path, settings) -> None:
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    consent, digest = new_public_id("con"), sha256_digest(b"the consent document")
    with transaction.atomic():
        log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"another"))
        entry = log_append(type="consent.signed", ref=consent, digest=digest)
        log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"a third"))
    checkpoint_publish()
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        policy = write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        assert services.witness_round() == {"ref": "cosigned"}
    receipt = receipt_sign(
        claims={"decision": "permitted", "consent": consent, "consent_digest": digest}, log_index=entry.index
    )
    proof = client.get(f"/api/v1/log/proof/tlog?index={entry.index}")
    assert proof.status_code == 200
    files = {
        "receipt.jws": receipt,
        "consent.tlog-proof": proof.content.decode(),
        "jwks.json": json.dumps(keys.keyring().jwks()),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    args = [
        "receipt",
        str(tmp_path / "receipt.jws"),
        "--proof",
        str(tmp_path / "consent.tlog-proof"),
        "--policy",
        str(policy),
        "--jwks",
        str(tmp_path / "jwks.json"),
        "--log-key",
        our_log_vkey(),
    ]
    result = _verify_offline(*args)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["valid"] is True
    assert answer["log"]["index"] == entry.index
    assert answer["log"]["leaf"]["id"] == consent
    assert answer["log"]["cosigned_by"].keys() == {"ref"}

    # The network really is blocked there: asking for the JWKS by URL cannot work.
    fetched = _verify_offline(*args[:7], "--jwks", "http://127.0.0.1:9/jwks.json", *args[9:])
    assert fetched.returncode == 2
    # A proof for another leaf, a policy the proof does not meet: invalid (exit 1).
    other = client.get(f"/api/v1/log/proof/tlog?index={entry.index + 1}").content.decode()
    (tmp_path / "consent.tlog-proof").write_text(other)
    assert _verify_offline(*args).returncode == 1
    (tmp_path / "consent.tlog-proof").write_text(files["consent.tlog-proof"])
    from tests.registry.witness.reference_witness import ReferenceWitness

    second = ReferenceWitness(name="witness.example/second", logs={})
    policy.write_text(
        policy.read_text().replace("quorum ref", f"witness two {second.vkey}\ngroup both all ref two\nquorum both")
    )
    assert _verify_offline(*args).returncode == 1


def test_audit_with_a_policy_checks_the_cosignatures(live_server, tmp_path, settings) -> None:
    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "keys.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    sys.path.insert(0, str(CLIENT))
    from restu_verify import VerificationError
    from restu_verify.audit import audit
    from restu_verify.witness import parse_policy

    with transaction.atomic():
        for _ in range(3):
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
    checkpoint_publish()
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        policy = write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        services.witness_round()
    result = audit(live_server.url, key=our_log_vkey(), policy=parse_policy(policy.read_text()))
    assert result.size == 3
    assert result.cosigned_by is not None
    assert result.cosigned_by.keys() == {"ref"}
    # A policy whose witness never cosigned: the audit fails.
    from tests.registry.witness.reference_witness import ReferenceWitness

    stranger = ReferenceWitness(name="witness.example/ref", logs={})
    other = policy.read_text().replace(witness.vkey, stranger.vkey)
    with pytest.raises(VerificationError, match="quorum"):
        audit(live_server.url, key=our_log_vkey(), policy=parse_policy(other))
