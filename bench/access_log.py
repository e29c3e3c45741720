"""Benchmark of the access log's growth on PostgreSQL: "who checked me" and the check's insert, by size.

    .venv/bin/python bench/access_log.py [--sizes 1000000,10000000] [--months 24] [--tag x]

The script owns the database ``restu_bench_accesslog`` (``BENCH_DATABASE_URL`` to change it; created
with ``psql`` when missing, migrated, its access log and subjects emptied at the start). It prepares
one partition per month of the last ``--months`` months (through the service the beat task uses),
then grows the log with COPY to each size in turn and measures, at each size:

* "who checked me": the page's query (``access_log_read`` … ``order_by("-created")[:200]``, with its
  joins) for 100 probe subjects that have exactly 60 checks each whatever the table's size, so only
  the table's size changes between sizes;
* a check's insert: the verification hot path's own INSERT statement, one row per statement and
  1,000 rows per statement (a bulk check), each committed on its own (durable, as a request's);
* ``EXPLAIN (ANALYZE, BUFFERS)`` of the "who checked me" query and of the disputes' one-year query
  (partition pruning: months outside the year are not read).

After each growth: ``ANALYZE``, ``VACUUM`` of the month taking the inserts and a ``CHECKPOINT``
(autovacuum is off on the bench's partitions: in production a past month is vacuumed once and then
quiet, while here the COPY fills every month at once). The filler rows belong to one subject per 10
rows (more checks come with more people), spread evenly over the months; COPY runs with
``session_replication_role = replica`` (no foreign-key trigger per row: the subjects are seeded
first, so the rows are valid). Results: ``bench/results/access-log-<date>[-tag].json`` and ``.svg``;
progress on stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
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
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/restu_bench_accesslog"
PROBES = 100
PROBE_ROWS = 60
ROWS_PER_FILLER_SUBJECT = 10
CHUNK = 200_000


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("restu_bench_accesslog") and "BENCH_DATABASE_URL" not in os.environ:
        raise SystemExit(f"refusing to use {name!r}: the bench empties its access log")
    host = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    exists = subprocess.run(
        ["psql", *host, "-Atqc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 — our name
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", *host, name], check=True)


def setup_django(url: str) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("REGISTRY_DATA_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()


def hot_path_insert() -> str:
    """The verification hot path's own INSERT (PostgreSQL form), wherever the module now keeps it."""
    import importlib
    import pkgutil

    root = importlib.import_module("consent.verification")
    modules = [root]
    if hasattr(root, "__path__"):
        modules += [
            importlib.import_module(m.name) for m in pkgutil.walk_packages(root.__path__, "consent.verification.")
        ]
    for module in modules:
        statement = getattr(module, "_INSERT_PG", None)
        if statement is not None:
            return str(statement.sql)  # a registry.lib.prepared.Statement: its plain text
    raise SystemExit("the hot path's INSERT (_INSERT_PG) is not in consent.verification any more")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(0.90 * (len(ordered) - 1))] * 1000, 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


