"""Benchmark of verification over HTTP on PostgreSQL: gunicorn vs granian, ceiling vs hot path.

    .venv/bin/python bench/verify.py                 # seed (if needed) + measure every server
    .venv/bin/python bench/verify.py seed            # only seed
    .venv/bin/python bench/verify.py run --servers gunicorn,granian [--rounds 3]

The script owns the database ``restu_bench_verify`` (``BENCH_DATABASE_URL`` to change it; created
with ``psql`` when missing) and Redis databases 9 (cache) and 10 (broker). Seeding is idempotent:
100,000 subjects with 10 signed consents each (1,000,000 consents, 1,000,000 "signed" events),
loaded with COPY. Servers run with production-shaped settings (DEBUG off, a SECRET_KEY generated
for the run, ALLOWED_HOSTS=127.0.0.1) and 2 workers; wrk (Debian's, 1 thread) drives the
throughput runs, and a small asyncio generator in this file drives the fixed-rate run. See
bench/VERIFY.md. Progress on stderr; results in ``bench/results/verify-<date>.json`` and ``.svg``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import math
import os
import platform
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "var" / "bench"
WORK = DATA / "verify"
PYTHON = ROOT / ".venv" / "bin"
LUA = ROOT / "bench" / "verify_wrk.lua"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/restu_bench_verify"
PORT = 8731
BARE_PORT = 8732  # the bare view's server runs beside the registry's, so their runs can alternate
TERRITORIES = ("ID", "US", "GB", "FR", "DE", "JP", "BR", "IN", "NG", "AU")


# --- The framework's floor: a bare Django JSON view ------------------------------------------------
# The bench serves it with the same server command as the registry (module ``bench.verify``,
# attribute ``bare_application``): no middleware, no database, no installed app, one URL.
BARE_PATH = "/bare"


def _bare_view(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"results": [{"id": "org_bench", "name": "Bench studio"}], "next": None})


urlpatterns: list[Any] = []


def _bare_application() -> Any:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            ALLOWED_HOSTS=["127.0.0.1"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            DATABASES={},
            USE_I18N=False,
        )
        from django.urls import path

        urlpatterns.append(path(BARE_PATH.lstrip("/"), _bare_view))
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def __getattr__(name: str) -> Any:
    # Built on first access only, so importing this module for the bench itself configures nothing.
    if name == "bare_application":
        application = _bare_application()
        globals()["bare_application"] = application
        return application
    raise AttributeError(name)


def log(message: str) -> None:
    sys.stderr.write(f"[verify {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def bench_env() -> dict[str, str]:
    """Production-shaped settings for the seeding process and the servers."""
    env = {
        "DJANGO_SETTINGS_MODULE": "registry.settings",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
        "CACHE_URL": "redis://127.0.0.1:6379/9",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "REGISTRY_DATA_DIR": str(DATA),
        "THROTTLE_API_KEY": "100000000/min",
        "THROTTLE_VERIFY": "100000000/min",
        "THROTTLE_VERIFY_BULK": "100000000/min",
        "LOG_LEVEL": "WARNING",
    }
    os.environ["BENCH_SECRET_KEY"] = env["SECRET_KEY"]
    return env


def setup_django() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.update(bench_env())
    import django

    django.setup()


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or not re.fullmatch(r"restu_bench_\w+", name):
        raise SystemExit(f"refusing {url!r}: a postgres://…/restu_bench_* database only")
    base = [
        "psql",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    exists = subprocess.run(
        [*base, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 - name checked
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        log(f"creating database {name}")
        subprocess.run([*base, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'], check=True)


# --- Seeding ---------------------------------------------------------------------------------------


def _pid(prefix: str, n: int) -> str:
    # A public id of the right shape (26 characters of the id alphabet), deterministic per row.
    return f"{prefix}_" + hashlib.blake2b(f"{prefix}{n}".encode(), digest_size=13).hexdigest()


def subject_id(n: int) -> str:
    return _pid("sub", n)


def _text(value: Any) -> str:
    """One COPY text-format field."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, separators=(",", ":"))
    elif isinstance(value, datetime):
        value = value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Copier:
    """Rows of one model as COPY text; constant columns rendered once, the rest per row."""

    def __init__(self, model: Any, constants: dict[str, Any]) -> None:
        fields = list(model._meta.concrete_fields)
        self.table = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.order: list[tuple[str | None, str]] = []
        for f in fields:
            if f.attname in constants:
                self.order.append((_text(constants[f.attname]), f.attname))
            elif f.has_default() and not f.primary_key:
                # Unset columns take the model's default, as an ORM insert would.
                self.order.append((_text(f.get_default()), f.attname))
            else:
                self.order.append(("\\N", f.attname))

    def line(self, values: dict[str, Any]) -> str:
        # A value given for the row wins over the model's default.
        return "\t".join(_text(values[a]) if a in values else text for text, a in self.order) + "\n"

    def copy(self, cursor: Any, lines: list[str]) -> None:
        import io

        cols = ", ".join(f'"{c}"' for c in self.columns)
        cursor.copy_expert(f'COPY "{self.table}" ({cols}) FROM STDIN', io.StringIO("".join(lines)))


