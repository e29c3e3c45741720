"""Two registries witnessing each other: A (this test's live server) and B (a second registry
in its own process, with its own database, keys and origin). Each lists the other's log key in
REGISTRY_WITNESSED_LOGS and the other's witness key in its policy. A consent signed on A gets a
checkpoint cosigned by B and a proof that verifies offline; B's checkpoint is cosigned by A; and
B trying to get a forked checkpoint cosigned by A is refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import transaction

from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.receipts import receipt_sign
from registry.transparency.services import checkpoint_publish, log_append
from registry.witness import services
from tests.registry.witness.test_witness_client import our_log_vkey

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from restu_verify.receipts import verify_receipt  # noqa: E402
from restu_verify.witness import (  # noqa: E402
    parse_policy,
    verify_cosigned_checkpoint,
    verify_receipt_with_proof,
)

B_ORIGIN = "b.example/log"

# Run inside registry B: grow its log, sign a checkpoint and submit it to its witnesses (A).
B_ROUND = """
import json, os
from django.db import transaction
from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.transparency.services import checkpoint_publish, log_append
from registry.witness.services import witness_round
with transaction.atomic():
    for _ in range(2):
        log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
checkpoint_publish()
print("ROUND " + json.dumps(witness_round()))
"""

# Run inside registry B: sign a forked checkpoint with B's real log key and submit it to A.
B_FORK = """
import json, urllib.request, urllib.error
from django.conf import settings
from registry import keys
from registry.lib.note import format_checkpoint, format_note, sign_ed25519
from registry.transparency.models import Checkpoint
key = keys.keyring().active(keys.CHECKPOINT).private_key
origin = settings.REGISTRY_LOG_ORIGIN
size = Checkpoint.objects.order_by("-size").first().size
statuses = {}
for name, old, fake_size in (("same_size", size, size), ("stale_old", 0, size + 3)):
    body = format_checkpoint(origin, fake_size, bytes([7]) * 32)
    note = format_note(body, [sign_ed25519(body, origin, key)])
    request = urllib.request.Request(URL, data=f"old {old}\\n\\n{note}".encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            statuses[name] = [response.status, response.read().decode()]
    except urllib.error.HTTPError as exc:
        statuses[name] = [exc.code, exc.read().decode(), exc.headers.get("Content-Type")]
print("FORK " + json.dumps(statuses))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RegistryB:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL")}
        self.env.update(
            {
                "REGISTRY_DATA_DIR": str(folder),
                "CELERY_BROKER_URL": "filesystem://",
                "REGISTRY_LOG_ORIGIN": B_ORIGIN,
                "REGISTRY_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
                "REGISTRY_OUTBOUND_ALLOW_HTTP": "1",
                "REGISTRY_WITNESS_MIN_INTERVAL": "0",
                "DEBUG": "0",
                **env,
            }
        )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("createcachetable")
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "registry.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/log/key", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError((self.folder / "server.log").read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def registry_b(tmp_path: Path, live_server, settings) -> Iterator[RegistryB]:
    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "a" / "keys.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    settings.REGISTRY_WITNESS_MIN_INTERVAL = 0
    folder = tmp_path / "b"
    folder.mkdir()
    # B witnesses A's log, and has A as its witness.
    (folder / "witnessed").write_text(our_log_vkey() + "\n")
    a_witness = services.witness_verifier().vkey
    (folder / "policy").write_text(f"witness a {a_witness} {live_server.url}/api/v1/witness\nquorum a\n")
    b = RegistryB(
        folder,
        {"REGISTRY_WITNESSED_LOGS": str(folder / "witnessed"), "REGISTRY_WITNESS_POLICY": str(folder / "policy")},
    )
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.mark.timeout(240)
def test_two_registries_witness_each_other_and_a_fork_is_refused(registry_b, live_server, tmp_path, settings) -> None:
    b = registry_b
    b_log_vkey = requests.get(f"{b.url}/api/v1/log/key", timeout=5).text.strip()
    b_witness_vkey = requests.get(f"{b.url}/api/v1/witness/key", timeout=5).text.strip()
    assert b_witness_vkey.startswith("b.example/log/witness+")
    # A witnesses B's log, and has B as its witness.
    (tmp_path / "a-witnessed").write_text(b_log_vkey + "\n")
    settings.REGISTRY_WITNESSED_LOGS = str(tmp_path / "a-witnessed")
    a_policy = f"log {our_log_vkey()}\nwitness b {b_witness_vkey} {b.url}/api/v1/witness\nquorum b\n"
    (tmp_path / "a-policy").write_text(a_policy)
    settings.REGISTRY_WITNESS_POLICY = str(tmp_path / "a-policy")

    # A consent signed on A; A's checkpoint cosigned by B; the proof verifies offline.
    consent, digest = new_public_id("con"), sha256_digest(b"a consent on A")
    with transaction.atomic():
        log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(b"before"))
        entry = log_append(type="consent.signed", ref=consent, digest=digest)
    checkpoint_publish()
    assert services.witness_round() == {"b": "cosigned"}
    receipt = receipt_sign(claims={"consent": consent, "consent_digest": digest}, log_index=entry.index)
    from registry import keys

    payload = verify_receipt(receipt, keys.keyring().jwks())
    proof = requests.get(f"{live_server.url}/api/v1/log/proof/tlog?index={entry.index}", timeout=5).text
    verified = verify_receipt_with_proof(payload, proof, our_log_vkey(), parse_policy(a_policy))
    assert verified.cosigned_by.keys() == {"b"}
    assert verified.leaf["id"] == consent

    # B's checkpoint, cosigned by A, served by B with A's cosignature.
    round_line = next(line for line in b.manage("shell", "-c", B_ROUND).splitlines() if line.startswith("ROUND "))
    assert json.loads(round_line.removeprefix("ROUND ")) == {"a": "cosigned"}
    b_served = requests.get(f"{b.url}/api/v1/log/checkpoint", timeout=5).text
    b_policy = f"log {b_log_vkey}\nwitness a {services.witness_verifier().vkey}\nquorum a\n"
    cosigned = verify_cosigned_checkpoint(b_served, b_log_vkey, parse_policy(b_policy))
    assert cosigned.checkpoint.size == 2
    assert cosigned.cosigned_by.keys() == {"a"}

    # B, hostile, signs a forked checkpoint with its real key: A refuses to cosign it.
    url = f"{live_server.url}/api/v1/witness/add-checkpoint"
    fork_line = next(
        line
        for line in b.manage("shell", "-c", B_FORK.replace("URL", repr(url))).splitlines()
        if line.startswith("FORK ")
    )
    statuses = json.loads(fork_line.removeprefix("FORK "))
    assert statuses["same_size"][0] == 422
    assert statuses["stale_old"][0] == 409
    assert statuses["stale_old"][1] == "2\n"
    assert statuses["stale_old"][2] == "text/x.tlog.size"
