"""``restu-verify asset FILE``: the same check offline, with the registry's JWKS and our test CA."""

from __future__ import annotations

import json

import pytest
from restu_verify.__main__ import main

from .conftest import jpeg


@pytest.fixture
def jwks_file(anon, tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(anon.get("/.well-known/jwks.json").json()))
    return path


def run(capsys, *args):
    status = main(["asset", *map(str, args)])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.django_db
def test_a_consented_file_checks_out_offline(permitted, test_ca, jwks_file, tmp_path, capsys):
    made = permitted()
    media = tmp_path / "clip.jpg"
    media.write_bytes(test_ca.sign(jpeg(), "jpeg", made["assertions"]))
    status, body = run(capsys, media, "--jwks", jwks_file, "--anchors", test_ca.root_path)
    assert status == 0
    assert body["verdict"] == "consented"
    assert body["offline"] is True
    assert body["c2pa"]["validation_state"] == "Trusted"
    [claim] = body["consents"]
    assert (claim["consent"], claim["receipt_valid"], claim["decision_then"]) == (
        made["consent"].public_id,
        True,
        "permitted",
    )
    assert claim["status_now"] is None  # only the registry knows today's status


@pytest.mark.django_db
def test_a_forged_receipt_fails_offline(permitted, test_ca, jwks_file, tmp_path, capsys):
    made = permitted()
    header, payload, signature = made["answer"]["receipt"].split(".")
    made["assertions"][0]["data"]["receipt"] = f"{header}.{payload}.{signature[::-1]}"
    media = tmp_path / "clip.jpg"
    media.write_bytes(test_ca.sign(jpeg(), "jpeg", made["assertions"]))
    status, body = run(capsys, media, "--jwks", jwks_file, "--anchors", test_ca.root_path)
    assert status == 1
    assert body["verdict"] == "consent_invalid"
    assert body["consents"][0]["receipt_valid"] is False


@pytest.mark.django_db
def test_an_untrusted_signer_is_not_enough_when_anchors_are_given(permitted, test_ca, jwks_file, tmp_path, capsys):
    other_root = tmp_path / "other-root.pem"
    other_root.write_bytes(
        type(test_ca)(tmp_path).root_path.read_bytes()  # a different test CA's root
    )
    media = tmp_path / "clip.jpg"
    media.write_bytes(test_ca.sign(jpeg(), "jpeg", permitted()["assertions"]))
    status, body = run(capsys, media, "--jwks", jwks_file, "--anchors", other_root)
    assert status == 1
    assert body["c2pa"]["validation_state"] == "Valid"
    assert body["verdict"] == "consent_invalid"


def test_files_without_credentials_or_not_media_offline(tmp_path, capsys):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    plain, letter = tmp_path / "plain.jpg", tmp_path / "letter.txt"
    plain.write_bytes(jpeg())
    letter.write_text("dear aunt\n" * 30)
    assert run(capsys, plain, "--jwks", jwks)[1]["verdict"] == "no_manifest"
    assert run(capsys, letter, "--jwks", jwks)[1]["verdict"] == "unreadable"


def test_a_missing_jwks_file_is_an_error(tmp_path, capsys):
    media = tmp_path / "plain.jpg"
    media.write_bytes(jpeg())
    assert main(["asset", str(media), "--jwks", str(tmp_path / "nope.json")]) == 2
    assert "error" in capsys.readouterr().err