def seed(subjects: int, per_subject: int, chunk: int = 10_000) -> dict[str, Any]:
    """100,000 subjects, 10 signed consents each (idempotent: skipped when already there)."""
    from django.db import connection, transaction

    from consent import vocabulary as v
    from consent.models import AccessLogEntry, Consent, ConsentEvent, Representative, Subject, SubjectProfile
    from registry.accounts.models import Organization, User
    from registry.accounts.services import organization_create

    started = time.monotonic()
    log("migrating")
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    owner = User.objects.filter(email="bench-studio@restu.invalid").first() or User.objects.create_user(
        email="bench-studio@restu.invalid", password=None
    )
    studio = Organization.objects.filter(slug="bench-studio").first() or organization_create(
        creator=owner, name="Bench Studio", slug="bench-studio", kind=Organization.Kind.STUDIO
    )
    person = User.objects.filter(email="bench-person@restu.invalid").first() or User.objects.create_user(
        email="bench-person@restu.invalid", password=None
    )
    want_consents = subjects * per_subject
    have_subjects = Subject.objects.count()
    have_consents = Consent.objects.exclude(status=Consent.Status.DRAFT).count()
    if have_subjects == subjects and have_consents == want_consents:
        log(f"already seeded: {have_subjects:,} subjects, {have_consents:,} consents")
        return {"skipped": True, "subjects": have_subjects, "consents": have_consents, "studio": studio.public_id}

    log(f"emptying the consent tables (found {have_subjects:,} subjects, {have_consents:,} consents)")
    with connection.cursor() as cursor:
        tables = [m._meta.db_table for m in (AccessLogEntry, ConsentEvent, Consent, Representative, SubjectProfile)]
        cursor.execute(f"TRUNCATE {', '.join(tables)}, {Subject._meta.db_table} RESTART IDENTITY CASCADE")

    rng = random.Random(20261125)
    now = datetime.now(UTC)
    today = now.date()
    other_orgs = [_pid("org", n) for n in range(20)]

    subj = Copier(Subject, {"deceased_on": None, "created": now, "updated": now})
    prof = Copier(SubjectProfile, {"bio": "", "notes": "", "updated": now})
    rep = Copier(
        Representative,
        {"user_id": person.pk, "role": "self", "delegated_by_id": None, "scope": {}, "valid_until": None},
    )
    con = Copier(
        Consent,
        {
            "intended_use": "Benchmark consent: a synthetic record.",
            "revocation_policy": "anytime",
            "revocation_notice_days": 0,
            "representation": "none",
            "court_approval_ref": None,
            "guideline_ref": None,
            "guideline_digest": None,
            "created": now - timedelta(days=200),
            "updated": now - timedelta(days=200),
            "method": "witnessed",
            "signature": "bench",
            "signer_kid": "",
            "second_factor": False,
            "notice_summary": "",
            "notice_language": "en",
            "notice_digest": "",
            "revoked_by_id": None,
            "revocation_reason": "",
            "revocation_signature": "",
        },
    )
    evt = Copier(ConsentEvent, {"type": "signed", "at": now - timedelta(days=199), "actor_id": None})

    media_choices = [["face"], ["voice"], ["face", "voice"], ["likeness"], ["body"]]
    activity_choices = [["generate"], ["generate", "alter"], ["create_replica", "train_model", "generate"], ["alter"]]
    purpose_choices = [
        ["film_tv"],
        ["*"],
        ["advertising", "film_tv"],
        ["education", "research"],
        ["art"],
        ["*", "political"],
    ]

    consent_pk = 0
    for first in range(0, subjects, chunk):
        t0 = time.monotonic()
        last = min(subjects, first + chunk)
        s_lines, p_lines, r_lines, c_lines, e_lines = [], [], [], [], []
        for n in range(first, last):
            pk = n + 1
            minor = rng.random() < 0.05
            s_lines.append(
                subj.line(
                    {
                        "id": pk,
                        "public_id": subject_id(n),
                        "status": "minor" if minor else "living",
                        "adult_on": today + timedelta(days=rng.randint(30, 4000)) if minor else None,
                        "assurance": rng.choice(("self_asserted", "email_verified", "vouched")),
                        "disputed": rng.random() < 0.01,
                    }
                )
            )
            p_lines.append(
                prof.line(
                    {"id": pk, "subject_id": pk, "display_name": f"Bench person {n}", "is_public": rng.random() < 0.3}
                )
            )
            r_lines.append(rep.line({"id": pk, "public_id": _pid("rep", n), "subject_id": pk, "ended_at": None}))
            for _ in range(per_subject):
                consent_pk += 1
                effect = "deny" if rng.random() < 0.15 else "permit"
                roll = rng.random()
                status = "active" if roll < 0.85 else ("revoked" if roll < 0.92 else "expired")
                grantee_roll = rng.random()
                if grantee_roll < 0.5:
                    grantee, grantee_org = "*", None
                elif grantee_roll < 0.8:
                    grantee, grantee_org = studio.public_id, studio.pk
                else:
                    grantee, grantee_org = rng.choice(other_orgs), None
                media = rng.choice(media_choices)
                activities = rng.choice(activity_choices)
                purposes = rng.choice(purpose_choices)
                territories = ["*"] if rng.random() < 0.4 else sorted(rng.sample(TERRITORIES, rng.randint(1, 4)))
                valid_from = today - timedelta(days=rng.randint(30, 400))
                valid_until = (
                    today - timedelta(days=rng.randint(1, 20))
                    if status == "expired"
                    else (None if rng.random() < 0.5 else today + timedelta(days=rng.randint(30, 900)))
                )
                revoked_at = now - timedelta(days=rng.randint(1, 20)) if status == "revoked" else None
                terms = {
                    "effect": effect,
                    "grantee": grantee,
                    "media": media,
                    "activities": activities,
                    "purposes": purposes,
                    "territories": territories,
                    "valid_from": valid_from.isoformat(),
                    "valid_until": valid_until.isoformat() if valid_until else None,
                }
                digest = "sha256:" + hashlib.sha256(json.dumps(terms, sort_keys=True).encode()).hexdigest()
                c_lines.append(
                    con.line(
                        {
                            "id": consent_pk,
                            "public_id": _pid("con", consent_pk),
                            "subject_id": pk,
                            "effect": effect,
                            "status": status,
                            "grantee": grantee,
                            "grantee_org_id": grantee_org,
                            "production": None,
                            "media": media,
                            "activities": activities,
                            "purposes": purposes,
                            "territories": territories,
                            "media_mask": v.media_mask(media),
                            "activity_mask": v.activity_mask(activities),
                            "purpose_mask": v.purpose_mask(purposes),
                            "territory_codes": "*" if territories == ["*"] else "|" + "|".join(territories) + "|",
                            "valid_from": valid_from,
                            "valid_until": valid_until,
                            "conditions": {"credit": True} if rng.random() < 0.2 else {},
                            "terms": terms,
                            "digest": digest,
                            "created_by_id": pk,
                            "signed_at": now - timedelta(days=199),
                            "signed_by_id": pk,
                            "revoked_at": revoked_at,
                            "revocation_effective_at": revoked_at,
                            "expired_at": now - timedelta(days=1) if status == "expired" else None,
                        }
                    )
                )
                e_lines.append(
                    evt.line(
                        {"id": consent_pk, "consent_id": consent_pk, "digest": digest, "log_index": consent_pk - 1}
                    )
                )
        with transaction.atomic(), connection.cursor() as cursor:
            subj.copy(cursor, s_lines)
            prof.copy(cursor, p_lines)
            rep.copy(cursor, r_lines)
            con.copy(cursor, c_lines)
            evt.copy(cursor, e_lines)
        log(
            f"seeded {last:,}/{subjects:,} subjects, {consent_pk:,} consents "
            f"({time.monotonic() - t0:.1f} s this chunk, {time.monotonic() - started:.0f} s total)"
        )
    with connection.cursor() as cursor:
        for model in (Subject, SubjectProfile, Representative, Consent, ConsentEvent):
            table = model._meta.db_table
            # Rows were copied with explicit ids: move each sequence past them.
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )
            cursor.execute(f"ANALYZE {table}")
    elapsed = time.monotonic() - started
    log(f"seeding took {elapsed:.0f} s")
    return {"skipped": False, "seconds": round(elapsed, 1), "subjects": subjects, "consents": consent_pk}


