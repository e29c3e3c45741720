"""Benchmark of verification over HTTP on PostgreSQL: gunicorn vs granian, ceiling vs hot path.

    .venv/bin/python bench/verify.py                 # seed (if needed) + measure every server
    .venv/bin/python bench/verify.py seed            # only seed
    .venv/bin/python bench/verify.py run --servers gunicorn,granian

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
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
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
TERRITORIES = ("ID", "US", "GB", "FR", "DE", "JP", "BR", "IN", "NG", "AU")


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
    base = ["psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
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
                self.order.append((None, f.attname))

    def line(self, values: dict[str, Any]) -> str:
        return (
            "\t".join(text if text is not None else _text(values[attname]) for text, attname in self.order) + "\n"
        )

    def copy(self, cursor: Any, lines: list[str]) -> None:
        import io

        cols = ", ".join(f'"{c}"' for c in self.columns)
        cursor.copy_expert(f'COPY "{self.table}" ({cols}) FROM STDIN', io.StringIO("".join(lines)))


def seed(subjects: int, per_subject: int, chunk: int = 10_000) -> dict[str, Any]:
    """100,000 subjects × 10 signed consents (idempotent: skipped when already there)."""
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
    purpose_choices = [["film_tv"], ["*"], ["advertising", "film_tv"], ["education", "research"], ["art"], ["*", "political"]]

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
                prof.line({"id": pk, "subject_id": pk, "display_name": f"Bench person {n}", "is_public": rng.random() < 0.3})
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
                e_lines.append(evt.line({"id": consent_pk, "consent_id": consent_pk, "digest": digest, "log_index": consent_pk - 1}))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", nargs="?", default="all", choices=("all", "seed", "run"))
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--per-subject", type=int, default=10)
    parser.add_argument("--servers", default="gunicorn,gunicorn-gthread,granian")
    parser.add_argument("--duration", type=int, default=12, help="seconds per wrk measurement")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    env = bench_env()
    ensure_database(env["DATABASE_URL"])
    setup_django()
    seeded = seed(args.subjects, args.per_subject)
    if args.step == "seed":
        return
    run(args, seeded)


if __name__ == "__main__":
    main()
