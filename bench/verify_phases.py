"""Where a bulk verification's time goes: phase by phase, in-process, on the seeded bench database.

    .venv/bin/python bench/verify_phases.py [--requests 30] [--size 1000]

Runs after ``bench/verify.py seed`` (same database, same settings). Each request is a fresh batch of
random subjects, as ``bench/verify.py``'s bulk run sends them, answered through the real view in the
Django test client; the service's phases are timed by wrapping the module's own functions, so what
is timed is exactly the code that serves requests. Requests run in autocommit, as in production: the
access-log insert's time includes its commit and foreign-key checks. Prints the median and p90 of each phase, and of
the whole request, to stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import verify  # the bench's own settings and seed helpers


def _timed(totals: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - start

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--tag", default="", help="suffix of the result files (verify-phases-<date>[-tag])")
    args = parser.parse_args()

    verify.setup_django()
    from django.test import Client

    from consent import verification

    totals: dict[str, float] = defaultdict(float)
    for name in ("_cited", "_bulk_document", "_log_access", "verification_decide_bulk"):
        setattr(verification, name, _timed(totals, name, getattr(verification, name)))

    token = verify.api_key()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    samples: dict[str, list[float]] = defaultdict(list)
    for i in range(args.requests + 2):
        body = json.dumps({"queries": verify.make_bodies(args.subjects, args.size, seed=9000 + i)})
        totals.clear()
        start = time.perf_counter()
        response = client.post("/api/v1/verifications/bulk", body, content_type="application/json")
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"bulk answered {response.status_code}: {response.content[:300]!r}")
        if i < 2:  # warm-ups
            continue
        phases = {
            "misses query + decisions": totals["verification_decide_bulk"] - totals["_cited"],
            "cited consents query": totals["_cited"],
            "document + receipt": totals["_bulk_document"],
            "access-log insert": totals["_log_access"],
        }
        phases["rest (auth, throttle, parsing, validation)"] = elapsed - sum(phases.values())
        phases["whole request"] = elapsed
        for name, seconds in phases.items():
            samples[name].append(seconds * 1000)
        verify.log(f"request {i - 1}/{args.requests}: {elapsed * 1000:.1f} ms")
    summary = {}
    print(f"{'phase':45} {'p50 ms':>8} {'p90 ms':>8}")
    for name, values in samples.items():
        values.sort()
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        summary[name] = {"p50_ms": round(statistics.median(values), 2), "p90_ms": round(p90, 2)}
        print(f"{name:45} {statistics.median(values):8.1f} {p90:8.1f}")
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    stem = verify.RESULTS / f"verify-phases-{stamp}{'-' + args.tag if args.tag else ''}"
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "requests": args.requests,
              "queries_per_request": args.size, "phases": summary}  # fmt: skip
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    stem.with_suffix(".svg").write_text(chart(result))
    verify.log(f"wrote {stem}.json and .svg")


def chart(result: dict[str, Any]) -> str:
    """A dependency-free horizontal bar chart of each phase's median."""
    phases = [(name, value["p50_ms"]) for name, value in result["phases"].items() if name != "whole request"]
    whole = result["phases"]["whole request"]["p50_ms"]
    left, scale, row = 300, 500 / max(whole, 1), 24
    height = 60 + row * (len(phases) + 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + 600}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<text x="10" y="20" font-size="14">A bulk request of {result["queries_per_request"]:,} checks, median ms '
        f"per phase (in-process, {result['date']})</text>",
    ]
    for i, (name, value) in enumerate([*phases, ("whole request", whole)]):
        y = 40 + i * row
        colour = "#fc8d62" if name == "whole request" else "#8da0cb"
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" height="18" fill="{colour}"/>')
        parts.append(f'<text x="{left + value * scale + 6:.1f}" y="{y + 14}">{value:.1f}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