class Seeder:
    """Grows the access log with COPY: probe subjects with a fixed number of checks, then fillers."""

    def __init__(self, months: int, resume: bool = False) -> None:
        from django.db import connection

        from consent.models import AccessLogEntry, Subject
        from consent.services.access_log import access_log_partitions_ensure

        self.connection = connection
        self.rng = random.Random(20261206)
        self.now = datetime.now(UTC)
        self.span_start = _month_start(self.now - timedelta(days=31 * (months - 1)))
        self.span = (self.now - self.span_start).total_seconds()
        self.log_table = AccessLogEntry._meta.db_table
        self.subject_table = Subject._meta.db_table
        self.subjects = 0
        self.rows = 0
        self.orgs = list(range(1, 21))  # ids only: the columns carry no constraint, readers LEFT JOIN
        self.probes = list(range(1, PROBES + 1))
        if resume:  # grow the log a previous run left (its probes are subjects 1..PROBES)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {self.log_table}")  # noqa: S608
                self.rows = cursor.fetchone()[0]
                cursor.execute(f"SELECT max(id) FROM {self.subject_table}")  # noqa: S608
                self.subjects = cursor.fetchone()[0]
            log(f"resuming at {self.rows:,} rows, {self.subjects:,} subjects")
            return
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {self.log_table}, {self.subject_table} RESTART IDENTITY CASCADE")
        month = self.span_start
        while month <= self.now:  # the past months as the beat task would have made them, one by one
            access_log_partitions_ensure(now=month, months_ahead=0)
            month = _month_start(month + timedelta(days=32))
        access_log_partitions_ensure()
        with connection.cursor() as cursor:
            # In production a past month is vacuumed once and then left alone; here the COPY fills
            # every month at once, and autovacuum working through them would be measured instead.
            # The month that takes the inserts is vacuumed before each measurement (``settle``).
            for partition in self.partitions():
                cursor.execute(f"ALTER TABLE {partition} SET (autovacuum_enabled = false)")
        self.probes = self.add_subjects(PROBES)
        self.copy_rows([(s, PROBE_ROWS) for s in self.probes])

    def partitions(self) -> list[str]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [self.log_table]
            )
            return [row[0] for row in cursor.fetchall()]

    def settle(self) -> float:
        """Statistics for every month, this month vacuumed, a checkpoint: the steady state in which
        a production log takes its inserts, not the aftermath of a bulk load."""
        started = time.monotonic()
        with self.connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.log_table}")
            cursor.execute(f"ANALYZE {self.subject_table}")
            cursor.execute(f"VACUUM (ANALYZE) {self.log_table}_p{self.now:%Y_%m}")
            cursor.execute("CHECKPOINT")
        return time.monotonic() - started

    def add_subjects(self, count: int) -> list[int]:
        first = self.subjects + 1
        stamp = self.now.isoformat()
        lines = "".join(
            f"{n}\tsub_bench{n:012d}\tliving\t\\N\t\\N\tself_asserted\tf\t{stamp}\t{stamp}\n"
            for n in range(first, first + count)
        )
        with self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {self.subject_table} (id, public_id, status, adult_on, deceased_on, assurance, disputed, "
                "created, updated) FROM STDIN",
                io.StringIO(lines),
            )
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{self.subject_table}', 'id'), %s)", [first + count])
        self.subjects += count
        return list(range(first, first + count))

    def copy_rows(self, plan: list[tuple[int, int]]) -> None:
        """``plan``: (subject id, rows) pairs; each row at a random moment of the span."""
        rng = self.rng
        lines = []
        decisions = ("permitted", "denied", "unknown")
        for subject, count in plan:
            for _ in range(count):
                moment = self.span_start + timedelta(seconds=rng.random() * self.span)
                query = (
                    '{"medium":"face","activity":"generate","purpose":"film_tv","territory":"ID",'
                    f'"date":"{moment:%Y-%m-%d}","subject":"sub_bench{subject:012d}"}}'
                )
                lines.append(
                    f"verification\t{moment.isoformat()}\t{query}\t{decisions[rng.randrange(3)]}\t"
                    f"rcp_{rng.getrandbits(96):024x}\t\\N\t{rng.randrange(1, 21)}\t\\N\t\\N\t{subject}\n"
                )
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            cursor.copy_expert(
                f"COPY {self.log_table} (kind, created, query, decision, receipt_id, caller_key_id, caller_org_id, "
                "caller_user_id, consent_id, subject_id) FROM STDIN",
                io.StringIO("".join(lines)),
            )
            cursor.execute("SET session_replication_role = DEFAULT")
        self.rows += len(lines)

    def grow_to(self, size: int) -> float:
        started = time.monotonic()
        while self.rows < size:
            count = min(CHUNK, size - self.rows)
            fillers = self.add_subjects(max(1, count // ROWS_PER_FILLER_SUBJECT))
            per = count // len(fillers)
            plan = [(s, per) for s in fillers]
            plan[-1] = (fillers[-1], count - per * (len(fillers) - 1))
            self.copy_rows(plan)
            if self.rows % 1_000_000 < CHUNK:
                log(f"  {self.rows:,} rows ({time.monotonic() - started:.0f} s)")
        return time.monotonic() - started


def who_checked_me(probes: list[int], repeats: int) -> dict[str, Any]:
    """The page's query (consent.views.access_log) without the representative check, per probe."""
    from consent.models import AccessLogEntry

    samples = []
    for _ in range(repeats):
        for subject in probes:
            t0 = time.perf_counter()
            rows = list(
                AccessLogEntry.objects.filter(subject_id=subject)
                .select_related("caller_org", "consent", "caller_key", "caller_user")
                .order_by("-created")[:200]
            )
            samples.append(time.perf_counter() - t0)
            assert len(rows) == PROBE_ROWS, (subject, len(rows))
    return percentiles(samples)


CONTROL = "bench_accesslog_control"


def control_reset(probes: list[int]) -> None:
    """A plain (unpartitioned) table with the log's columns, indexes and foreign keys holding only the probe
    subjects' checks: the same query and insert against it, interleaved with the real ones, shows
    what the machine's load did at that moment, apart from the log's size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CONTROL}")
        cursor.execute(f"CREATE TABLE {CONTROL} (LIKE consent_accesslogentry INCLUDING ALL)")
        # The log's two foreign keys too (LIKE copies none), so the control checks what the log checks.
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'consent_accesslogentry'::regclass AND contype = 'f'"
        )
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {CONTROL} ADD {definition}")
        cursor.execute(
            f"INSERT INTO {CONTROL} SELECT * FROM consent_accesslogentry WHERE subject_id <= %s",  # noqa: S608
            [max(probes)],
        )
        cursor.execute(f"VACUUM ANALYZE {CONTROL}")


def _raw_page(subject: int) -> tuple[str, list[Any]]:
    from consent.models import AccessLogEntry

    page = (
        AccessLogEntry.objects.filter(subject_id=subject)
        .select_related("caller_org", "consent", "caller_key", "caller_user")
        .order_by("-created")[:200]
    )
    sql, params = page.query.sql_with_params()
    return sql, list(params)


def who_checked_me_vs_control(probes: list[int], repeats: int) -> dict[str, Any]:
    """The page's SQL (no ORM objects) on the log and on the control, alternately."""
    from django.db import connection

    real, control = [], []
    with connection.cursor() as cursor:
        for _ in range(repeats):
            for subject in probes:
                sql, params = _raw_page(subject)
                for target, samples in (
                    (sql, real),
                    (sql.replace('"consent_accesslogentry"', f'"{CONTROL}"'), control),
                ):
                    t0 = time.perf_counter()
                    cursor.execute(target, params)
                    rows = cursor.fetchall()
                    samples.append(time.perf_counter() - t0)
                    assert len(rows) == PROBE_ROWS, (subject, len(rows))
    return {"log": percentiles(real), "control": percentiles(control)}


def inserts(statement: str, subjects: int, singles: int, batches: int) -> dict[str, Any]:
    """The hot path's INSERT, autocommit (each statement committed, as a request's check is), on the
    log and on the control table alternately."""
    from django.db import connection

    rng = random.Random(7)
    on_control = statement.replace("INSERT INTO consent_accesslogentry ", f"INSERT INTO {CONTROL} ", 1)
    assert on_control != statement

    def run(batch: int, target: str) -> float:
        ids = [rng.randrange(PROBES + 1, subjects + 1) for _ in range(batch)]
        queries = ",".join(
            f'{{"medium":"face","activity":"generate","purpose":"film_tv","territory":"ID","subject":"sub_bench{i:012d}"}}'
            for i in ids
        )
        params = [
            "verification",
            rng.randrange(1, 21),
            None,
            None,
            datetime.now(UTC),
            ids,
            ["permitted"] * batch,
            [None] * batch,
            [f"rcp_{rng.getrandbits(96):024x}" for _ in ids],
            f"[{queries}]",
        ]
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(target, params)
        return time.perf_counter() - t0

    for _ in range(50):
        run(1, statement)  # warm the connection and the plans
        run(1, on_control)
    result: dict[str, Any] = {}
    for name, batch, count in (("one_row", 1, singles), ("batch_of_1000", 1000, batches)):
        real, control = [], []
        for _ in range(count):
            real.append(run(batch, statement))
            control.append(run(batch, on_control))
        result[name] = percentiles(real)
        result[f"{name}_control"] = percentiles(control)
    return result


def explain(sql: str, params: list[Any]) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    scanned = sorted({line.split(" on ")[1].split()[0] for line in plan if " on consent_accesslogentry_" in line})
    return {"plan": plan, "partitions_read": scanned}


def plans(probe: int) -> dict[str, Any]:
    from consent.models import AccessLogEntry

    page = (
        AccessLogEntry.objects.filter(subject_id=probe)
        .select_related("caller_org", "consent", "caller_key", "caller_user")
        .order_by("-created")[:200]
    )
    sql, params = page.query.sql_with_params()
    since = datetime.now(UTC) - timedelta(days=365)
    disputes = AccessLogEntry.objects.filter(
        subject_id=probe, decision="permitted", created__gte=since, caller_org__isnull=False
    ).values_list("caller_org_id", flat=True)
    dsql, dparams = disputes.query.sql_with_params()
    return {"who_checked_me": explain(sql, list(params)), "disputes_last_year": explain(dsql, list(dparams))}


def sizes_on_disk() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(pg_total_relation_size(inhrelid)), max(pg_total_relation_size(inhrelid)) "
            "FROM pg_inherits WHERE inhparent = 'consent_accesslogentry'::regclass"
        )
        partitions, total, largest = cursor.fetchone()
    return {"partitions": partitions, "total_bytes": int(total), "largest_partition_bytes": int(largest)}


def chart(result: dict[str, Any]) -> str:
    """A dependency-free chart: p50 and p99 (ms) of each measurement against the table's size."""
    points = result["sizes"]
    series = [
        ("who checked me p50 (page, ORM)", "#1f77b4", lambda p: p["who_checked_me"]["p50_ms"], False),
        ("who checked me p50 (SQL)", "#17becf", lambda p: p["who_checked_me_sql"]["log"]["p50_ms"], False),
        ("  control (small plain table)", "#17becf", lambda p: p["who_checked_me_sql"]["control"]["p50_ms"], True),
        ("insert 1 row p50", "#ff7f0e", lambda p: p["insert"]["one_row"]["p50_ms"], False),
        ("  control", "#ff7f0e", lambda p: p["insert"]["one_row_control"]["p50_ms"], True),
        ("insert 1,000 rows p50 / 10", "#2ca02c", lambda p: p["insert"]["batch_of_1000"]["p50_ms"] / 10, False),
        ("  control / 10", "#2ca02c", lambda p: p["insert"]["batch_of_1000_control"]["p50_ms"] / 10, True),
    ]
    width, height, left, right, top_pad, base = 800, 380, 60, 260, 40, 320
    top = max(fn(p) for _, _, fn, _ in series for p in points) * 1.15
    xs = [p["rows"] for p in points]

    def x(index: int) -> float:
        return left + (width - left - right) * (index / max(1, len(xs) - 1))

    def y(value: float) -> float:
        return base - (base - top_pad) * value / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14">Access log by size (PostgreSQL, monthly partitions), '
        f"{result['date']}: ms</text>",
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{base}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{top:.1f}</text>',
        f'<text x="{left - 6}" y="{base + 4}" text-anchor="end">0</text>',
    ]
    for i, rows in enumerate(xs):
        parts.append(f'<text x="{x(i):.1f}" y="{base + 18}" text-anchor="middle">{rows:,} rows</text>')
    for n, (label, colour, fn, dashed) in enumerate(series):
        line = " ".join(f"{x(i):.1f},{y(fn(p)):.1f}" for i, p in enumerate(points))
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{line}"/>')
        for i, p in enumerate(points):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(fn(p)):.1f}" r="3" fill="{colour}"/>')
        ly = top_pad + 18 * n
        parts.append(
            f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 40}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        parts.append(f'<text x="{width - right + 45}" y="{ly + 4}">{label}</text>')
    parts.append(
        f'<text x="{left}" y="{height - 12}">{PROBES} probe subjects x {PROBE_ROWS} checks each at every size; '
        f"rows over {result['months']} months, one partition a month; dashed: control</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="row counts to grow to, ascending")
    parser.add_argument("--months", type=int, default=24, help="months the rows are spread over")
    parser.add_argument("--repeats", type=int, default=5, help="'who checked me' reads per probe subject")
    parser.add_argument("--singles", type=int, default=2000, help="one-row inserts to time per size")
    parser.add_argument("--batches", type=int, default=30, help="1,000-row inserts to time per size")
    parser.add_argument("--tag", default="")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="grow the log a previous run left instead of starting empty; its sizes are added to the same result file",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    from consent.services.access_log import access_log_is_partitioned

    log("migrating")
    call_command("migrate", verbosity=0, interactive=False)
    if not access_log_is_partitioned():
        raise SystemExit("the access log is not partitioned: is this PostgreSQL with migration 0008?")
    statement = hot_path_insert()
    seeder = Seeder(args.months, resume=args.resume)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": "bench/access_log.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "postgresql": server},
        "synchronous_commit": sync,
        "autovacuum": "off on the bench's partitions; the current month is vacuumed and a CHECKPOINT "
        "taken after each growth, before measuring",
        "months": args.months,
        "probes": {"subjects": PROBES, "checks_each": PROBE_ROWS},
        "sizes": [],
    }
    stem = f"access-log-{result['date']}" + (f"-{args.tag}" if args.tag else "")
    if args.resume and (RESULTS / f"{stem}.json").exists():
        earlier = json.loads((RESULTS / f"{stem}.json").read_text(encoding="utf-8"))
        result["sizes"] = earlier["sizes"]
        result["command"] = f"{earlier['command']}; then {result['command']}"
    for size in sizes:
        log(f"growing to {size:,} rows")
        seconds = seeder.grow_to(size)
        settled = seeder.settle()
        log(f"  seeded in {seconds:.0f} s, settled in {settled:.0f} s; measuring")
        point: dict[str, Any] = {
            "rows": seeder.rows,
            "subjects": seeder.subjects,
            "seed_seconds": round(seconds, 1),
            "settle_seconds": round(settled, 1),
            "load_average_before": os.getloadavg(),
            "on_disk": sizes_on_disk(),
            "who_checked_me": who_checked_me(seeder.probes, args.repeats),
        }
        control_reset(seeder.probes)
        point |= {
            "who_checked_me_sql": who_checked_me_vs_control(seeder.probes, args.repeats),
            "insert": inserts(statement, seeder.subjects, args.singles, args.batches),
            "explain": plans(seeder.probes[0]),
        }
        point["load_average_after"] = os.getloadavg()
        seeder.rows += args.singles + 50 + 1000 * args.batches
        log(
            f"  who checked me {point['who_checked_me']}; SQL only {point['who_checked_me_sql']}; "
            f"insert 1 {point['insert']['one_row']} (control {point['insert']['one_row_control']}); "
            f"insert 1,000 {point['insert']['batch_of_1000']} (control {point['insert']['batch_of_1000_control']})"
        )
        result["sizes"].append(point)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        (RESULTS / f"{stem}.svg").write_text(chart(result), encoding="utf-8")
        log(f"  wrote bench/results/{stem}.json and .svg")


if __name__ == "__main__":
    main()
