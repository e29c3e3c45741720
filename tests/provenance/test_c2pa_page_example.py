"""The c2pa-python example on the studio's "Content Credentials" page works as printed: run as
shown on a small JPEG with the test CA's signer, it embeds a cleared release's assertions, which
c2pa-python reads back and Restu's "check a file" accepts as consent."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import c2pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from consent.c2pa import release_c2pa
from consent.pages import studio_c2pa
from consent.services import releases

from .conftest import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def cleared(signed, org, user):
    subjects = []
    for name in ("Sari", "Budi"):
        subject, _person, consent = signed(production="Malam di Jakarta", representation="counsel")
        subjects.append((subject, consent, name))
    release = releases.release_create(
        organization=org,
        title="Malam di Jakarta",
        release_date=subjects[0][1].valid_from + timedelta(days=10),
        territories=["ID"],
        appearances=[
            {"subject": subject.public_id, "media": ["face"], "purpose": "film_tv", "name": name}
            for subject, _consent, name in subjects
        ],
        tools=[],
        user=user,
    )
    assert release.status == "cleared", release.report
    return release


def _run_example(folder: Path, test_ca: Any, assertions: list[dict[str, Any]], monkeypatch: Any) -> bytes:
    (folder / studio_c2pa.ASSERTIONS_FILE).write_text(json.dumps(assertions, indent=2))
    (folder / studio_c2pa.CHAIN_FILE).write_bytes(test_ca.chain)
    (folder / studio_c2pa.KEY_FILE).write_bytes(test_ca.private_pem)
    (folder / studio_c2pa.SOURCE_FILE).write_bytes(jpeg(size=96))
    monkeypatch.chdir(folder)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(studio_c2pa.EMBED_EXAMPLE, "embed_example.py", "exec"), {"__name__": "__main__"})  # noqa: S102
    labels = printed.getvalue()
    assert "org.restu.consent" in labels, labels
    assert "cawg.training-mining" in labels, labels
    return (folder / studio_c2pa.SIGNED_FILE).read_bytes()


def test_the_printed_example_embeds_a_release_appearance_that_checks_as_consented(
    cleared, test_ca, anon, uploads_dir, tmp_path, monkeypatch
):
    first = release_c2pa(release=cleared)["appearances"][0]
    signed_file = _run_example(tmp_path, test_ca, first["c2pa_assertions"], monkeypatch)

    # Read back independently of Restu: the exact assertion data is in the active manifest.
    with c2pa.Reader("image/jpeg", io.BytesIO(signed_file)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    by_label = {assertion["label"]: assertion["data"] for assertion in active["assertions"]}
    assert by_label["org.restu.consent"] == first["c2pa_assertions"][0]["data"]
    assert by_label["cawg.training-mining"] == first["c2pa_assertions"][1]["data"]
    assert active["signature_info"]["common_name"] == "Studio Signer"

    response = anon.post(
        "/api/v1/provenance/checks",
        {"file": SimpleUploadedFile("export-signed.jpg", signed_file, "image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == "consented"
    assert body["c2pa"]["validation_state"] == "Trusted"
    [claim] = body["consents"]
    assert claim["consent"] == first["consent"]
    assert claim["subject"] == first["subject"]


def test_a_file_with_two_people_carries_both_appearances_assertions(
    cleared, test_ca, anon, uploads_dir, tmp_path, monkeypatch
):
    appearances = release_c2pa(release=cleared)["appearances"]
    both = [assertion for appearance in appearances for assertion in appearance["c2pa_assertions"]]
    signed_file = _run_example(tmp_path, test_ca, both, monkeypatch)
    response = anon.post(
        "/api/v1/provenance/checks",
        {"file": SimpleUploadedFile("export-signed.jpg", signed_file, "image/jpeg")},
        format="multipart",
    )
    body = response.json()
    assert body["verdict"] == "consented", body
    assert sorted(claim["consent"] for claim in body["consents"]) == sorted(
        appearance["consent"] for appearance in appearances
    )