# --- Measuring ---------------------------------------------------------------------------------------


def api_key() -> str:
    """A fresh API key of the bench studio (earlier bench keys revoked)."""
    from registry.accounts.models import ApiKey, Organization
    from registry.accounts.services import api_key_create, api_key_revoke

    studio = Organization.objects.get(slug="bench-studio")
    for old in ApiKey.objects.filter(organization=studio, name="bench-verify", revoked_at__isnull=True):
        api_key_revoke(api_key=old)
    owner = studio.memberships.get(role="owner").user
    # The bench stands in for its owner, who has just signed in to make the key.
    from django.utils import timezone

    from registry.accounts.presence import Presence

    presence = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    return api_key_create(
        organization=studio, creator=owner, actor_role="owner", name="bench-verify", presence=presence
    ).secret


def make_bodies(subjects: int, count: int, seed: int) -> list[dict[str, Any]]:
    """Random verification queries: seeded subjects (5% made-up ids), a mix of uses."""
    from consent import vocabulary as v

    rng = random.Random(seed)
    on = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    purposes = [p for p in v.PURPOSE_KEYS if p not in v.SENSITIVE_PURPOSES]
    bodies = []
    for _ in range(count):
        sid = subject_id(rng.randrange(subjects)) if rng.random() >= 0.05 else _pid("sub", 10**9 + rng.randrange(10**6))
        bodies.append(
            {
                "subject": sid,
                "medium": rng.choice(v.MEDIA_KEYS),
                "activity": rng.choice(("generate", "generate", "alter", "train_model")),
                "purpose": rng.choice(purposes),
                "territory": rng.choice(TERRITORIES),
                "date": on,
            }
        )
    return bodies


SERVERS: dict[str, list[str]] = {
    # Sync workers: one request at a time per process, no keep-alive (gunicorn closes each connection).
    "gunicorn": [str(PYTHON / "gunicorn"), "registry.wsgi:application", "--workers", "2", "--worker-class", "sync"],
    "gunicorn-gthread": [
        str(PYTHON / "gunicorn"),
        "registry.wsgi:application",
        "--workers",
        "2",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
    ],
    "granian": [
        str(PYTHON / "granian"),
        "--interface",
        "wsgi",
        "--workers",
        "2",
        "--no-ws",
        "--log-level",
        "warning",
        "registry.wsgi:application",
    ],
}


APP = "registry.wsgi:application"
BARE_APP = "bench.verify:bare_application"


