"""The registry's own keys: the key file, the JWKS, rotation that keeps old keys and never reuses a kid."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from restu_verify import verify_checkpoint, verify_receipt

from registry import keys
from registry.receipts import receipt_sign, receipt_verify
from registry.transparency.models import LogEntry
from registry.transparency.services import checkpoint_publish

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def key_file(settings, tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "registry-keys.json"
    settings.REGISTRY_SIGNING_KEY_FILE = path
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    return path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _thumbprint(jwk: dict) -> str:
    # RFC 7638 for an OKP key: the required members, sorted, no whitespace.
    members = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(members.encode()).digest())


def _rotate(purpose: str) -> str:
    out = io.StringIO()
    call_command("registry_keys", "rotate", purpose, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_key_file_is_created_private_with_one_key_per_purpose(key_file):
    assert not key_file.exists()
    ring = keys.keyring()
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert {key.purpose for key in ring.keys} == {keys.RECEIPT, keys.CHECKPOINT}
    assert ring.active(keys.RECEIPT).kid != ring.active(keys.CHECKPOINT).kid
    assert [key.kid for key in keys.keyring().keys] == [key.kid for key in ring.keys]
    assert keys.keyring() is keys.keyring()  # parsed once, then cached while the file is unchanged


@pytest.mark.django_db
def test_jwks_lists_the_receipt_keys_only_as_public_ed25519_keys(anon, key_file):
    response = anon.get("/.well-known/jwks.json")
    assert response.status_code == 200
    listed = response.json()["keys"]
    ring = keys.keyring()
    assert [jwk["kid"] for jwk in listed] == [ring.active(keys.RECEIPT).kid]
    (jwk,) = listed
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["alg"] == "Ed25519"
    assert jwk["use"] == "sig"
    assert "d" not in jwk  # never the private part
    assert jwk["kid"] == _thumbprint(jwk)
    assert len(_b64url_decode(jwk["x"])) == 32
    assert jwk["restu_valid_until"] is None
    assert ring.active(keys.CHECKPOINT).kid not in json.dumps(listed)


@pytest.mark.django_db
def test_a_missing_key_file_is_a_configuration_error_when_generation_is_off(settings, tmp_path):
    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "absent.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = False
    with pytest.raises(ImproperlyConfigured):
        keys.keyring()
    assert not (tmp_path / "absent.json").exists()


@pytest.mark.django_db
def test_a_key_file_whose_kid_does_not_match_its_key_is_refused(key_file):
    keys.keyring()
    data = json.loads(key_file.read_text())
    data["keys"][0]["kid"] = "not-the-thumbprint"
    key_file.write_text(json.dumps(data))
    with pytest.raises(ImproperlyConfigured):
        keys.keyring()


@pytest.mark.django_db
def test_rotation_keeps_the_old_receipt_key_listed_with_its_end_and_old_receipts_still_verify(anon, key_file):
    old_kid = keys.keyring().active(keys.RECEIPT).kid
    before = receipt_sign(claims={"decision": "permitted", "sub": "sub_" + "a" * 26})
    assert "retired" in _rotate("receipt")

    ring = keys.keyring()
    new_kid = ring.active(keys.RECEIPT).kid
    assert new_kid != old_kid
    listed = {jwk["kid"]: jwk for jwk in anon.get("/.well-known/jwks.json").json()["keys"]}
    assert set(listed) == {old_kid, new_kid}
    assert listed[old_kid]["restu_valid_until"] is not None
    assert listed[old_kid]["restu_valid_from"] <= listed[old_kid]["restu_valid_until"]
    assert listed[new_kid]["restu_valid_until"] is None

    # The receipt made before the rotation still verifies: server-side and offline.
    assert receipt_verify(before).valid
    assert receipt_verify(before).kid == old_kid
    jwks = anon.get("/.well-known/jwks.json").json()
    assert verify_receipt(before, jwks)["decision"] == "permitted"
    checked = anon.post("/api/v1/receipts/verify", {"receipt": before}, format="json").json()
    assert checked["valid"] is True
    assert checked["kid"] == old_kid

    # New receipts are signed by the new key.
    after = receipt_sign(claims={"decision": "denied"})
    header = json.loads(_b64url_decode(after.split(".")[0]))
    assert header["kid"] == new_kid
    assert receipt_verify(after).kid == new_kid
    public = Ed25519PublicKey.from_public_bytes(_b64url_decode(listed[new_kid]["x"]))
    head, body, signature = after.split(".")
    public.verify(_b64url_decode(signature), f"{head}.{body}".encode())


@pytest.mark.django_db
def test_a_rotation_is_logged_as_a_retired_and_an_added_key(key_file):
    old_kid = keys.keyring().active(keys.RECEIPT).kid
    _rotate("receipt")
    new_kid = keys.keyring().active(keys.RECEIPT).kid
    leaves = [json.loads(bytes(raw)) for raw in LogEntry.objects.order_by("index").values_list("leaf", flat=True)]
    assert [(leaf["type"], leaf["id"]) for leaf in leaves] == [
        ("registry_key.retired", f"kid_{old_kid}"),
        ("registry_key.added", f"kid_{new_kid}"),
    ]
    # The retired leaf commits to the key as it is now listed, end of validity included.
    from registry.lib.canonical import canonical_json, sha256_digest

    retired = next(key for key in keys.keyring().keys if key.kid == old_kid)
    assert leaves[0]["digest"] == sha256_digest(canonical_json(retired.public_jwk()))
    # Each leaf has its outbox event, written in the same transaction (docs/design.md invariant 1).
    from registry.events.models import OutboxEvent

    events = list(OutboxEvent.objects.order_by("pk").values_list("type", "payload"))
    assert events == [
        ("registry_key.retired", {"kid": old_kid, "purpose": "receipt", "digest": leaves[0]["digest"]}),
        ("registry_key.added", {"kid": new_kid, "purpose": "receipt", "digest": leaves[1]["digest"]}),
    ]


@pytest.mark.django_db
def test_a_rotation_whose_event_cannot_be_written_changes_nothing(key_file, monkeypatch):
    from registry import key_rotation

    old_kid = keys.keyring().active(keys.RECEIPT).kid
    before = key_file.read_bytes()

    def refuse(**kwargs):
        raise RuntimeError("the outbox refuses")

    monkeypatch.setattr(key_rotation, "event_record", refuse)
    with pytest.raises(RuntimeError):
        key_rotation.registry_key_rotate(purpose="receipt")
    assert key_file.read_bytes() == before
    assert keys.keyring().active(keys.RECEIPT).kid == old_kid
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_kids_are_never_reused_across_many_rotations(key_file):
    for purpose in ("receipt", "checkpoint", "receipt", "receipt", "checkpoint"):
        _rotate(purpose)
    ring = keys.keyring()
    kids = [key.kid for key in ring.keys]
    assert len(kids) == len(set(kids)) == 7
    for purpose in keys.PURPOSES:
        assert len([key for key in ring.by_purpose(purpose) if key.active]) == 1
    out = io.StringIO()
    call_command("registry_keys", "list", stdout=out)
    assert out.getvalue().count("active") == 2
    assert out.getvalue().count("retired") == 5


@pytest.mark.django_db
def test_rotating_the_checkpoint_key_changes_the_log_key_and_old_checkpoints_still_verify(anon, key_file):
    old_vkey = anon.get("/api/v1/log/key").content.decode().strip()
    old_note = checkpoint_publish().note
    _rotate("checkpoint")  # appends two leaves
    new_vkey = anon.get("/api/v1/log/key").content.decode().strip()
    assert new_vkey != old_vkey
    assert new_vkey.split("+")[0] == old_vkey.split("+")[0]  # same log name
    new_note = checkpoint_publish().note
    assert verify_checkpoint(old_note, old_vkey).size == 0
    assert verify_checkpoint(new_note, new_vkey).size == 2
    call_command("verify_log", "--quiet", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_an_unknown_purpose_is_refused(key_file):
    with pytest.raises(ValueError, match="purpose"):
        keys.key_rotate("webhooks")
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("registry_keys", "rotate", "webhooks")


@pytest.mark.django_db(transaction=True)
def test_a_rotation_by_another_process_is_picked_up_without_a_restart(key_file):
    from django.db import connection

    old_kid = keys.keyring().active(keys.RECEIPT).kid
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{Path(db['NAME']).resolve()}"
    elif db.get("PASSWORD"):
        pytest.skip("password-protected test database")
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    done = subprocess.run(
        [sys.executable, "manage.py", "registry_keys", "rotate", "receipt"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "REGISTRY_SIGNING_KEY_FILE": str(key_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ring = keys.keyring()
    assert ring.active(keys.RECEIPT).kid != old_kid
    assert old_kid in {key.kid for key in ring.keys}
    assert receipt_sign(claims={}).split(".")[0] != ""
    assert json.loads(_b64url_decode(receipt_sign(claims={}).split(".")[0]))["kid"] == ring.active(keys.RECEIPT).kid


@pytest.mark.django_db
def test_the_witness_key_rotates_from_the_command_like_the_others(key_file):
    old = keys.witness_key().kid  # made on first use
    _rotate("witness")
    assert keys.keyring().active(keys.WITNESS).kid != old
    leaves = [
        json.loads(bytes(raw))["type"] for raw in LogEntry.objects.order_by("index").values_list("leaf", flat=True)
    ]
    assert leaves == ["registry_key.retired", "registry_key.added"]
