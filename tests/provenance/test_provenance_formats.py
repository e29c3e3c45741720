"""POST /api/v1/provenance/checks with the contract's other formats: MP3 (c2pa-python 0.38.1 signs
it: the manifest goes in an ID3v2 tag), WebP and MOV, each made here under 100 KB, signed under the
test CA; consented as they are, broken when a byte of the picture or sound changes."""

from __future__ import annotations

import hashlib
import io
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from . import conftest

URL = "/api/v1/provenance/checks"
LIMIT = 100 * 1024

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, no CRC, no padding: 144 * 128000 / 44100 = 417
# bytes a frame. A header followed by zeroed side information and main data decodes as silence.
MP3_HEADER = bytes([0xFF, 0xFB, 0x90, 0xC4])
MP3_FRAME_BYTES = 417


def mp3(frames: int = 60) -> bytes:
    """About 1.6 s of silence in 60 frames (25 KB); each frame's last bytes vary so a change shows."""
    return b"".join(MP3_HEADER + bytes(MP3_FRAME_BYTES - 4 - 8) + struct.pack(">Q", number) for number in range(frames))


def webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), (30, 30, 200)).save(buffer, "WEBP", lossless=True)
    return buffer.getvalue()


def mov() -> bytes:
    """conftest.mp4's movie under QuickTime's brand (``qt  ``): the same boxes, a .mov file."""
    movie = conftest.mp4()
    ftyp = conftest._box(b"ftyp", b"qt  " + struct.pack(">I", 0x200) + b"qt  ")
    original_ftyp_size = struct.unpack(">I", movie[:4])[0]
    return ftyp + movie[original_ftyp_size:]


FORMATS: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "mp3": ("audio/mpeg", "clip.mp3", mp3),
    "webp": ("image/webp", "still.webp", webp),
    "mov": ("video/quicktime", "clip.mov", mov),
}


@pytest.fixture(autouse=True)
def _mime_types(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, (mime, _name, _make) in FORMATS.items():
        monkeypatch.setitem(conftest.MIME, kind, mime)


def _check(client: Any, data: bytes, kind: str, uploads_dir: Path) -> dict[str, Any]:
    mime, name, _make = FORMATS[kind]
    response = client.post(URL, {"file": SimpleUploadedFile(name, data, mime)}, format="multipart")
    assert response.status_code == 200, response.content
    assert not uploads_dir.exists() or list(uploads_dir.iterdir()) == [], "an upload was left on disk"
    return response.json()


def test_c2pa_python_signs_and_reads_mp3():
    assert "audio/mpeg" in c2pa.Builder.get_supported_mime_types()


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_the_test_files_are_real_and_small(kind):
    data = FORMATS[kind][2]()
    assert len(data) < LIMIT
    if kind == "mp3":
        assert data[:2] == b"\xff\xfb"
        assert len(data) % MP3_FRAME_BYTES == 0
    elif kind == "webp":
        assert Image.open(io.BytesIO(data)).format == "WEBP"
    else:
        assert data[4:12] == b"ftypqt  "


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_a_signed_file_carrying_a_standing_consent_is_consented(kind, permitted, test_ca, anon, uploads_dir):
    made = permitted()
    signed = test_ca.sign(FORMATS[kind][2](), kind, made["assertions"])
    assert len(signed) < LIMIT
    body = _check(anon, signed, kind, uploads_dir)
    assert body["verdict"] == "consented", body
    assert body["sha256"] == hashlib.sha256(signed).hexdigest()
    assert body["c2pa"]["validation_state"] == "Trusted"
    assert body["c2pa"]["signer"]["common_name"] == "Studio Signer"
    [claim] = body["consents"]
    assert (claim["consent"], claim["subject"]) == (made["consent"].public_id, made["subject"].public_id)
    assert (claim["receipt_valid"], claim["decision_then"], claim["status_now"]) == (True, "permitted", "active")

    # Read back with c2pa-python on its own: the same assertion is in the file.
    with c2pa.Reader(FORMATS[kind][0], io.BytesIO(signed)) as reader:
        store = json.loads(reader.json())
    labels = [assertion["label"] for assertion in store["manifests"][store["active_manifest"]]["assertions"]]
    assert "org.restu.consent" in labels


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["mp3", "mov"])
def test_changed_sound_or_frames_break_the_hard_binding(kind, permitted, test_ca, anon, uploads_dir):
    signed = bytearray(test_ca.sign(FORMATS[kind][2](), kind, permitted()["assertions"]))
    signed[-5] ^= 0xFF  # the last frame's payload (MP3) or inside mdat (MOV)
    body = _check(anon, bytes(signed), kind, uploads_dir)
    assert body["c2pa"]["validation_state"] == "Invalid", body
    assert any(error.endswith("Hash.mismatch") for error in body["c2pa"]["errors"]), body["c2pa"]["errors"]
    assert body["verdict"] == "consent_invalid"


@pytest.mark.django_db
def test_an_mp3_without_content_credentials_has_no_manifest(anon, uploads_dir):
    data = mp3()
    body = _check(anon, data, "mp3", uploads_dir)
    assert body["verdict"] == "no_manifest"
    assert body["c2pa"]["present"] is False
