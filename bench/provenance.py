"""Benchmark of "check a file": our request path against c2pa-python alone, and the async threshold.

    .venv/bin/python bench/provenance.py [--runs 200] [--sizes 1,4,8,16,32]

Everything runs in this process on a throwaway SQLite database and data folder (a temporary
directory): a subject with a signed consent, a permitted verification, its C2PA assertions built by
consent/c2pa.py, embedded in a ~1 MB JPEG (random pixels, so it does not compress) signed with
c2pa-python under a test CA made with `cryptography`. Then, for ``--runs`` rounds each:

- ``ceiling``: c2pa-python alone (open the file, ``Reader``, parse its JSON): what any check costs;
- ``service``: ``provenance_check`` (the same read, plus the receipt and the registry's lookups);
- ``http``: ``POST /api/v1/provenance/checks`` through Django's test client (multipart parsing,
  streaming to the upload folder while hashing, the check, deleting the file, rendering JSON).

The size sweep times the request path without HTTP (spool while hashing, check, delete) for larger
JPEGs, to choose ``REGISTRY_PROVENANCE_ASYNC_BYTES``: the size above which a web worker would be
held for longer than we accept (see bench/README.md). Results are printed as JSON and written to
``bench/results/provenance-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    sys.stderr.write(f"[provenance {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(cut[49] * 1000, 2), "p99_ms": round(cut[98] * 1000, 2), "n": len(ordered)}


def timed(action: Callable[[], Any], runs: int) -> list[float]:
    action()  # warm up: caches, the c2pa Context, the database connection
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def noise_jpeg(target_bytes: int) -> bytes:
    from PIL import Image

    side = int((target_bytes / 0.9) ** 0.5)  # random pixels at quality 90: about 0.9 bytes a pixel
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def setup(folder: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "registry.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-a-secret",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "REGISTRY_DATA_DIR": str(folder),
            "THROTTLE_PROVENANCE_CHECK": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True)


def seed(ca: Any) -> list[dict[str, Any]]:
    """A permitted verification's C2PA assertions, as a studio would embed them."""
    from django.utils import timezone
    from rest_framework.test import APIClient

    from consent import services as consent_services
    from consent.api.views.verification import CheckIn
    from consent.c2pa import c2pa_assertions
    from consent.verification import check_from
    from registry.accounts import services as account_services
    from registry.accounts.models import User
    from registry.accounts.presence import Presence
    from tests.consent.terms import consent_terms

    owner = User.objects.create_user("owner@bench.example", "correct horse battery")
    org = account_services.organization_create(creator=owner, name="Bench studio", slug="bench", kind="studio")
    person = User.objects.create_user("sari@bench.example", "correct horse battery")
    subject = consent_services.subject_create(creator=person, display_name="Sari", status="living")
    terms = consent_terms(subject)
    terms = {**terms, **{k: dt.date.fromisoformat(terms[k]) for k in ("valid_from", "valid_until")}}
    draft = consent_services.consent_create(subject=subject, actor=person, terms=terms)
    presence = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    consent_services.consent_sign(consent=draft, actor=person, method="witnessed", witness=presence)
    issued = account_services.api_key_create(
        organization=org, creator=owner, actor_role="owner", name="bench", presence=presence
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    query = {
        "subject": subject.public_id,
        "medium": "face",
        "activity": "generate",
        "purpose": "film_tv",
        "territory": "ID",
        "date": terms["valid_from"].isoformat(),
    }
    answer = client.post("/api/v1/verifications", query, format="json").json()
    data = CheckIn(data=query)
    data.is_valid(raise_exception=True)
    return c2pa_assertions(
        caller=org.public_id,
        checks=[check_from(data.validated_data)],
        receipt=answer["receipt"],
        consent=answer["consent"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="1,4,8,16,32", help="MB, for the threshold sweep")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="restu-bench-provenance-") as scratch:
        folder = Path(scratch)
        setup(folder)
        import c2pa
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import override_settings
        from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
        from rest_framework.test import APIClient

        from provenance import manifests, services, uploads
        from tests.provenance.conftest import TestCA

        ca = TestCA(folder)
        with override_settings(REGISTRY_C2PA_TRUST_ANCHORS=str(ca.root_path)):
            assertions = seed(ca)
            signed = ca.sign(noise_jpeg(1_000_000), "jpeg", assertions)
            path = folder / "signed.jpg"
            path.write_bytes(signed)
            digest = hashlib.sha256(signed).hexdigest()
            context = manifests.reader_context()

            def ceiling() -> None:
                with open(path, "rb") as stream, c2pa.Reader(None, stream, context=context) as reader:
                    json.loads(reader.json())

            def service() -> None:
                assert services.provenance_check(path=str(path), sha256=digest)["verdict"] == "consented"

            client = APIClient()
            # Encoded once: building the request is the client's cost, not the server's.
            body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("clip.jpg", signed, "image/jpeg")})

            def http() -> None:
                response = client.generic("POST", "/api/v1/provenance/checks", body, content_type=MULTIPART_CONTENT)
                assert response.status_code == 200, response.content[:300]
                assert response.json()["verdict"] == "consented"

            log(f"1 MB JPEG ({len(signed)} bytes), {args.runs} runs each")
            report: dict[str, Any] = {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "c2pa": c2pa.sdk_version()},
                "jpeg_bytes": len(signed),
            }
            for name, action in (("ceiling", ceiling), ("service", service), ("http", http)):
                report[name] = percentiles(timed(action, args.runs))
                log(f"{name}: {report[name]}")
            report["overhead_p50"] = round(report["http"]["p50_ms"] / report["ceiling"]["p50_ms"] - 1, 3)
            report["service_overhead_p50"] = round(report["service"]["p50_ms"] / report["ceiling"]["p50_ms"] - 1, 3)

            sweep = []
            for megabytes in [float(size) for size in args.sizes.split(",") if size]:
                big = ca.sign(noise_jpeg(int(megabytes * 1_000_000)), "jpeg", assertions)

                def request_path(big: bytes = big) -> None:
                    handler = uploads.CheckUploadHandler(limit=200 * 1024 * 1024)
                    try:
                        received = handler.take(SimpleUploadedFile("big.jpg", big, "image/jpeg"))
                        assert received is not None
                        services.provenance_check(path=received.path, sha256=received.sha256)
                    finally:
                        handler.cleanup()

                runs = max(5, min(args.runs, int(60 / megabytes)))
                row = {"bytes": len(big), **percentiles(timed(request_path, runs))}
                sweep.append(row)
                log(f"sweep {megabytes} MB: {row}")
            report["sweep"] = sweep

    print(json.dumps(report, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"provenance-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"written {out}")


if __name__ == "__main__":
    main()
