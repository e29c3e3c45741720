"""Benchmark of the transparency log on PostgreSQL: appends, contention, proofs at 10^6 leaves, memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/restu_bench .venv/bin/python bench/log.py [--leaves 1000000]

The script owns the database named in DATABASE_URL: it creates it with ``psql`` when missing,
migrates it and empties the log's tables before each run. It never touches another database.
Progress goes to stderr; the results go to ``bench/results/log-<date>.json`` and ``.svg``.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def setup_django() -> None:
    """Configure Django from the environment (DATABASE_URL is required); safe defaults for the rest."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    # Its own data folder: key file and (without CELERY_BROKER_URL) the file broker's queue.
    os.environ.setdefault("REGISTRY_DATA_DIR", str(ROOT / "var" / "bench"))
    # The HTTP measurement makes thousands of anonymous requests.
    os.environ.setdefault("THROTTLE_ANON", "100000000/min")
    import django

    django.setup()


def rss_now_kib() -> int:
    """Resident set size right now (Linux /proc), in KiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def rss_peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("bench/log.py measures PostgreSQL: DATABASE_URL must be postgres://…")
    name = parts.path.lstrip("/")
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing an odd database name {name!r}")
    env = {**os.environ}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    host, port = parts.hostname or "localhost", str(parts.port or 5432)
    base = ["psql", "-h", host, "-p", port, "-U", parts.username or "postgres"]
    exists = subprocess.run(
        [*base, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 - name checked above
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    if exists != "1":
        log(f"creating database {name}")
        subprocess.run([*base, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'], env=env, check=True)


def reset_log() -> None:
    """Empty the log's tables in the bench database and recreate the sequencer row."""
    from django.db import connection

    from registry.transparency.models import LogState

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE transparency_logentry, transparency_lognode, transparency_checkpoint, transparency_logstate"
        )
    LogState.objects.create(pk=1)


def _digest(n: int) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(n.to_bytes(8, "big", signed=True)).hexdigest()


_REF_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _ref(n: int) -> str:
    # A deterministic public-id-shaped ref (new_public_id's randomness is not what is measured).
    n &= (1 << 130) - 1  # warm-up appends use negative numbers
    digits = []
    for _ in range(26):
        n, r = divmod(n, 32)
        digits.append(_REF_ALPHABET[r])
    return "con_" + "".join(reversed(digits))


def append_one(n: int) -> int:
    from django.db import transaction

    from registry.transparency.services import log_append

    with transaction.atomic():
        return log_append(type="consent.signed", ref=_ref(n), digest=_digest(n)).index


def measure_commit_ceiling(count: int = 1_000) -> dict[str, object]:
    """The most one-row durable transactions per second this server does for one client.

    Every append is its own durable transaction, so a single writer can never beat this; it is
    measured just before the appends so the two are comparable on a shared machine.
    """
    from django.db import connection, transaction

    # A plain (WAL-logged) table in the bench database: a TEMP table's commits never wait for disk.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit (n integer)")
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    t0 = time.perf_counter()
    for n in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_commit VALUES (%s)", [n])
    rate = count / (time.perf_counter() - t0)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_commit")
    log(f"commit ceiling: {rate:,.0f} one-row transactions/s (synchronous_commit={synchronous_commit})")
    return {"transactions_per_second": round(rate, 1), "synchronous_commit": synchronous_commit}


