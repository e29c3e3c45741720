"""The command line, including a full audit against a fake registry on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from restu_verify.__main__ import main
from restu_verify_fakes import FakeLog, jwk_for, make_jws, signed_checkpoint, verifier_key

CLIENT_DIR = Path(__file__).resolve().parents[1]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out else {}), captured.err


# --- receipt and checkpoint ---------------------------------------------------------------


def test_receipt_command_accepts_a_file_and_a_jwks_url(
    tmp_path: Path, fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    key = Ed25519PrivateKey.generate()
    log.jwks = {"keys": [jwk_for(key, "k1")]}
    token = make_jws({"alg": "Ed25519", "kid": "k1"}, b'{"decision":"permitted"}', key)
    (tmp_path / "receipt.jwt").write_text(token + "\n")
    (tmp_path / "response.json").write_text(json.dumps({"decision": "permitted", "receipt": token}))
    (tmp_path / "jwks.json").write_text(json.dumps(log.jwks))

    code, out, _ = _run(["receipt", str(tmp_path / "receipt.jwt"), "--jwks", f"{url}/.well-known/jwks.json"], capsys)
    assert code == 0
    assert out == {"valid": True, "alg": "Ed25519", "kid": "k1", "payload": {"decision": "permitted"}}
    code, out, _ = _run(["receipt", str(tmp_path / "response.json"), "--jwks", str(tmp_path / "jwks.json")], capsys)
    assert (code, out["valid"]) == (0, True)


def test_receipt_command_reports_a_forgery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk_for(key, "k1")]}))
    forged = make_jws({"alg": "Ed25519", "kid": "k1"}, b"{}", Ed25519PrivateKey.generate())
    (tmp_path / "receipt.jwt").write_text(forged)
    code, out, err = _run(["receipt", str(tmp_path / "receipt.jwt"), "--jwks", str(tmp_path / "jwks.json")], capsys)
    assert code == 1
    assert out == {"valid": False, "error": "the signature does not verify"}
    assert "INVALID" in err


def test_missing_files_are_an_error_not_a_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["receipt", str(tmp_path / "nope"), "--jwks", str(tmp_path / "nope")], capsys)
    assert (code, out) == (2, {})
    assert "cannot read" in err


def test_checkpoint_command_runs_as_a_module(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    (tmp_path / "checkpoint").write_text(signed_checkpoint("restu.test/log", key, 5, bytes(32)))
    command = [sys.executable, "-m", "restu_verify", "checkpoint", str(tmp_path / "checkpoint")]
    ok = subprocess.run(
        [*command, "--key", verifier_key("restu.test/log", key)], cwd=CLIENT_DIR, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "valid": True,
        "origin": "restu.test/log",
        "size": 5,
        "root": base64.b64encode(bytes(32)).decode(),
    }
    other = verifier_key("restu.test/log", Ed25519PrivateKey.generate())
    bad = subprocess.run([*command, "--key", other], cwd=CLIENT_DIR, capture_output=True, text=True)
    assert bad.returncode == 1


# --- audit ----------------------------------------------------------------------------------


def test_audit_checks_everything_and_remembers_the_checkpoint(
    tmp_path: Path, fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(10)
    state = tmp_path / "state.json"
    vkey = verifier_key(log.name, log.key)

    code, out, err = _run(["audit", url, "--state", str(state), "--key", vkey, "--page-size", "4"], capsys)
    assert code == 0, err
    assert (out["size"], out["consistent_with_size"]) == (10, None)
    assert "10/10 entries verified" in err
    saved = json.loads(state.read_text())
    assert (saved["size"], saved["origin"], saved["key"]) == (10, log.name, vkey)
    # The server caps pages at 3 entries: the client follows along instead of skipping.
    assert log.requests.count("/api/v1/log/entries") == 4

    log.add(7)
    log.requests.clear()
    code, out, err = _run(["audit", url, "--state", str(state)], capsys)
    assert code == 0, err
    assert (out["size"], out["consistent_with_size"]) == (17, 10)
    assert "/api/v1/log/proof/consistency" in log.requests
    assert json.loads(state.read_text())["size"] == 17


def test_audit_without_a_pinned_key_uses_and_then_pins_the_served_one(
    tmp_path: Path, fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(2)
    state = tmp_path / "state.json"
    code, _, err = _run(["audit", url, "--state", str(state)], capsys)
    assert code == 0
    assert "pin it with --key" in err

    log.key = Ed25519PrivateKey.generate()  # the operator swaps the key and re-signs
    code, out, _ = _run(["audit", url, "--state", str(state)], capsys)
    assert code == 1
    assert "log key differs" in str(out["error"])


def test_audit_of_an_empty_log(fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]) -> None:
    log, url = fake_log
    code, out, _ = _run(["audit", url, "--key", verifier_key(log.name, log.key)], capsys)
    assert (code, out["size"]) == (0, 0)


def test_audit_detects_a_leaf_that_does_not_match_its_hash(
    fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(5)
    honest = log.entry

    def lying_entry(index: int) -> dict[str, object]:
        entry = honest(index)
        if index == 3:
            entry["leaf"] = {**log.leaves[3], "id": "con_forged"}
        return entry

    log.entry = lying_entry  # type: ignore[method-assign]
    code, out, _ = _run(["audit", url, "--key", verifier_key(log.name, log.key)], capsys)
    assert code == 1
    assert out["error"] == "entry 3: leaf_hash does not match the leaf's canonical JSON"


def test_audit_detects_entries_that_do_not_add_up_to_the_root(
    fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(5)
    log.overrides["/api/v1/log/checkpoint"] = lambda _: (
        200,
        "text/plain",
        signed_checkpoint(log.name, log.key, 5, bytes(32)).encode(),
    )
    code, out, _ = _run(["audit", url, "--key", verifier_key(log.name, log.key)], capsys)
    assert code == 1
    assert "do not add up" in str(out["error"])


def test_audit_detects_a_checkpoint_signed_by_another_key(
    fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(3)
    pinned = verifier_key(log.name, Ed25519PrivateKey.generate())
    code, out, _ = _run(["audit", url, "--key", pinned], capsys)
    assert code == 1
    assert out["error"] == "no signature by the log key"


def test_audit_detects_rewritten_history(
    tmp_path: Path, fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(6)
    state = tmp_path / "state.json"
    vkey = verifier_key(log.name, log.key)
    assert _run(["audit", url, "--state", str(state), "--key", vkey], capsys)[0] == 0

    log.leaves[2] = {**log.leaves[2], "digest": "sha256:" + "f" * 64}  # quietly edit an old entry
    log.add(3)
    code, out, _ = _run(["audit", url, "--state", str(state), "--key", vkey], capsys)
    assert code == 1
    assert "history was rewritten" in str(out["error"])
    assert json.loads(state.read_text())["size"] == 6  # the state is not advanced on failure


def test_audit_checks_the_consistency_proof(
    tmp_path: Path, fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(5)
    state = tmp_path / "state.json"
    vkey = verifier_key(log.name, log.key)
    assert _run(["audit", url, "--state", str(state), "--key", vkey], capsys)[0] == 0
    log.add(4)
    bogus = {"first": 5, "second": 9, "proof": [base64.b64encode(bytes(32)).decode()] * 3}
    log.overrides["/api/v1/log/proof/consistency"] = lambda _: (200, "application/json", json.dumps(bogus).encode())
    code, out, _ = _run(["audit", url, "--state", str(state), "--key", vkey], capsys)
    assert code == 1
    assert "consistency proof from 5 to 9 entries does not verify" in str(out["error"])


def test_audit_detects_a_shrinking_log(
    tmp_path: Path, fake_log: tuple[FakeLog, str], capsys: pytest.CaptureFixture[str]
) -> None:
    log, url = fake_log
    log.add(4)
    state = tmp_path / "state.json"
    vkey = verifier_key(log.name, log.key)
    assert _run(["audit", url, "--state", str(state), "--key", vkey], capsys)[0] == 0
    del log.leaves[3]
    code, out, _ = _run(["audit", url, "--state", str(state), "--key", vkey], capsys)
    assert code == 1
    assert "shrank from 4 to 3" in str(out["error"])


def test_audit_of_an_unreachable_log_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    key = verifier_key("restu.test/log", Ed25519PrivateKey.generate())
    code, out, err = _run(["audit", "http://127.0.0.1:9", "--key", key], capsys)
    assert (code, out) == (2, {})
    assert "error" in err
