"""The "Check a file" page: plain words, English and Indonesian, the file never kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from .conftest import jpeg

PAGE = "/check-a-file/"


def left_on_disk(uploads_dir: Path) -> list[Path]:
    return list(uploads_dir.iterdir()) if uploads_dir.exists() else []


@pytest.mark.django_db
def test_the_page_explains_itself_and_offers_a_labelled_file_field():
    response = Client().get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "<h1>Check a file</h1>" in text
    assert 'enctype="multipart/form-data"' in text
    assert '<label class="field__label" for="id_file">File to check</label>' in text
    assert "never stored" in text


@pytest.mark.django_db
def test_the_page_speaks_indonesian():
    client = Client()
    client.cookies["django_language"] = "id"
    text = client.get(PAGE).content.decode()
    assert "<h1>Periksa berkas</h1>" in text
    assert "kredensial konten" in text
    assert "Check a file" not in text


@pytest.mark.django_db
def test_a_signed_file_gets_an_answer_in_plain_words(permitted, test_ca, uploads_dir):
    signed = test_ca.sign(jpeg(), "jpeg", permitted()["assertions"])
    response = Client().post(PAGE, {"file": SimpleUploadedFile("clip.jpg", signed, "image/jpeg")})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Consent checks out" in text
    assert hashlib.sha256(signed).hexdigest() in text
    assert "Studio Signer" in text
    assert left_on_disk(uploads_dir) == []


@pytest.mark.django_db
def test_the_answer_for_a_file_without_credentials_in_indonesian(uploads_dir):
    client = Client()
    client.cookies["django_language"] = "id"
    response = client.post(PAGE, {"file": SimpleUploadedFile("foto.jpg", jpeg(), "image/jpeg")})
    assert response.status_code == 200
    assert "Tidak ada kredensial konten" in response.content.decode()
    assert left_on_disk(uploads_dir) == []


@pytest.mark.django_db
def test_a_file_that_is_not_media_is_explained(uploads_dir):
    response = Client().post(PAGE, {"file": SimpleUploadedFile("notes.txt", b"shopping list\n" * 50, "text/plain")})
    assert response.status_code == 200
    assert "File could not be read" in response.content.decode()
    assert left_on_disk(uploads_dir) == []


@pytest.mark.django_db
def test_sending_no_file_asks_for_one():
    response = Client().post(PAGE, {})
    assert response.status_code == 400
    assert "Choose a file to check." in response.content.decode()


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_on_the_page(settings, uploads_dir):
    settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES = 1000
    response = Client().post(PAGE, {"file": SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"\0" * 5000, "image/jpeg")})
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert left_on_disk(uploads_dir) == []


@pytest.mark.django_db
def test_a_large_file_is_checked_in_the_background_and_shown_when_done(
    settings, permitted, test_ca, uploads_dir, eager_tasks
):
    settings.REGISTRY_PROVENANCE_ASYNC_BYTES = 100
    signed = test_ca.sign(jpeg(), "jpeg", permitted()["assertions"])
    client = Client()
    response = client.post(PAGE, {"file": SimpleUploadedFile("clip.jpg", signed, "image/jpeg")})
    assert response.status_code == 302
    status = client.get(response["Location"])
    assert status.status_code == 200
    assert "Consent checks out" in status.content.decode()
    assert left_on_disk(uploads_dir) == []


@pytest.mark.django_db
def test_page_checks_are_throttled_too(settings, uploads_dir):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "provenance_check": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = Client()
    codes = [
        client.post(PAGE, {"file": SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg")}).status_code for _ in range(2)
    ]
    assert codes == [200, 429]


@pytest.mark.django_db
def test_every_state_of_the_page_has_a_strict_csp_and_no_inline_code(
    settings, permitted, test_ca, uploads_dir, eager_tasks
):
    from tests.security.test_security_web import PageParser, csp_problems

    settings.REGISTRY_PROVENANCE_ASYNC_BYTES = 10_000_000
    client = Client(enforce_csrf_checks=True)
    empty = client.get(PAGE)
    token = empty.cookies["csrftoken"].value if "csrftoken" in empty.cookies else None
    page = empty.content.decode()
    form_token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    signed = test_ca.sign(jpeg(), "jpeg", permitted()["assertions"])
    answered = client.post(
        PAGE, {"file": SimpleUploadedFile("clip.jpg", signed, "image/jpeg"), "csrfmiddlewaretoken": form_token}
    )
    assert token is not None
    assert answered.status_code == 200
    settings.REGISTRY_PROVENANCE_ASYNC_BYTES = 100
    queued = client.post(
        PAGE, {"file": SimpleUploadedFile("clip.jpg", signed, "image/jpeg"), "csrfmiddlewaretoken": form_token}
    )
    status = client.get(queued["Location"])
    for response in (empty, answered, status):
        parser = PageParser()
        parser.feed(response.content.decode())
        assert csp_problems(response) + parser.problems == []
        assert all(form["csrf"] == 1 for form in parser.post_forms)


@pytest.mark.django_db
def test_the_page_refuses_a_post_without_its_csrf_token(uploads_dir):
    response = Client(enforce_csrf_checks=True).post(PAGE, {"file": SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg")})
    assert response.status_code == 403
    assert left_on_disk(uploads_dir) == []


@pytest.mark.django_db
def test_an_unknown_background_check_is_not_found():
    assert Client().get(PAGE + "?check=chk_unknown").status_code == 404


@pytest.mark.django_db
def test_too_many_parts_on_the_page_are_a_bad_request(uploads_dir):
    parts = {f"extra{n}": SimpleUploadedFile(f"{n}.jpg", b"x", "image/jpeg") for n in range(150)}
    response = Client().post(PAGE, {"file": SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg"), **parts})
    assert response.status_code == 400
    assert left_on_disk(uploads_dir) == []
