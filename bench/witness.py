"""Benchmark of the witness server: ``POST /api/v1/witness/add-checkpoint`` requests per second.

    .venv/bin/python bench/witness.py [--logs 64] [--steps 40] [--clients 2] [--workers 2] [--sqlite]

Starts gunicorn (production-shaped settings, ``--workers`` sync workers) on a database of its
own (PostgreSQL ``restu_bench_witness`` by default, created with ``psql`` when missing; or a
SQLite file with ``--sqlite``), lists ``--logs`` test logs in REGISTRY_WITNESSED_LOGS, and has
``--clients`` processes submit, for every log in turn, a chain of ``--steps`` checkpoints (each
one leaf bigger than the last, with its consistency proof), as a real log would. Every answer
must be 200 with a cosignature; the figure is successful submissions per second over the run.
The CPU each answer cost (gunicorn workers, PostgreSQL backends, clients; read from ``/proc``)
is recorded too, with the load average: on a shared machine the rate follows the neighbours'
load, the CPU per answer much less. Results go to ``bench/results/witness-<database>-<time>.json``;
bench/WITNESS.md has the figures.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from registry.lib.merkle import MemoryTree  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@/restu_bench_witness?host=/var/run/postgresql"


def _vkey(name: str, key: Ed25519PrivateKey) -> str:
    raw = b"\x01" + key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(raw).decode()}"


def _chain(origin: str, key: Ed25519PrivateKey, steps: int) -> list[bytes]:
    """The add-checkpoint bodies of one log growing one leaf at a time."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4]
    tree = MemoryTree()
    bodies = []
    for step in range(steps):
        tree.append(f"{origin} leaf {step}".encode())
        size = tree.size
        text = f"{origin}\n{size}\n{base64.b64encode(tree.root()).decode()}\n"
        line = f"\u2014 {origin} {base64.b64encode(key_id + key.sign(text.encode())).decode()}\n"
        old = size - 1
        proof = tree.consistency_proof(old, size) if old > 0 else []
        head = "\n".join([f"old {old}", *(base64.b64encode(h).decode() for h in proof)])
        bodies.append(f"{head}\n\n{text}\n{line}".encode())
    return bodies


def _client(port: int, chains: list[list[bytes]], queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    # Raw sockets and requests built before the clock starts: the clients share the 2 CPUs with
    # the server, and http.client cost them 0.16 ms of CPU per request against 0.06 ms this way
    # (bench/WITNESS.md). HTTP/1.0: one request per connection, as a sync gunicorn worker serves
    # them anyway, and never a chunked answer.
    ok = failed = 0
    statuses: dict[int, int] = {}
    steps = len(chains[0]) if chains else 0
    head = f"POST /api/v1/witness/add-checkpoint HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n"
    requests = [
        [
            (head + f"Content-Type: text/plain\r\nContent-Length: {len(chain[step])}\r\n\r\n").encode() + chain[step]
            for chain in chains
        ]
        for step in range(steps)
    ]
    cosignature = "\r\n\r\n\u2014 ".encode()
    cpu = time.process_time()
    for step_requests in requests:  # every log one step further, in turn
        for request in step_requests:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(request)
                parts = []
                while chunk := sock.recv(65536):
                    parts.append(chunk)
            answer = b"".join(parts)
            status = int(answer[9:12]) if answer.startswith(b"HTTP/1.") else 0
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200 and cosignature in answer:
                ok += 1
            else:
                failed += 1
    queue.put((ok, failed, statuses, time.process_time() - cpu))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pids(master: int) -> list[int]:
    """gunicorn's master and its workers (the processes whose parent is the master)."""
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _database_pids(sqlite: bool) -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (none on SQLite)."""
    if sqlite:
        return []
    query = "SELECT pid FROM pg_stat_activity WHERE datname = 'restu_bench_witness' AND pid <> pg_backend_pid()"
    found = subprocess.run(
        ["psql", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-Atc", query],
        capture_output=True,
        text=True,
        check=False,
    )
    return [int(pid) for pid in found.stdout.split()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="restu-bench-witness-"))
    keys = [Ed25519PrivateKey.generate() for _ in range(args.logs)]
    origins = [f"bench{i}.example/log" for i in range(args.logs)]
    (work / "witnessed").write_text("".join(_vkey(o, k) + "\n" for o, k in zip(origins, keys, strict=True)))
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "REGISTRY_DATA_DIR": str(work),
        "CELERY_BROKER_URL": "filesystem://",
        "REGISTRY_WITNESSED_LOGS": str(work / "witnessed"),
    }
    env.pop("CACHE_URL", None)
    if args.sqlite:
        env.pop("DATABASE_URL", None)
        database = "sqlite"
    else:
        database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
        subprocess.run(
            ["dropdb", "-h", "/var/run/postgresql", "-U", "postgres", "--if-exists", "restu_bench_witness"], check=False
        )
        subprocess.run(["createdb", "-h", "/var/run/postgresql", "-U", "postgres", "restu_bench_witness"], check=True)
        env["DATABASE_URL"] = database
    python = sys.executable
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    sys.stderr.write("preparing checkpoint chains...\n")
    chains = [_chain(o, k, args.steps) for o, k in zip(origins, keys, strict=True)]
    port = _free_port()
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "registry.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/api/v1/witness/key")  # also creates the witness key
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        shares = [chains[i :: args.clients] for i in range(args.clients)]
        processes = [multiprocessing.Process(target=_client, args=(port, share, queue)) for share in shares]
        # Warm both workers and their database connections, so the CPU counted is the run's.
        for _ in range(4 * args.workers):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/api/v1/witness/add-checkpoint", body=b"old 0\n\nnot a checkpoint\n")
            connection.getresponse().read()
            connection.close()
        watched = _server_pids(server.pid) + _database_pids(args.sqlite)
        cpu_before = {pid: _cpu_seconds(pid) for pid in watched}
        started = time.perf_counter()
        for process in processes:
            process.start()
        results = [queue.get() for _ in processes]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
        server_cpu = sum(_cpu_seconds(pid) - cpu_before[pid] for pid in _server_pids(server.pid) if pid in cpu_before)
        database_cpu = sum(_cpu_seconds(pid) - cpu_before.get(pid, 0.0) for pid in _database_pids(args.sqlite))
    finally:
        server.terminate()
        server.wait(timeout=20)
    ok = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    statuses: dict[str, int] = {}
    client_cpu = sum(r[3] for r in results)
    for _, _, counts, _ in results:
        for status, count in counts.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    figures = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "sqlite" if args.sqlite else "postgresql",
        "workers": args.workers,
        "clients": args.clients,
        "logs": args.logs,
        "steps": args.steps,
        "cosigned": ok,
        "failed": failed,
        "statuses": statuses,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(ok / elapsed, 1),
        # CPU per answer, which the machine's other load does not inflate as it does the rate:
        # the gunicorn workers, the PostgreSQL backends, and the load-generating clients.
        "cpu_ms_per_request": {
            "server": round(1000 * server_cpu / max(ok, 1), 3),
            "database": round(1000 * database_cpu / max(ok, 1), 3),
            "clients": round(1000 * client_cpu / max(ok, 1), 3),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"witness-{figures['database']}-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
