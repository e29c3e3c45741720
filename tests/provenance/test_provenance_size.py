"""The body-size limits: "Check a file" takes media up to its own limit, every other call keeps 1 MiB."""

from __future__ import annotations

import pytest

from tests.provenance.test_provenance_checks import check

THREE_MIB = 3 * 1024 * 1024


@pytest.mark.django_db
def test_a_file_above_the_api_body_limit_but_within_the_upload_limit_is_checked(anon, uploads_dir, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "provenance_check": "100/min"},
    }
    assert settings.API_MAX_BODY_BYTES < THREE_MIB < settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES
    response = check(anon, b"\xff\xd8\xff" + b"\x00" * THREE_MIB, uploads_dir)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["verdict"] in {"unreadable", "no_manifest"}


@pytest.mark.django_db
def test_every_other_api_call_keeps_its_one_mebibyte_limit(anon):
    response = anon.post("/api/v1/receipts/verify", b"x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