def measure_single_writer(count: int) -> dict[str, object]:
    """One writer, one transaction per append; throughput per batch and RSS along the way."""
    from django.db import connection

    batch = max(1, count // 20)
    append_one(-1)  # warm up: imports, connection, prepared key file
    rss_before, peak_before = rss_now_kib(), rss_peak_kib()
    series = []
    started = time.perf_counter()
    done = 0
    while done < count:
        step = min(batch, count - done)
        t0 = time.perf_counter()
        for i in range(step):
            append_one(done + i)
        elapsed = time.perf_counter() - t0
        done += step
        series.append({"appended": done, "per_second": round(step / elapsed, 1), "rss_kib": rss_now_kib()})
        log(f"single writer: {done}/{count} appends, {step / elapsed:,.0f}/s, RSS {series[-1]['rss_kib']:,} KiB")
    total = time.perf_counter() - started
    connection.close()
    return {
        "appends": count,
        "seconds": round(total, 3),
        "per_second": round(count / total, 1),
        # On a shared VM a few slow batches (others' bursts) drag the total down: the median
        # batch says what the code does when the machine is not busy elsewhere.
        "median_batch_per_second": statistics.median(point["per_second"] for point in series),
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_now_kib(),
        "max_rss_before_kib": peak_before,
        "max_rss_after_kib": rss_peak_kib(),
        "series": series,
    }


def _writer_process(count: int, offset: int, barrier, results) -> None:  # type: ignore[no-untyped-def]
    setup_django()
    from django.db import connection

    append_one(-(offset + 2))  # connect and warm up before the clock starts
    barrier.wait(timeout=120)
    t0 = time.perf_counter()
    for i in range(count):
        append_one(offset + i)
    results.put((os.getpid(), count, time.perf_counter() - t0))
    connection.close()


def measure_contention(writers: int, count: int) -> dict[str, object]:
    from registry.transparency.services import tree_head

    before = tree_head().size
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(writers + 1)
    queue = ctx.Queue()
    per = count // writers
    processes = [
        ctx.Process(target=_writer_process, args=(per, 10_000_000 * (k + 1), barrier, queue)) for k in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)
    t0 = time.perf_counter()
    finished = [queue.get(timeout=1800) for _ in processes]
    wall = time.perf_counter() - t0
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a writer process failed with exit code {process.exitcode}")
    after = tree_head().size
    appended = per * writers
    gap_free = after - before == appended + writers  # + one warm-up append per writer
    log(f"contention: {writers} processes, {appended} appends in {wall:.2f} s = {appended / wall:,.0f}/s")
    return {
        "writers": writers,
        "appends": appended,
        "seconds": round(wall, 3),
        "per_second": round(appended / wall, 1),
        "per_writer_per_second": [round(n / s, 1) for _, n, s in finished],
        "gap_free": gap_free,
    }


def _copy_literal_bytes(data: bytes) -> str:
    # bytea in COPY text format: \x<hex>, with the backslash itself escaped.
    return "\\\\x" + data.hex()


def bulk_load(target: int, chunk: int = 50_000) -> dict[str, object]:
    """Grow the log to ``target`` leaves fast: same leaves, hashes and frontier as log_append, via COPY."""
    from django.db import connection, transaction
    from django.utils import timezone

    from registry.lib.canonical import canonical_json
    from registry.lib.merkle import leaf_hash
    from registry.transparency.models import LogState
    from registry.transparency.services import _leaf
    from registry.transparency.tree import frontier_decode, frontier_encode, frontier_push

    t0 = time.perf_counter()
    with transaction.atomic():
        state = LogState.objects.select_for_update().get(pk=1)
        size = state.size
        frontier = frontier_decode(size, bytes(state.frontier))
        at = timezone.now()
        at_text = at.isoformat()
        raw = connection.connection  # psycopg2 connection, inside Django's transaction
        start = size
        while size < target:
            stop = min(target, size + chunk)
            entries, nodes = io.StringIO(), io.StringIO()
            for index in range(size, stop):
                ref, digest = _ref(index), _digest(index)
                leaf_bytes = canonical_json(_leaf("consent.signed", ref, digest, at))
                hashed = leaf_hash(leaf_bytes)
                entries.write(
                    f"{index}\tconsent.signed\t{ref}\t{digest}\t{at_text}\t"
                    f"{_copy_literal_bytes(leaf_bytes)}\t{_copy_literal_bytes(hashed)}\n"
                )
                for level, node_index, node in frontier_push(frontier, index, hashed):
                    nodes.write(f"{level}\t{node_index}\t{_copy_literal_bytes(node)}\n")
            entries.seek(0)
            nodes.seek(0)
            with raw.cursor() as cursor:
                cursor.copy_expert(
                    "COPY transparency_logentry (index, type, ref, digest, at, leaf, leaf_hash) FROM STDIN", entries
                )
                cursor.copy_expert('COPY transparency_lognode (level, "index", hash) FROM STDIN', nodes)
            size = stop
            rate = (size - start) / (time.perf_counter() - t0)
            log(f"bulk load: {size:,}/{target:,} leaves ({rate:,.0f}/s, about {(target - size) / rate:,.0f} s to go)")
        LogState.objects.filter(pk=1).update(size=size, frontier=frontier_encode(frontier), updated=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transparency_logentry")
        cursor.execute("ANALYZE transparency_lognode")
        cursor.execute("ANALYZE transparency_logstate")
    seconds = time.perf_counter() - t0
    return {"leaves": target, "seconds": round(seconds, 1), "per_second": round((target - start) / seconds, 1)}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "p50_ms": round(pick(0.50) * 1000, 3),
        "p90_ms": round(pick(0.90) * 1000, 3),
        "p99_ms": round(pick(0.99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def measure_proofs(samples: int, seed: int = 1) -> dict[str, object]:
    """Server time of inclusion proofs at random indices: the selector alone and the whole HTTP view."""
    from django.test import Client

    from registry.lib.merkle import verify_inclusion
    from registry.transparency import selectors

    size = selectors.log_size()
    rng = random.Random(seed)
    indices = [rng.randrange(size) for _ in range(samples)]
    for index in indices[:20]:  # warm the connection and the plan cache
        selectors.proof_inclusion(index=index, tree_size=size)
    direct = []
    for n, index in enumerate(indices):
        t0 = time.perf_counter()
        proof = selectors.proof_inclusion(index=index, tree_size=size)
        direct.append(time.perf_counter() - t0)
        if n % 100 == 0:  # the proofs are real: check some against the root
            assert verify_inclusion(index, size, proof.leaf_hash, proof.audit_path, proof.root_hash)
    log(f"proofs at {size:,} leaves (selector): {_percentiles(direct)}")
    result: dict[str, object] = {"tree_size": size, "samples": samples, "selector": _percentiles(direct)}
    client = Client()
    http = []
    try:
        for index in indices:
            t0 = time.perf_counter()
            response = client.get(f"/api/v1/log/proof/inclusion?index={index}&tree_size={size}")
            http.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code} {response.content[:200]!r}")
    except Exception as exc:  # e.g. another app's URLconf not importable: keep the other figures
        log(f"HTTP proofs could not be measured: {exc!r}")
        result["http_error"] = repr(exc)
        return result
    log(f"proofs at {size:,} leaves (HTTP view): {_percentiles(http)}")
    result["http"] = _percentiles(http)
    return result


def write_svg(path: Path, result: dict[str, object]) -> None:
    """A small dependency-free chart: single-writer appends/s and RSS per batch."""
    series = result["single_writer"]["series"]  # type: ignore[index]
    width, height, pad = 640, 300, 50
    xs = [point["appended"] for point in series]
    rates = [point["per_second"] for point in series]
    rss = [point["rss_kib"] / 1024 for point in series]
    top_rate = max(rates) * 1.15
    top_rss = max(rss) * 1.5

    def x(v: float) -> float:
        return pad + (width - 2 * pad) * v / max(xs)

    def y(v: float, top: float) -> float:
        return height - pad - (height - 2 * pad) * v / top

    rate_line = " ".join(f"{x(a):.1f},{y(r, top_rate):.1f}" for a, r in zip(xs, rates, strict=True))
    rss_line = " ".join(f"{x(a):.1f},{y(m, top_rss):.1f}" for a, m in zip(xs, rss, strict=True))
    proofs = result.get("proofs") or {}
    caption = (
        f"inclusion proof at {proofs.get('tree_size', 0):,} leaves: p50 {proofs['selector']['p50_ms']} ms, "
        f"p99 {proofs['selector']['p99_ms']} ms"
        if proofs
        else ""
    )
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"
 font-family="sans-serif" font-size="12">
<rect width="{width}" height="{height}" fill="white"/>
<text x="{pad}" y="20" font-size="14">Restu log: single-writer appends/s (blue) and RSS MiB (orange)</text>
<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{rate_line}"/>
<polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="{rss_line}"/>
<text x="{pad - 5}" y="{pad}" text-anchor="end">{top_rate:,.0f}/s</text>
<text x="{width - pad + 5}" y="{pad}">{top_rss:,.0f} MiB</text>
<text x="{width - pad}" y="{height - pad + 18}" text-anchor="end">{max(xs):,} appends</text>
<text x="{pad}" y="{height - 12}">{caption}</text>
</svg>
"""
    path.write_text(svg, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--leaves",
        type=int,
        default=1_000_000,
        help="grow the log to this many leaves for proofs (COPY, progress on stderr; 10^6 took 50-80 s on the "
        "2-vCPU bench VM, plus ~50 s for verify_log at the end)",
    )
    parser.add_argument("--appends", type=int, default=5_000, help="single-writer appends to time")
    parser.add_argument("--contended", type=int, default=4_000, help="appends shared by the contending writers")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--proofs", type=int, default=1_000, help="inclusion proofs to time")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a log that already has --leaves leaves (skips the bulk load)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the JSON (and the .svg beside it); default bench/results/log-<date>.json",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    ensure_database(url)
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    log("migrating the bench database")
    call_command("migrate", verbosity=0)
    from registry.transparency.selectors import log_size

    reuse = args.reuse and log_size() >= args.leaves
    if not reuse:
        reset_log()
    result: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "DATABASE_URL=… .venv/bin/python bench/log.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "database": {"vendor": connection.vendor, "version": connection.pg_version},
        "cache": settings.CACHES["default"]["BACKEND"],
        "broker": settings.CELERY_BROKER_URL.split("://")[0],
        "targets": {"single_writer_per_second": 1000, "proof_p99_ms": 5},
    }
    result["commit_ceiling"] = measure_commit_ceiling()
    result["single_writer"] = measure_single_writer(args.appends)
    result["commit_ceiling_after"] = measure_commit_ceiling()
    result["contention"] = measure_contention(args.writers, args.contended)
    result["bulk_load"] = {"reused": log_size()} if reuse else bulk_load(args.leaves)
    result["proofs"] = measure_proofs(args.proofs)
    result["single_writer_at_size"] = {
        "tree_size": args.leaves,
        **{k: v for k, v in measure_single_writer(1_000).items() if k != "series"},
    }
    log("verifying the whole log with manage.py verify_log")
    t0 = time.perf_counter()
    out = io.StringIO()
    call_command("verify_log", "--quiet", stdout=out, stderr=io.StringIO())
    result["verify_log"] = {"seconds": round(time.perf_counter() - t0, 1), "output": out.getvalue().strip()}

    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    json_path = args.output or RESULTS / f"log-{stamp}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    write_svg(json_path.with_suffix(".svg"), result)
    summary = {
        "single_writer_per_second": result["single_writer"]["per_second"],  # type: ignore[index]
        "contention_per_second": result["contention"]["per_second"],  # type: ignore[index]
        "proof_selector": result["proofs"]["selector"],  # type: ignore[index]
        "proof_http": result["proofs"].get("http"),  # type: ignore[attr-defined]
        "rss_kib": [result["single_writer"]["rss_before_kib"], result["single_writer"]["rss_after_kib"]],  # type: ignore[index]
    }
    log(f"wrote {json_path}")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
