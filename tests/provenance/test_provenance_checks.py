"""POST /api/v1/provenance/checks with real files: JPEG, PNG and WAV made here, signed with
c2pa-python under a test CA; every verdict, bad input, and no file ever left on disk."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile

from consent import services
from tests.consent.conftest import witness

from .conftest import MEDIA, MIME, jpeg, mp4

URL = "/api/v1/provenance/checks"


def check(client: Any, data: bytes, uploads_dir: Path, name: str = "clip.jpg", kind: str = "jpeg") -> Any:
    response = client.post(
        URL, {"file": SimpleUploadedFile(name, data, MIME.get(kind, "image/jpeg"))}, format="multipart"
    )
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == [], "an upload was left on disk"
    return response


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["jpeg", "png", "wav", "mp4"])
def test_a_file_carrying_a_standing_consent_is_consented(kind, permitted, test_ca, anon, uploads_dir):
    made = permitted()
    signed = test_ca.sign(MEDIA[kind](), kind, made["assertions"])
    response = check(anon, signed, uploads_dir, name=f"clip.{kind}", kind=kind)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == "consented"
    assert body["sha256"] == hashlib.sha256(signed).hexdigest()
    assert body["c2pa"]["present"] is True
    assert body["c2pa"]["validation_state"] == "Trusted"
    assert body["c2pa"]["signer"]["common_name"] == "Studio Signer"
    assert body["c2pa"]["signer"]["trusted"] is True
    [claim] = body["consents"]
    assert claim["consent"] == made["consent"].public_id
    assert claim["subject"] == made["subject"].public_id
    assert (claim["receipt_valid"], claim["decision_then"], claim["status_now"]) == (True, "permitted", "active")
    assert claim["training_mining_consistent"] is True
    assert claim["log_proof_valid"] is None


@pytest.mark.django_db
def test_a_consent_revoked_after_signing_is_reported_revoked(permitted, test_ca, anon, uploads_dir):
    made = permitted()
    signed = test_ca.sign(jpeg(), "jpeg", made["assertions"])
    services.consent_revoke(consent=made["consent"], actor=made["person"], reason="changed my mind", witness=witness())
    body = check(anon, signed, uploads_dir).json()
    assert body["verdict"] == "consent_revoked"
    [claim] = body["consents"]
    assert (claim["receipt_valid"], claim["decision_then"], claim["status_now"]) == (True, "permitted", "revoked")


@pytest.mark.django_db
def test_changed_pixels_break_the_hard_binding_and_the_consent_claim(permitted, test_ca, anon, uploads_dir):
    made = permitted()
    signed = bytearray(test_ca.sign(jpeg(), "jpeg", made["assertions"]))
    signed[-40] ^= 0x5A  # inside the image data, just before the end-of-image marker
    body = check(anon, bytes(signed), uploads_dir).json()
    assert body["c2pa"]["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in body["c2pa"]["errors"]
    assert body["verdict"] == "consent_invalid"


@pytest.mark.django_db
def test_a_receipt_signed_by_someone_else_is_not_a_consent(permitted, test_ca, anon, uploads_dir):
    made = permitted()
    header, payload, _ = made["answer"]["receipt"].split(".")
    forged = f"{header}.{payload}".encode()
    signature = Ed25519PrivateKey.generate().sign(forged)
    made["assertions"][0]["data"]["receipt"] = f"{header}.{payload}.{b64url(signature)}"
    body = check(anon, test_ca.sign(jpeg(), "jpeg", made["assertions"]), uploads_dir).json()
    assert body["verdict"] == "consent_invalid"
    [claim] = body["consents"]
    assert claim["receipt_valid"] is False
    assert claim["decision_then"] is None
    # A consent's status is private: a claim that does not prove itself learns nothing about it.
    assert claim["status_now"] is None


@pytest.mark.django_db
def test_a_genuine_receipt_claimed_for_another_consent_does_not_count(permitted, test_ca, anon, uploads_dir):
    first, second = permitted(), permitted()
    first["assertions"][0]["data"]["consent"] = second["consent"].public_id
    first["assertions"][0]["data"]["subject"] = second["subject"].public_id
    body = check(anon, test_ca.sign(jpeg(), "jpeg", first["assertions"]), uploads_dir).json()
    assert body["verdict"] == "consent_invalid"
    assert body["consents"][0]["receipt_valid"] is False
    assert body["consents"][0]["status_now"] is None


@pytest.mark.django_db
def test_a_manifest_without_a_restu_assertion_claims_no_consent(test_ca, anon, uploads_dir):
    training = {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}}
    body = check(anon, test_ca.sign(jpeg(), "jpeg", [training]), uploads_dir).json()
    assert body["verdict"] == "no_consent_claim"
    assert body["c2pa"]["present"] is True
    assert body["consents"] == []


@pytest.mark.django_db
def test_a_file_without_content_credentials_has_no_manifest(anon, uploads_dir):
    data = jpeg()
    body = check(anon, data, uploads_dir).json()
    assert body["verdict"] == "no_manifest"
    assert body["c2pa"] == {"present": False, "validation_state": None, "signer": None, "errors": []}
    assert body["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.django_db
def test_a_file_allowing_training_the_person_did_not_consent_to_is_invalid(permitted, test_ca, anon, uploads_dir):
    made = permitted()  # a permit to generate only
    [claim, training] = made["assertions"]
    assert training["data"]["entries"]["cawg.ai_training"] == {"use": "notAllowed"}
    training["data"]["entries"]["cawg.ai_training"] = {"use": "allowed"}
    body = check(anon, test_ca.sign(jpeg(), "jpeg", [claim, training]), uploads_dir).json()
    assert body["verdict"] == "consent_invalid"
    assert body["consents"][0]["training_mining_consistent"] is False
    assert body["consents"][0]["receipt_valid"] is True


@pytest.mark.django_db
def test_training_allowed_by_the_consent_is_consistent(permitted, test_ca, anon, uploads_dir):
    made = permitted(activities=["generate", "train_model"])
    entries = made["assertions"][1]["data"]["entries"]
    assert entries["cawg.ai_training"] == {"use": "allowed"}
    assert entries["cawg.ai_generative_training"] == {"use": "allowed"}
    body = check(anon, test_ca.sign(jpeg(), "jpeg", made["assertions"]), uploads_dir).json()
    assert body["verdict"] == "consented"
    assert body["consents"][0]["training_mining_consistent"] is True


@pytest.mark.django_db
def test_a_truncated_file_is_unreadable(permitted, test_ca, anon, uploads_dir):
    signed = test_ca.sign(jpeg(), "jpeg", permitted()["assertions"])
    response = check(anon, signed[: len(signed) // 2], uploads_dir)
    assert response.status_code == 200
    assert response.json()["verdict"] == "unreadable"


@pytest.mark.django_db
@pytest.mark.parametrize("data", [b"%PDF? no: just a letter to my aunt.\n" * 40, b"", b"\x00" * 4096])
def test_a_file_that_is_not_media_is_unreadable(data, anon, uploads_dir):
    response = check(anon, data, uploads_dir, name="letter.jpg")
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "unreadable"
    assert body["c2pa"]["present"] is False
    assert body["c2pa"]["errors"]


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_and_not_kept(settings, anon, uploads_dir):
    settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES = 10_000
    response = check(anon, b"\xff\xd8\xff" + b"\x00" * 20_000, uploads_dir)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert "10000 bytes" in response.json()["detail"]


def test_the_default_upload_limit_is_100_mib():
    from django.conf import settings

    assert settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES == 100 * 1024 * 1024


@pytest.mark.django_db
def test_a_multipart_without_a_file_part_is_a_problem(anon, uploads_dir):
    response = anon.post(URL, {"photo": SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg")}, format="multipart")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "'file'" in response.json()["detail"]
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"file": "aGVsbG8="}), "application/json"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (
            b'--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
            "multipart/form-data; boundary=x",
        ),
        (b"whatever", "multipart/form-data"),
    ],
)
def test_a_wrong_or_broken_content_type_is_a_problem(body, content_type, anon, uploads_dir):
    response = anon.generic("POST", URL, body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []


@pytest.mark.django_db
def test_anonymous_checks_are_strictly_throttled(settings, anon, uploads_dir):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "provenance_check": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    codes = [check(anon, jpeg(), uploads_dir).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_a_large_file_is_checked_by_a_worker_behind_a_status_url(
    settings, permitted, test_ca, anon, uploads_dir, eager_tasks
):
    settings.REGISTRY_PROVENANCE_ASYNC_BYTES = 100
    signed = test_ca.sign(jpeg(), "jpeg", permitted()["assertions"])
    response = check(anon, signed, uploads_dir)
    assert response.status_code == 202
    queued = response.json()
    assert queued["sha256"] == hashlib.sha256(signed).hexdigest()
    assert response["Location"] == queued["status_url"]
    status = anon.get(queued["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "done"
    assert status.json()["result"]["verdict"] == "consented"


@pytest.mark.django_db
def test_an_unknown_check_id_is_not_found(anon):
    response = anon.get(URL + "/chk_doesnotexist")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_file_carrying_a_cleared_releases_assertions_is_consented(signed, org, user, test_ca, anon, uploads_dir):
    from datetime import timedelta

    from consent.c2pa import release_c2pa
    from consent.services import releases

    subject, _, consent = signed(production="Malam di Jakarta", representation="counsel")
    release = releases.release_create(
        organization=org,
        title="Malam di Jakarta",
        release_date=consent.valid_from + timedelta(days=10),
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv"}],
        tools=[],
        user=user,
    )
    [appearance] = release_c2pa(release=release)["appearances"]
    body = check(anon, test_ca.sign(jpeg(), "jpeg", appearance["c2pa_assertions"]), uploads_dir).json()
    assert body["verdict"] == "consented"
    assert body["consents"][0]["decision_then"] == "permitted"


@pytest.mark.django_db
def test_changed_frames_in_a_movie_break_its_hard_binding(permitted, test_ca, anon, uploads_dir):
    signed = bytearray(test_ca.sign(mp4(), "mp4", permitted()["assertions"]))
    signed[-10] ^= 0xFF  # inside mdat
    body = check(anon, bytes(signed), uploads_dir, name="clip.mp4", kind="mp4").json()
    assert body["c2pa"]["validation_state"] == "Invalid"
    assert "assertion.bmffHash.mismatch" in body["c2pa"]["errors"]
    assert body["verdict"] == "consent_invalid"


def _zip_bomb() -> bytes:
    """400 KB that unpack to 400 MiB, under the name a C2PA manifest takes in ZIP-based formats."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip")
        with archive.open("META-INF/content_credential.c2pa", "w", force_zip64=True) as entry:
            for _ in range(400):
                entry.write(bytes(1 << 20))
    return buffer.getvalue()


