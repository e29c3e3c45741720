"""Fixtures for provenance: a test C2PA certificate chain made with `cryptography`, real media files
made in the test (Pillow for JPEG and PNG, the stdlib `wave` for WAV), signed with c2pa-python."""

from __future__ import annotations

import datetime as dt
import io
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from consent.api.views.verification import CheckIn
from consent.c2pa import c2pa_assertions
from consent.verification import check_from
from tests.consent.conftest import (  # noqa: F401 (fixtures used here and by the tests)
    eager_tasks,
    make_org,
    make_subject,
    signed,
    studio,
    terms,
)

MIME = {"jpeg": "image/jpeg", "png": "image/png", "wav": "audio/wav", "mp4": "video/mp4"}


def _name(common: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Restu Tests")]
    )


def _certificate(subject: str, issuer: str, public: Any, signing_key: Any, issuer_public: Any, ca: bool) -> Any:
    now = dt.datetime.now(dt.UTC)
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    usage.update({"key_cert_sign": True, "crl_sign": True} if ca else {"digital_signature": True})
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
    )
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


class TestCA:
    """A root, an intermediate and an ES256 signing certificate, as a studio's C2PA signer would hold."""

    def __init__(self, folder: Path) -> None:
        root_key, middle_key, self.key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
        root = _certificate(
            "Restu Test Root", "Restu Test Root", root_key.public_key(), root_key, root_key.public_key(), True
        )
        middle = _certificate(
            "Restu Test Intermediate", "Restu Test Root", middle_key.public_key(), root_key, root_key.public_key(), True
        )
        leaf = _certificate(
            "Studio Signer",
            "Restu Test Intermediate",
            self.key.public_key(),
            middle_key,
            middle_key.public_key(),
            False,
        )
        pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM)  # noqa: E731
        self.chain = pem(leaf) + pem(middle)
        self.root_path = folder / "c2pa-anchors.pem"
        self.root_path.write_bytes(pem(root))
        self.private_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, data: bytes, kind: str, assertions: list[dict[str, Any]]) -> bytes:
        manifest = {
            "claim_generator_info": [{"name": "restu-tests", "version": "1"}],
            "title": f"test.{kind}",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.created",
                                "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                            }
                        ]
                    },
                },
                *assertions,
            ],
        }
        info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=self.chain, private_key=self.private_pem, ta_url=None)
        settings = {"builder": {"thumbnail": {"enabled": False}}, "verify": {"remote_manifest_fetch": False}}
        with (
            c2pa.Context.from_dict(settings) as context,
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(manifest, context) as builder,
        ):
            out = io.BytesIO()
            builder.sign(signer, MIME[kind], io.BytesIO(data), out)
            return out.getvalue()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("c2pa-ca"))


@pytest.fixture
def uploads_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture(autouse=True)
def _provenance_settings(settings: Any, test_ca: TestCA, uploads_dir: Path) -> None:
    settings.REGISTRY_C2PA_TRUST_ANCHORS = str(test_ca.root_path)
    settings.REGISTRY_PROVENANCE_TEMP_DIR = str(uploads_dir)


def jpeg(color: tuple[int, int, int] = (200, 30, 30), size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png(color: tuple[int, int, int] = (30, 200, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), color).save(buffer, "PNG")
    return buffer.getvalue()


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * 64)
    return buffer.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4() -> bytes:
    """The smallest ISO BMFF movie c2pa-rs signs (ISO/IEC 14496-12): ``ftyp``, a ``moov`` holding
    only its ``mvhd`` (version 0: times, timescale 1000, duration 1 s, rate 1.0, volume 1.0, the
    identity matrix, next track id), and an ``mdat`` of 2 KiB standing for the frames."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">I", 0)  # version 0, no flags
        + struct.pack(">IIII", 0, 0, 1000, 1000)
        + struct.pack(">IH", 0x10000, 0x100)
        + b"\0" * 10
        + matrix
        + b"\0" * 24
        + struct.pack(">I", 2),
    )
    return ftyp + _box(b"moov", mvhd) + _box(b"mdat", bytes(range(256)) * 8)


MEDIA: dict[str, Callable[[], bytes]] = {"jpeg": jpeg, "png": png, "wav": wav, "mp4": mp4}

USE = {"medium": "face", "activity": "generate", "purpose": "film_tv", "territory": "ID"}


@pytest.fixture
def permitted(signed: Callable[..., Any], studio: Any) -> Callable[..., dict[str, Any]]:  # noqa: F811
    """A permitted verification for a fresh subject: ``{"subject", "person", "consent", "org",
    "answer", "assertions"}`` (the assertions built by consent/c2pa.py from the answer)."""

    def make(**consent_terms: Any) -> dict[str, Any]:
        subject, person, consent = signed(**consent_terms)
        org, client = studio
        query = {"subject": subject.public_id, **USE, "date": consent.valid_from.isoformat()}
        response = client.post("/api/v1/verifications", query, format="json")
        assert response.status_code == 200, response.content
        answer = response.json()
        assert answer["decision"] == "permitted"
        data = CheckIn(data=query)
        assert data.is_valid(), data.errors
        assertions = c2pa_assertions(
            caller=org.public_id,
            checks=[check_from(data.validated_data)],
            receipt=answer["receipt"],
            consent=answer["consent"],
        )
        return {
            "subject": subject,
            "person": person,
            "consent": consent,
            "org": org,
            "answer": answer,
            "assertions": assertions,
        }

    return make
