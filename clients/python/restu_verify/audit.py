"""Audit a Restu transparency log from the outside: every leaf, the root, the signature, history.

1. Get the log's verifier key (pinned with ``--key``, or fetched and then pinned in the state
   file so that a later key change is caught).
2. Get the signed checkpoint and verify it (with ``--policy``: its witness cosignatures too,
   which must meet the policy's quorum).
3. Download every entry, recompute each leaf hash from the RFC 8785 bytes of its ``leaf``,
   and rebuild the root; it must equal the checkpoint's.
4. If an earlier audit left a state file, the new tree must extend the old one: the rebuilt
   root at the old size must equal the old root, and the log's consistency proof must verify.
5. Save the new checkpoint as the state for next time.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from restu_verify._common import VerificationError, b64_decode
from restu_verify.checkpoint import Checkpoint, parse_verifier_key, verify_checkpoint
from restu_verify.jcs import canonical_json
from restu_verify.merkle import EMPTY_ROOT, RootBuilder, leaf_hash, verify_consistency
from restu_verify.witness import Policy, verify_cosigned_checkpoint

USER_AGENT = "restu-verify/0.1.0"
MAX_RESPONSE = 64 * 1024 * 1024


class FetchError(Exception):
    """The log could not be reached, or answered with an HTTP error or something not JSON."""


@dataclass(frozen=True)
class AuditResult:
    """What an audit established."""

    origin: str
    size: int
    root: bytes
    previous_size: int | None
    cosigned_by: dict[str, int] | None = None


def fetch(url: str, *, timeout: float = 30.0) -> bytes:
    """GET ``url`` (http or https only) and return the body."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            body: bytes = response.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"{url}: {exc}") from exc
    if len(body) > MAX_RESPONSE:
        raise FetchError(f"{url}: response too large")
    return body


def fetch_json(url: str) -> Any:
    """GET ``url`` and parse JSON."""
    try:
        return json.loads(fetch(url))
    except ValueError as exc:
        raise FetchError(f"{url}: response is not JSON") from exc


