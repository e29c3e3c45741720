"""The documented 20-line snippet really accepts a registry token and refuses the wrong ones."""

import importlib.util
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

EXAMPLE = Path(__file__).resolve().parents[2] / "clients" / "python" / "examples" / "check_consent_token.py"


def _load():
    spec = importlib.util.spec_from_file_location("check_consent_token", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_the_snippet_checks_a_real_token(signed, studio, anon, tmp_path):
    subject, _, consent = signed()
    _, client = studio
    day = (timezone.now().date() + timedelta(days=5)).isoformat()
    body = {"subject": subject.public_id, "medium": "face", "purpose": "film_tv", "territory": "ID", "date": day}
    token = client.post("/api/v1/consent-tokens", body).json()["token"]
    jwks = anon.get("/.well-known/jwks.json").json()
    check = _load().check
    assert check(token, jwks, subject.public_id, "face", "film_tv")["consent"] == consent.public_id
    with pytest.raises(ValueError, match="another use"):
        check(token, jwks, subject.public_id, "voice", "film_tv")
    receipt = client.post("/api/v1/verifications", {**body, "activity": "generate"}).json()["receipt"]
    with pytest.raises(ValueError, match="not a Restu consent token"):
        check(receipt, jwks, subject.public_id, "face", "film_tv")
    (tmp_path / "token.txt").write_text(token)
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            str(tmp_path / "token.txt"),
            str(tmp_path / "jwks.json"),
            subject.public_id,
            "face",
            "film_tv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == consent.public_id