def _png_bomb() -> bytes:
    """A PNG declaring 65,535 x 65,535 pixels (12 GiB decoded) in a few hundred bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes(1 << 20), 9)  # the first rows only: nobody should decode it
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.django_db
@pytest.mark.parametrize("bomb", [_zip_bomb, _png_bomb])
def test_decompression_bombs_are_answered_without_unpacking_them(bomb, anon, uploads_dir):
    import time

    started = time.monotonic()
    response = check(anon, bomb(), uploads_dir, name="bomb.bin")
    assert response.status_code == 200
    assert response.json()["verdict"] in ("unreadable", "no_manifest")
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_a_signed_in_browser_uploads_with_its_csrf_token(user, uploads_dir):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/check-a-file/")
    token = browser.cookies["csrftoken"].value
    data = jpeg()
    refused = browser.post(URL, {"file": SimpleUploadedFile("a.jpg", data, "image/jpeg")})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    for body, content_type in (('{"file": "x"}', "application/json"), (data, "image/jpeg")):
        forged = browser.post(URL, body, content_type=content_type)
        assert forged.status_code == 403, forged.content  # the CSRF refusal comes before any parsing
        assert "CSRF" in forged.json()["detail"]
    accepted = browser.post(URL, {"file": SimpleUploadedFile("a.jpg", data, "image/jpeg")}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []


@pytest.mark.django_db
def test_too_many_parts_are_a_problem_and_leave_nothing(anon, uploads_dir):
    parts = {f"extra{n}": SimpleUploadedFile(f"{n}.jpg", b"x", "image/jpeg") for n in range(150)}
    response = anon.post(URL, {"file": SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg"), **parts}, format="multipart")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == []


@pytest.mark.django_db
def test_a_log_proof_of_the_consent_is_checked_against_the_registrys_log(permitted, test_ca, anon, uploads_dir):
    from registry.transparency.services import checkpoint_publish
    from registry.witness.selectors import log_proof_for

    made = permitted()
    checkpoint_publish()
    proof = log_proof_for(made["consent"].public_id)
    assert proof is not None
    made["assertions"][0]["data"]["log_proof"] = proof
    body = check(anon, test_ca.sign(jpeg(), "jpeg", made["assertions"]), uploads_dir).json()
    assert body["consents"][0]["log_proof_valid"] is True
    assert body["verdict"] == "consented"


@pytest.mark.django_db
def test_a_log_proof_of_another_consent_or_a_broken_one_is_not_valid(permitted, test_ca, anon, uploads_dir):
    from registry.transparency.services import checkpoint_publish
    from registry.witness.selectors import log_proof_for

    first, second = permitted(), permitted()
    checkpoint_publish()
    for forged in (log_proof_for(second["consent"].public_id), "c2sp.org/tlog-proof@v1\nindex 0\n\nnot a note\n"):
        first["assertions"][0]["data"]["log_proof"] = forged
        body = check(anon, test_ca.sign(jpeg(), "jpeg", first["assertions"]), uploads_dir).json()
        assert body["consents"][0]["log_proof_valid"] is False
        assert body["verdict"] == "consent_invalid"


@pytest.mark.django_db
def test_a_bulk_answers_batch_receipt_ties_to_its_consent_through_the_access_log(
    signed, studio, test_ca, anon, uploads_dir
):
    from consent.c2pa import c2pa_assertions
    from consent.rules.decision import UseQuery
    from consent.verification import Check

    subject, _, consent = signed()
    org, client = studio
    query = {"subject": subject.public_id, "medium": "face", "activity": "generate", "purpose": "film_tv"}
    query |= {"territory": "ID", "date": consent.valid_from.isoformat()}
    response = client.post("/api/v1/verifications/bulk", {"queries": [query]}, format="json")
    assert response.status_code == 200, response.content
    batch = response.json()
    assert batch["results"][0]["decision"] == "permitted"
    use = UseQuery(medium="face", activity="generate", purpose="film_tv", territory="ID", on=consent.valid_from)
    assertions = c2pa_assertions(
        caller=org.public_id,
        checks=[Check(subject.public_id, use)],
        receipt=batch["receipt"],
        consent=consent.public_id,
    )
    body = check(anon, test_ca.sign(jpeg(), "jpeg", assertions), uploads_dir).json()
    assert body["consents"][0]["receipt_valid"] is True
    assert body["verdict"] == "consented"