def load_state(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when the file does not exist yet."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise VerificationError(f"state file {path} is not valid JSON") from exc
    if not isinstance(state, dict) or not isinstance(state.get("size"), int) or not isinstance(state.get("key"), str):
        raise VerificationError(f"state file {path} is malformed")
    try:
        state["root_bytes"] = b64_decode(state.get("root"))
    except ValueError as exc:
        raise VerificationError(f"state file {path} has a malformed root") from exc
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the state atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class _Progress:
    def __init__(self, stream: IO[str] | None, total: int) -> None:
        self.stream = stream
        self.total = total
        self.tty = bool(stream and stream.isatty())

    def update(self, done: int) -> None:
        if self.stream is None:
            return
        end = "\r" if self.tty and done < self.total else "\n"
        self.stream.write(f"restu-verify: {done}/{self.total} entries verified{end}")
        self.stream.flush()


def audit(
    base_url: str,
    *,
    key: str | None = None,
    key_url: str | None = None,
    state_path: Path | None = None,
    page_size: int = 1000,
    progress: IO[str] | None = None,
    get_json: Callable[[str], Any] = fetch_json,
    get_text: Callable[[str], bytes] = fetch,
    policy: Policy | None = None,
) -> AuditResult:
    """Run the audit described in this module's docstring; VerificationError if anything is off."""
    base = base_url.rstrip("/")
    api = f"{base}/api/v1/log"
    state = load_state(state_path) if state_path else None

    if key is None:
        key = get_text(key_url or f"{api}/key").decode("utf-8").strip()
        if progress and state is None:
            progress.write("restu-verify: using the log key served by the log itself; pin it with --key\n")
    if state is not None and state["key"] != key:
        raise VerificationError("the log key differs from the one recorded in the state file")
    parse_verifier_key(key)

    note = get_text(f"{api}/checkpoint").decode("utf-8")
    checkpoint = verify_checkpoint(note, key)
    cosigned_by = verify_cosigned_checkpoint(note, key, policy).cosigned_by if policy is not None else None
    old_size: int | None = None
    if state is not None:
        old_size = state["size"]
        if state.get("origin") != checkpoint.origin:
            raise VerificationError("the log's origin differs from the one recorded in the state file")
        if checkpoint.size < old_size:
            raise VerificationError(f"the log shrank from {old_size} to {checkpoint.size} entries")
        if old_size == 0 and state["root_bytes"] != EMPTY_ROOT:
            raise VerificationError("the state file's root for an empty log is wrong")

    builder = _rebuild(api, checkpoint, state, page_size, progress, get_json)
    if builder.root() != checkpoint.root:
        raise VerificationError("the entries do not add up to the checkpoint's root hash")

    if state is not None and old_size is not None and 0 < old_size < checkpoint.size:
        _check_consistency(api, old_size, state["root_bytes"], checkpoint, get_json)

    if state_path is not None:
        save_state(
            state_path,
            {
                "log": base,
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "root": _b64(checkpoint.root),
                "key": key,
                "checkpoint": note,
                "audited_at": _utc_now(),
            },
        )
    return AuditResult(checkpoint.origin, checkpoint.size, checkpoint.root, old_size, cosigned_by)


def _utc_now() -> str:
    # datetime.UTC would need Python 3.11; this client supports 3.10.
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: UP017


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _rebuild(
    api: str,
    checkpoint: Checkpoint,
    state: dict[str, Any] | None,
    page_size: int,
    progress: IO[str] | None,
    get_json: Callable[[str], Any],
) -> RootBuilder:
    builder = RootBuilder()
    meter = _Progress(progress if checkpoint.size > page_size else None, checkpoint.size)
    while builder.size < checkpoint.size:
        start = builder.size
        end = min(start + page_size, checkpoint.size)
        page = get_json(f"{api}/entries?start={start}&end={end}")
        entries = page.get("entries") if isinstance(page, dict) else None
        if not isinstance(entries, list):
            raise VerificationError(f"entries {start}..{end}: response has no entries list")
        for entry in entries:
            if builder.size >= checkpoint.size:
                break  # the log grew after the checkpoint; those entries are for next time
            _add_entry(builder, entry)
            if state is not None and builder.size == state["size"] and builder.root() != state["root_bytes"]:
                raise VerificationError(
                    f"history was rewritten: the first {state['size']} entries no longer give the recorded root"
                )
        if builder.size == start:
            raise VerificationError(f"entries {start}..{end}: the log returned none")
        meter.update(builder.size)
    return builder


def _add_entry(builder: RootBuilder, entry: object) -> None:
    index = builder.size
    if not isinstance(entry, dict) or entry.get("index") != index or "leaf" not in entry:
        raise VerificationError(f"entry {index}: missing, out of order or malformed")
    try:
        recomputed = leaf_hash(canonical_json(entry["leaf"]))
        served = b64_decode(entry.get("leaf_hash"))
    except ValueError as exc:
        raise VerificationError(f"entry {index}: {exc}") from exc
    if served != recomputed:
        raise VerificationError(f"entry {index}: leaf_hash does not match the leaf's canonical JSON")
    builder.add(recomputed)


def _check_consistency(
    api: str, old_size: int, old_root: bytes, checkpoint: Checkpoint, get_json: Callable[[str], Any]
) -> None:
    response = get_json(f"{api}/proof/consistency?first={old_size}&second={checkpoint.size}")
    if not isinstance(response, dict) or response.get("first") != old_size or response.get("second") != checkpoint.size:
        raise VerificationError("the consistency proof is for other tree sizes")
    raw = response.get("proof")
    if not isinstance(raw, list):
        raise VerificationError("the consistency proof is malformed")
    try:
        proof = [b64_decode(item) for item in raw]
    except ValueError as exc:
        raise VerificationError("the consistency proof is malformed") from exc
    if not verify_consistency(old_size, checkpoint.size, proof, old_root, checkpoint.root):
        raise VerificationError(f"the consistency proof from {old_size} to {checkpoint.size} entries does not verify")