def start_server(
    name: str, env: dict[str, str], app: str = APP, port: int | None = None, label: str | None = None
) -> subprocess.Popen[bytes]:
    """``name``'s command serving ``app`` (the registry, or the bare view with the same settings)."""
    command = [app if part == APP else part for part in SERVERS[name]]
    workers = os.environ.get("BENCH_WORKERS")  # --workers: the same count for every server it starts
    if workers:
        command[command.index("--workers") + 1] = workers
    port = port or (PORT if app == APP else BARE_PORT)
    if name.startswith("gunicorn"):
        command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048"]
    else:
        command += ["--host", "127.0.0.1", "--port", str(port)]
    log(f"starting {name}: {' '.join(command)}")
    label = label or (name if app == APP else f"{name}-bare")
    out = open(WORK / f"{label}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out, start_new_session=True
    )
    deadline = time.monotonic() + 60
    answered = 0
    # Listening is not serving: the master binds before its workers have loaded the app. Wait for
    # a few answers (any status) so no measurement starts while a worker is still importing.
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", BARE_PATH if app == BARE_APP else "/health")
            conn.getresponse().read()
            conn.close()
            answered += 1
            if answered >= 4:
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited; see {WORK / (label + '.log')}") from None
            time.sleep(0.2)
    raise SystemExit(f"{name} did not start answering on {port}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    time.sleep(1)


def request(method: str, path: str, token: str, body: Any = None) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, payload, elapsed


def wrk(
    mode: str, path: str, token: str, bodies_file: Path, duration: int, connections: int, port: int = PORT
) -> dict[str, Any]:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s",
        "-s", str(LUA), f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_TOKEN": token, "BENCH_MODE": mode, "BENCH_BODIES": str(bodies_file)}
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(part for part in output.splitlines() if part.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON ") :])
    seconds = data["duration_us"] / 1e6
    errors = data["errors"]
    if errors["status"] or errors["connect"] or errors["timeout"] or not data["requests"]:
        raise SystemExit(f"wrk {mode} {path}: errors {errors} (non-2xx answers invalidate the run)")
    return {
        "requests": data["requests"],
        "seconds": round(seconds, 2),
        "rps": round(data["requests"] / seconds, 1),
        "mean_ms": round(data["latency_us"]["mean"] / 1000, 2),
        "p50_ms": round(data["latency_us"]["p50"] / 1000, 2),
        "p90_ms": round(data["latency_us"]["p90"] / 1000, 2),
        "p99_ms": round(data["latency_us"]["p99"] / 1000, 2),
        "max_ms": round(data["latency_us"]["max"] / 1000, 2),
        "errors": errors,
        "non_2xx": errors["status"],
    }


async def _fixed_rate(rate: float, seconds: float, connections: int, token: str, bodies: list[bytes]) -> dict[str, Any]:
    """Requests sent on a fixed schedule (wrk2-style): latency counts from the scheduled send time,
    so a stalled server shows up as latency instead of as a slower send rate."""
    total = int(rate * seconds)
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    service: list[float] = []
    statuses: dict[int, int] = {}
    head_template = (
        "POST /api/v1/verifications HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    loop = asyncio.get_running_loop()

    async def worker(index: int) -> None:
        reader = writer = None
        rng = random.Random(index)
        while True:
            scheduled = await queue.get()
            if scheduled is None:
                break
            body = bodies[rng.randrange(len(bodies))]
            message = head_template.format(token=token, length=len(body)).encode() + body
            sent = loop.time()
            for attempt in range(2):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
                    writer.write(message)
                    head = await reader.readuntil(b"\r\n\r\n")
                    break
                except (OSError, asyncio.IncompleteReadError):
                    # The server closed an idle keep-alive connection: reconnect once.
                    writer = None
                    if attempt:
                        raise
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            done = loop.time()
            latencies.append(done - scheduled)
            service.append(done - sent)
            statuses[status] = statuses.get(status, 0) + 1
            if re.search(rb"(?i)connection:\s*close", head):
                writer.close()
                writer = None

    workers = [asyncio.create_task(worker(i)) for i in range(connections)]
    start = loop.time() + 0.1
    for i in range(total):
        at = start + i / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(at)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = loop.time() - start
    return {
        "target_rps": round(rate, 1),
        "achieved_rps": round(total / elapsed, 1),
        "requests": total,
        "connections": connections,
        "statuses": statuses,
        **_percentiles(latencies, "from scheduled send"),
        "service_p50_ms": round(_pct(service, 50) * 1000, 2),
        "service_p99_ms": round(_pct(service, 99) * 1000, 2),
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least p% of the values at or below it.
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[min(len(ordered) - 1, max(0, rank - 1))]


def _percentiles(values: list[float], note: str = "") -> dict[str, Any]:
    return {
        "p50_ms": round(_pct(values, 50) * 1000, 2),
        "p90_ms": round(_pct(values, 90) * 1000, 2),
        "p99_ms": round(_pct(values, 99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        **({"latency_measured": note} if note else {}),
    }


def bulk(token: str, subjects: int, count: int = 20) -> dict[str, Any]:
    """Sequential bulk requests of 1,000 queries each (two warm-ups not counted)."""
    times, sizes = [], []
    for i in range(count + 2):
        body = {"queries": make_bodies(subjects, 1000, seed=5000 + i)}
        status, payload, elapsed = request("POST", "/api/v1/verifications/bulk", token, body)
        if status != 200:
            raise SystemExit(f"bulk request answered {status}: {payload[:300]!r}")
        if i >= 2:
            times.append(elapsed)
            sizes.append(len(payload))
    return {"requests": count, "queries_per_request": 1000, "mean_ms": round(statistics.mean(times) * 1000, 2),
            "response_bytes": int(statistics.mean(sizes)), **_percentiles(times)}  # fmt: skip


def decision_mix(token: str, bodies: list[dict[str, Any]]) -> dict[str, int]:
    mix: dict[str, int] = {}
    for body in bodies[:300]:
        status, payload, _ = request("POST", "/api/v1/verifications", token, body)
        if status != 200:
            raise SystemExit(f"verification answered {status}: {payload[:300]!r}")
        key = json.loads(payload)["decision"]
        mix[key] = mix.get(key, 0) + 1
    return mix


def token_bodies(token: str, bodies: list[dict[str, Any]], want: int = 200) -> list[dict[str, Any]]:
    """Queries a consent token is issued for (201): the permitted ones among the random bodies."""
    found = []
    for body in bodies[-3000:]:
        status, _, _ = request("POST", "/api/v1/consent-tokens", token, body)
        if status == 201:
            found.append(body)
            if len(found) >= want:
                break
    if not found:
        raise SystemExit("no random query was permitted: no consent token to measure")
    return found


def queries_per_verification(token: str) -> dict[str, Any]:
    """SQL statements per verification in-process, for a seeded subject with 10 consents and after
    adding 90 more to it, and per bulk request of 10 and of 1,000 queries (inside a transaction
    rolled back afterwards)."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from consent.models import Consent, Subject

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    subject = Subject.objects.filter(disputed=False).order_by("pk").first()
    body = {**make_bodies(1, 1, 1)[0], "subject": subject.public_id}

    def count() -> tuple[int, list[str]]:
        client.post("/api/v1/verifications", body, content_type="application/json")
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/verifications", body, content_type="application/json")
        assert response.status_code == 200, response.content
        return len(captured), [q["sql"][:120] for q in captured.captured_queries]

    def bulk_count(n: int) -> int:
        batch = {"queries": make_bodies(100_000, n, seed=7)}
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/verifications/bulk", batch, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        return len(captured)

    with transaction.atomic():
        ten, sql = count()
        bulk = {"bulk_of_10": bulk_count(10), "bulk_of_1000": bulk_count(1000)}
        model = Consent.objects.filter(subject=subject).first()
        extra = []
        for n in range(90):
            model.pk = None
            model.public_id = _pid("cox", n)
            extra.append(Consent(**{f.attname: getattr(model, f.attname) for f in Consent._meta.concrete_fields}))
        Consent.objects.bulk_create(extra)
        hundred, _ = count()
        transaction.set_rollback(True)
    return {"with_10_consents": ten, "with_100_consents": hundred, "statements": sql, **bulk}


def measure(
    name: str,
    env: dict[str, str],
    token: str,
    bodies: list[dict[str, Any]],
    raw_bodies: list[bytes],
    files: dict[str, Path],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """One server, started fresh beside the bare view (same command, same settings): bare view,
    ceiling, verification and consent token alternating, then half rate and bulk."""
    figures: dict[str, Any] = {}
    bare_process: subprocess.Popen[bytes] | None = start_server(name, env, BARE_APP)
    process: subprocess.Popen[bytes] | None = None
    try:
        process = start_server(name, env)
        # Warm every worker (imports, key ring, connections).
        wrk("get", BARE_PATH, token, files["bodies"], 2, args.connections, BARE_PORT)
        wrk("get", "/api/v1/organizations", token, files["bodies"], 2, args.connections)
        wrk("post", "/api/v1/verifications", token, files["bodies"], 2, args.connections)
        figures["decision_mix"] = decision_mix(token, bodies)
        log(f"{name}: bare view, ceiling, verification and consent token, alternating")
        figures.update(alternating(token, files, args))
        stop_server(bare_process)  # type: ignore[arg-type]  # set just above
        bare_process = None
        log(
            f"{name}: bare {figures['bare']['rps']}, ceiling {figures['ceiling']['rps']}, verification "
            f"{figures['verification']['rps']}, consent token {figures['consent_token']['rps']} req/s"
        )
        figures["ratio"] = round(figures["verification"]["rps"] / figures["ceiling"]["rps"], 3)
        log(f"{name}: where a verification's CPU goes")
        figures["cpu_ms_per_verification"] = cpu_split(process, token, files, args)  # type: ignore[arg-type]  # started above
        log(f"{name}: CPU per verification {figures['cpu_ms_per_verification']}")
        log(f"{name}: half rate")
        figures["half_rate"] = asyncio.run(
            _fixed_rate(figures["verification"]["rps"] / 2, args.duration, 32, token, raw_bodies)
        )
        log(f"{name}: p99 at half rate {figures['half_rate']['p99_ms']} ms; bulk")
        figures["bulk"] = bulk(token, args.subjects)
        log(f"{name}: bulk p50 {figures['bulk']['p50_ms']} ms, p99 {figures['bulk']['p99_ms']} ms")
    finally:
        for running in (bare_process, process):
            if running is not None:
                stop_server(running)
    bare = figures["bare"]["rps"]
    figures["share_of_bare"] = {
        part: round(figures[part]["rps"] / bare, 3) for part in ("ceiling", "verification", "consent_token")
    }
    figures["targets"] = targets(figures)
    log(f"{name}: shares of the bare view {figures['share_of_bare']}")
    return figures


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (those gone since count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int]]:
    """Every process's (command name, parent pid)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            rest = stat.rsplit(")", 1)[1].split()
            found[int(entry.name)] = (stat[stat.index("(") + 1 : stat.rindex(")")], int(rest[1]))
    return found


def cpu_split(
    server: subprocess.Popen[bytes], token: str, files: dict[str, Path], args: argparse.Namespace
) -> dict[str, Any]:
    """CPU milliseconds per verification under load, by process: the registry's workers, PostgreSQL's
    processes, Redis and the load generator, from /proc while wrk runs verifications. Read with the
    bare view's cost per request (two cores over its throughput, everything included), it shows
    what bounds the share of the bare view: the database's work per check does not shrink with the
    framework's."""
    processes = _processes()
    groups = {
        "registry_workers": [pid for pid, (_, parent) in processes.items() if parent == server.pid],
        "postgresql": [pid for pid, (name, _) in processes.items() if name.startswith("postgres")],
        "redis": [pid for pid, (name, _) in processes.items() if name.startswith("redis")],
    }
    before = {group: _cpu_seconds(pids) for group, pids in groups.items()}
    seconds = max(2, min(args.duration, 6))
    run = wrk("post", "/api/v1/verifications", token, files["bodies"], seconds, args.connections)
    split = {
        group: round((_cpu_seconds(pids) - before[group]) * 1000 / run["requests"], 3) for group, pids in groups.items()
    }
    return {**split, "requests": run["requests"], "rps": run["rps"]}


# The four throughput runs, as (figure, wrk mode, path, bodies file, port).
RUNS = (
    ("bare", "get", BARE_PATH, "bodies", BARE_PORT),
    ("ceiling", "get", "/api/v1/organizations", "bodies", PORT),
    ("verification", "post", "/api/v1/verifications", "bodies", PORT),
    ("consent_token", "post", "/api/v1/consent-tokens", "tokens", PORT),
)


def alternating(token: str, files: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """Each of the four runs for ``--duration`` seconds in all, cut in slices of ``--slice``
    seconds that take turns (bare, ceiling, verification, token, bare, …), so a change in the
    machine's load (it is shared) weighs on all four alike and their ratios stay comparable.
    Throughput is all requests over all seconds; p50 is the median of the slices' p50s, p99 and
    max the worst slice's."""
    slices = max(1, round(args.duration / args.slice))
    parts: dict[str, list[dict[str, Any]]] = {figure: [] for figure, *_ in RUNS}
    for number in range(slices):
        # Rotate who goes first, so no run always follows the same one.
        for figure, mode, path, bodies, port in RUNS[number % 4 :] + RUNS[: number % 4]:
            parts[figure].append(wrk(mode, path, token, files[bodies], args.slice, args.connections, port))
    return {figure: merged_slices(runs) for figure, runs in parts.items()}


def merged_slices(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure from its wrk slices: all requests over all seconds, the median of the p50s, the
    worst p99 and maximum, and each slice's throughput."""
    requests, seconds = sum(r["requests"] for r in runs), sum(r["seconds"] for r in runs)
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "rps": round(requests / seconds, 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "max_ms": max(r["max_ms"] for r in runs),
        "slices": [r["rps"] for r in runs],
    }


# Issue 17's targets, as shares of the bare view measured in the same run.
TARGETS = {
    "verification_share_min": 0.25,
    "ceiling_share_min": 0.40,
    "consent_token_share_min": 0.20,
    "half_rate_p99_ms_max": 10.0,
    "bulk_p99_ms_max": 100.0,
}


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    share = figures["share_of_bare"]
    checks = {
        "verification_share": (share["verification"], share["verification"] >= TARGETS["verification_share_min"]),
        "ceiling_share": (share["ceiling"], share["ceiling"] >= TARGETS["ceiling_share_min"]),
        "consent_token_share": (share["consent_token"], share["consent_token"] >= TARGETS["consent_token_share_min"]),
        "half_rate_p99_ms": (
            figures["half_rate"]["p99_ms"],
            figures["half_rate"]["p99_ms"] <= TARGETS["half_rate_p99_ms_max"],
        ),
        "bulk_p99_ms": (figures["bulk"]["p99_ms"], figures["bulk"]["p99_ms"] <= TARGETS["bulk_p99_ms_max"]),
    }
    return {name: {"value": value, "met": met} for name, (value, met) in checks.items()} | {"limits": TARGETS}


# --- Witnessing off the request path (issue 15) -------------------------------------------------


def _log_feeder(stop: Any, every: float) -> None:
    """Grow the log while the witness run goes on, so checkpoints are published and submitted."""
    from django.db import connection, transaction

    from registry.lib.ids import new_public_id
    from registry.transparency.services import log_append

    while not stop.wait(every):
        with transaction.atomic():
            log_append(
                type="attestation.stored",
                ref=new_public_id("att"),
                digest="sha256:" + secrets.token_hex(32),
            )
    connection.close()


def witness_comparison(
    name: str, env: dict[str, str], token: str, files: dict[str, Path], args: argparse.Namespace, number: int
) -> dict[str, Any]:
    """Verification throughput of a server whose policy names one witness that takes
    ``--witness-delay`` seconds to answer, against the same server with no witness policy.

    Both servers run side by side (the policy's on 8731, the other on 8732) and take turns in
    slices of ``--slice`` seconds, so the shared machine's load weighs on both alike. One Celery
    worker (with beat publishing a checkpoint every second, under the policy) submits every new
    checkpoint to the slow witness while the log grows by two leaves a second, during both
    servers' turns: what differs is only whether the request path has a witness configured."""
    import threading

    from django.conf import settings

    from registry import keys
    from registry.lib.note import SIG_ED25519, format_vkey
    from registry.lib.signing import public_key_bytes
    from tests.registry.witness.reference_witness import ReferenceWitness, ReferenceWitnessServer

    public = public_key_bytes(keys.keyring().active(keys.CHECKPOINT).private_key)
    origin = settings.REGISTRY_LOG_ORIGIN
    # A new witness name each round: a submission cut short when the last round's worker stopped
    # leaves that witness leased and backing off.
    witness = ReferenceWitness(
        name=f"witness.bench/slow{number}", logs={origin: public}, delay=float(args.witness_delay)
    )
    policy = WORK / "witness-policy"
    base = {
        **env,
        "REGISTRY_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REGISTRY_OUTBOUND_ALLOW_HTTP": "1",
        "REGISTRY_CHECKPOINT_INTERVAL": "1",
        "REGISTRY_WITNESS_MIN_INTERVAL": "0",
    }
    with_policy = {**base, "REGISTRY_WITNESS_POLICY": str(policy)}
    result: dict[str, Any] = {"witness_delay_s": args.witness_delay}
    processes: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    feeder = threading.Thread(target=_log_feeder, args=(stop, 0.5), daemon=True)
    with ReferenceWitnessServer(witness) as server, open(WORK / "celery-witness.log", "wb") as worker_log:
        our_log = format_vkey(origin, SIG_ED25519, public)
        policy.write_text(f"log {our_log}\nwitness slow{number} {witness.vkey} {server.url}\nquorum slow{number}\n")
        try:
            worker = [
                str(PYTHON / "celery"), "-A", "registry", "worker", "--beat", "--concurrency", "1",
                "--loglevel", "WARNING", "--schedule", str(WORK / "celerybeat-schedule"),
            ]  # fmt: skip
            processes.append(
                subprocess.Popen(
                    worker,
                    cwd=ROOT,
                    env={**os.environ, **with_policy},
                    stdout=worker_log,
                    stderr=worker_log,
                    start_new_session=True,
                )
            )
            processes.append(start_server(name, with_policy, port=PORT, label=f"{name}-witness"))
            processes.append(start_server(name, base, port=BARE_PORT, label=f"{name}-no-witness"))
            ports = {"slow": PORT, "none": BARE_PORT}
            for port in ports.values():
                wrk("post", "/api/v1/verifications", token, files["bodies"], 2, args.connections, port)
            feeder.start()
            time.sleep(3)  # the worker is up and witnessing has begun
            asked = len(witness.requests)
            parts: dict[str, list[dict[str, Any]]] = {label: [] for label in ports}
            order = list(ports) if number % 2 == 0 else list(ports)[::-1]
            for turn in range(max(1, round(args.duration / args.slice))):
                for label in order if turn % 2 == 0 else order[::-1]:
                    parts[label].append(
                        wrk("post", "/api/v1/verifications", token, files["bodies"], args.slice, args.connections,
                            ports[label])
                    )  # fmt: skip
            for label, runs in parts.items():
                result[label] = merged_slices(runs)
            result["witness_submissions_during_run"] = len(witness.requests) - asked
        finally:
            stop.set()
            if feeder.is_alive():
                feeder.join()
            for process in reversed(processes):
                stop_server(process)
    result["slow_over_none"] = round(result["slow"]["rps"] / result["none"]["rps"], 3)
    result["within_5_percent"] = abs(1 - result["slow_over_none"]) <= 0.05
    log(
        f"{name}: verification {result['slow']['rps']} req/s with the slow witness, {result['none']['rps']} "
        f"without ({result['slow_over_none']:.1%}); {result['witness_submissions_during_run']} submissions"
    )
    return result


def _summary(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "bare_rps": figures["bare"]["rps"],
        "ceiling_rps": figures["ceiling"]["rps"],
        "verification_rps": figures["verification"]["rps"],
        "consent_token_rps": figures["consent_token"]["rps"],
        "share_of_bare": figures["share_of_bare"],
        "ratio": figures["ratio"],
        "half_rate_p99_ms": figures["half_rate"]["p99_ms"],
        "bulk_p50_ms": figures["bulk"]["p50_ms"],
        "bulk_p99_ms": figures["bulk"]["p99_ms"],
        "cpu_ms_per_verification": figures.get("cpu_ms_per_verification"),
        # The bare view's whole cost per request: every core over its throughput (wrk included).
        "bare_cpu_ms_per_request": round((os.cpu_count() or 1) * 1000 / figures["bare"]["rps"], 3),
        **({"witness": figures["witness"]} if "witness" in figures else {}),
    }


def run(args: argparse.Namespace, seeded: dict[str, Any]) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in bench_env().items()}
    token = api_key()
    from django.db import connection

    connection.close()
    bodies = make_bodies(args.subjects, 20_000, seed=1)
    files = {"bodies": WORK / "bodies.jsonl", "tokens": WORK / "token-bodies.jsonl"}
    files["bodies"].write_text("\n".join(json.dumps(b, separators=(",", ":")) for b in bodies) + "\n")
    raw_bodies = [json.dumps(b, separators=(",", ":")).encode() for b in bodies]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                 "load_average_at_start": list(os.getloadavg())},
        "seed": seeded,
        "load": {
            "wrk": f"wrk -t1 -c{args.connections} -d{args.duration}s --latency",
            "fixed_rate": "bench/verify.py asyncio",
            "bare": f"a bare Django JSON view ({BARE_PATH}: no middleware, no database) served by the same command",
            "workers": args.workers,
        },
        "queries_per_verification": queries_per_verification(token) if not args.witness_only else None,
        "servers": {},
    }  # fmt: skip
    connection.close()
    names = args.servers.split(",")
    if not args.witness_only:
        # Consent tokens are issued for permitted uses only: find some with a server up.
        process = start_server(names[0], env)
        try:
            found = token_bodies(token, bodies)
        finally:
            stop_server(process)
        files["tokens"].write_text("\n".join(json.dumps(b, separators=(",", ":")) for b in found) + "\n")
        log(f"{len(found)} permitted queries for the consent-token run")
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for number in range(args.rounds):
        # Alternate the order, so neither server always runs first on a cold cache.
        for name in names if number % 2 == 0 else names[::-1]:
            log(f"round {number + 1}/{args.rounds}: {name}")
            figures = {} if args.witness_only else measure(name, env, token, bodies, raw_bodies, files, args)
            if args.witness_delay:
                figures["witness"] = witness_comparison(name, env, token, files, args, number)
            rounds[name].append(figures)
    if args.witness_only:
        results["servers"] = {name: {"rounds": [f["witness"] for f in measured]} for name, measured in rounds.items()}
    else:
        for name, measured in rounds.items():
            # The round with the median verification throughput stands for the server: real figures
            # from one run, not a mix of several; every round's summary is kept beside it.
            ordered = sorted(measured, key=lambda figures: figures["verification"]["rps"])
            results["servers"][name] = {
                **ordered[(len(ordered) - 1) // 2],
                "rounds": [_summary(figures) for figures in measured],
            }
        results["fastest"] = max(results["servers"], key=lambda n: results["servers"][n]["verification"]["rps"])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d") + (f"-{args.tag}" if args.tag else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"verify-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    if not args.witness_only:
        (RESULTS / f"verify-{stamp}.svg").write_text(chart(results))
    log(f"wrote bench/results/verify-{stamp}.json")
    print(
        json.dumps(
            {n: {k: f[k] for k in ("share_of_bare", "targets", "witness") if k in f} | {"rounds": f["rounds"]}
             for n, f in results["servers"].items()},
            indent=1,
        )
    )  # fmt: skip


def chart(results: dict[str, Any]) -> str:
    """A dependency-free bar chart: each endpoint's throughput as a share of the bare Django view
    measured in the same run, with the issue's target for it."""
    servers = list(results["servers"])
    bars = (
        ("ceiling", "list", TARGETS["ceiling_share_min"], "#8da0cb"),
        ("verification", "verify", TARGETS["verification_share_min"], "#fc8d62"),
        ("consent_token", "token", TARGETS["consent_token_share_min"], "#66c2a5"),
    )
    top = max(0.5, *(f["share_of_bare"][b[0]] for f in results["servers"].values() for b in bars))
    width, height, left, base = max(220 * len(servers) + 120, 600), 380, 70, 280
    scale = 220 / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="20" font-size="14">Share of a bare Django JSON view, same server, same run '
        f"(2 workers, 2 cores), {results['date']}; dashes: targets</text>",
        f'<line x1="{left - 10}" y1="{base}" x2="{width - 20}" y2="{base}" stroke="#333"/>',
    ]
    for i, name in enumerate(servers):
        f = results["servers"][name]
        x = left + i * 220
        for j, (key, label, target, colour) in enumerate(bars):
            share = f["share_of_bare"][key]
            h, bx, ty = share * scale, x + j * 60, base - target * scale
            parts.append(f'<rect x="{bx}" y="{base - h:.1f}" width="52" height="{h:.1f}" fill="{colour}"/>')
            parts.append(
                f'<line x1="{bx - 2}" y1="{ty:.1f}" x2="{bx + 54}" y2="{ty:.1f}" stroke="#000" stroke-dasharray="4 3"/>'
            )
            parts.append(
                f'<text x="{bx + 26}" y="{min(base - h, ty) - 4:.1f}" text-anchor="middle">{share:.0%} '
                f"({f[key]['rps']:.0f}/s)</text>"
            )
            parts.append(f'<text x="{bx + 26}" y="{base + 14}" text-anchor="middle">{label}</text>')
        parts.append(f'<text x="{x + 86}" y="{base + 32}" text-anchor="middle" font-weight="bold">{name}</text>')
        parts.append(
            f'<text x="{x + 86}" y="{base + 48}" text-anchor="middle">bare view {f["bare"]["rps"]:.0f} req/s</text>'
        )
        parts.append(
            f'<text x="{x + 86}" y="{base + 64}" text-anchor="middle">half-rate p99 {f["half_rate"]["p99_ms"]:.0f} ms, '
            f"bulk p99 {f['bulk']['p99_ms']:.0f} ms</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", nargs="?", default="all", choices=("all", "seed", "run"))
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--per-subject", type=int, default=10)
    parser.add_argument("--servers", default="gunicorn,gunicorn-gthread,granian")
    parser.add_argument("--duration", type=int, default=12, help="seconds per wrk measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes of every server, the bare view's included"
    )
    parser.add_argument("--slice", type=int, default=2, help="seconds per alternating wrk run")
    parser.add_argument(
        "--rounds", type=int, default=1, help="measure every server this many times, alternating the order"
    )
    parser.add_argument(
        "--witness-delay",
        type=float,
        default=0,
        help="also compare verification with one witness answering after this many seconds and with none",
    )
    parser.add_argument("--witness-only", action="store_true", help="only the witness comparison")
    parser.add_argument("--tag", default="", help="suffix of the result files (verify-<date>[-tag].json)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    os.environ["BENCH_WORKERS"] = str(args.workers)
    env = bench_env()
    ensure_database(env["DATABASE_URL"])
    setup_django()
    seeded = seed(args.subjects, args.per_subject)
    if args.step == "seed":
        return
    run(args, seeded)


if __name__ == "__main__":
    main()
