"""Benchmark of "check a file": our request path against c2pa-python alone, and the async threshold.

    .venv/bin/python bench/provenance.py [--runs 200] [--sizes 1,4,8,16,32] [--mp4-mb 50] [--mp4-runs 40]
        [--cases jpeg,sweep,mp4]

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
held for longer than we accept (see bench/README.md).

The MP4 case makes a ``--mp4-mb`` MB movie at run time (never committed: an ISO BMFF ``ftyp``,
a ``moov`` with its ``mvhd``, and one ``mdat`` of random bytes, as tests/provenance/conftest.py's
``mp4()`` but large), signs it with the same assertions, and times, in rounds that rotate their
order so the machine's other load falls on every path alike:

- ``ceiling``: c2pa-python alone reading the signed file from disk (what c2patool does);
- ``service``: ``provenance_check`` on that file;
- ``task``: the Celery task a worker runs for a file above ``REGISTRY_PROVENANCE_ASYNC_BYTES``
  (the check, deleting the file, storing the result for the status URL), on a hard link so
  that deleting it costs what it would;
- ``http_accept``: ``POST /api/v1/provenance/checks`` until its ``202``: what a web worker is held
  for (multipart parsing, streaming to disk while hashing, queueing on the default broker).

Results are printed as JSON and written to ``bench/results/provenance-<date>.json`` (a run of
some ``--cases`` only: ``provenance-<date>-<cases>.json``).
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


def box(kind: bytes, payload: bytes) -> bytes:
    import struct

    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def noise_mp4(target_bytes: int) -> bytes:
    """tests/provenance/conftest.py's smallest movie with ``target_bytes`` of random frames."""
    from tests.provenance.conftest import mp4

    small = mp4()
    mdat_at = small.rindex(b"mdat") - 4
    return small[:mdat_at] + box(b"mdat", os.urandom(target_bytes - mdat_at - 8))


def rotated(actions: dict[str, Callable[[], Any]], runs: int, prepare: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """``runs`` rounds of every action, each round in a different order; ``prepare[name]`` runs
    untimed before its action (a fresh link to delete, a tidy folder). Wall time, and this
    process's CPU time (all its threads, c2pa-rs's included): on a shared machine the wall time
    mostly measures the wait for a core, the CPU time what the work costs."""
    names = list(actions)
    for name in names:  # warm up
        prepare.get(name, lambda: None)()
        actions[name]()
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(runs):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            prepare.get(name, lambda: None)()
            start, start_cpu = time.perf_counter(), time.process_time()
            actions[name]()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
        if round_number % 10 == 9:
            log(f"mp4 round {round_number + 1}/{runs}")
    return {
        name: {**percentiles(wall[name]), **{f"cpu_{k}": v for k, v in percentiles(cpu[name]).items() if k != "n"}}
        for name in names
    }


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


def mp4_case(ca: Any, assertions: list[dict[str, Any]], folder: Path, megabytes: float, runs: int) -> dict[str, Any]:
    """A generated movie of ``megabytes`` MB: the ceiling, the check, the worker's task and the
    web worker's 202, in rotated rounds (see the module's docstring)."""
    import c2pa
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
    from rest_framework.test import APIClient

    from provenance import manifests, services, tasks, uploads

    signed = ca.sign(noise_mp4(int(megabytes * 1_000_000)), "mp4", assertions)
    path = folder / "signed.mp4"
    path.write_bytes(signed)
    digest = hashlib.sha256(signed).hexdigest()
    log(f"{megabytes:g} MB MP4 ({len(signed)} bytes), {runs} rotated rounds")
    context = manifests.reader_context()
    upload_folder = Path(uploads.temp_folder())
    pending: dict[str, Any] = {}

    def ceiling() -> None:
        with open(path, "rb") as stream, c2pa.Reader(None, stream, context=context) as reader:
            json.loads(reader.json())

    def service() -> None:
        assert services.provenance_check(path=str(path), sha256=digest)["verdict"] == "consented"

    def link_for_task() -> None:
        pending["path"] = str(upload_folder / f"check-bench-{time.perf_counter_ns()}")
        os.link(path, pending["path"])
        pending["id"] = services.provenance_check_queue(sha256=digest)

    def task() -> None:
        tasks.provenance_check_file(pending["id"], pending["path"], digest)

    client = APIClient()
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("clip.mp4", signed, "video/mp4")})
    assert len(signed) > settings.REGISTRY_PROVENANCE_ASYNC_BYTES, "the movie would be checked at once"

    def tidy() -> None:
        # No worker runs here: remove what the previous 202 handed over (untimed).
        uploads.sweep(older_than_seconds=0)

    def http_accept() -> None:
        response = client.generic("POST", "/api/v1/provenance/checks", body, content_type=MULTIPART_CONTENT)
        assert response.status_code == 202, response.content[:300]

    result = rotated(
        {"ceiling": ceiling, "service": service, "task": task, "http_accept": http_accept},
        runs,
        {"task": link_for_task, "http_accept": tidy},
    )
    tidy()
    result["bytes"] = len(signed)
    for name in ("service", "task"):
        for measure in ("p50_ms", "p99_ms", "cpu_p50_ms", "cpu_p99_ms"):
            ratio = result[name][measure] / result["ceiling"][measure] - 1
            result[f"{name}_overhead_{measure.removesuffix('_ms')}"] = round(ratio, 3)
    log(f"mp4: {json.dumps(result)}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="1,4,8,16,32", help="MB, for the threshold sweep")
    parser.add_argument("--mp4-mb", type=float, default=50.0, help="size of the generated MP4, MB")
    parser.add_argument("--mp4-runs", type=int, default=40)
    parser.add_argument("--cases", default="jpeg,sweep,mp4", help="which of jpeg, sweep, mp4 to run")
    args = parser.parse_args()
    cases = set(args.cases.split(","))

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

            report: dict[str, Any] = {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "c2pa": c2pa.sdk_version(),
                    "load_average": os.getloadavg(),
                },
                "jpeg_bytes": len(signed),
            }
            if "jpeg" in cases:
                log(f"1 MB JPEG ({len(signed)} bytes), {args.runs} runs each")
                for name, action in (("ceiling", ceiling), ("service", service), ("http", http)):
                    report[name] = percentiles(timed(action, args.runs))
                    log(f"{name}: {report[name]}")
                report["overhead_p50"] = round(report["http"]["p50_ms"] / report["ceiling"]["p50_ms"] - 1, 3)
                report["service_overhead_p50"] = round(report["service"]["p50_ms"] / report["ceiling"]["p50_ms"] - 1, 3)

            if "sweep" in cases:
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

            if "mp4" in cases:
                report["mp4"] = mp4_case(ca, assertions, folder, args.mp4_mb, args.mp4_runs)

    print(json.dumps(report, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    # A partial run (--cases) is named after its cases, so it never replaces a full run's figures.
    suffix = "" if cases == {"jpeg", "sweep", "mp4"} else "-" + "-".join(sorted(cases))
    out = RESULTS / f"provenance-{dt.date.today().isoformat()}{suffix}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"written {out}")


if __name__ == "__main__":
    main()
