"""The witness policy and the witnessed-log list, read from the files the settings name.

Read on use (never at import time) and re-read when a file changes, so an operator can edit the
policy without a restart.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from registry.lib.note import SIG_ED25519, NoteError, Policy, Verifier, parse_policy, parse_vkey

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[tuple[int, int, int], object]] = {}


def _stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return (info.st_mtime_ns, info.st_ino, info.st_size)


def _load(kind: str, name: str | None, parse: object) -> object | None:
    if not name:
        return None
    path = Path(name)
    try:
        stamp = _stamp(path)
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read the {kind} file {path}: {exc}") from exc
    cached = _cache.get((kind, str(path)))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ImproperlyConfigured(f"Cannot read the {kind} file {path}: {exc}") from exc
        try:
            assert callable(parse)
            value: object = parse(text)
        except NoteError as exc:
            raise ImproperlyConfigured(f"{path} is not a valid {kind} file: {exc.reason}") from exc
        _cache[(kind, str(path))] = (stamp, value)
        return value


def witness_policy() -> Policy | None:
    """The policy (REGISTRY_WITNESS_POLICY), or None when witnessing is off."""
    value = _load("witness policy", settings.REGISTRY_WITNESS_POLICY, parse_policy)
    assert value is None or isinstance(value, Policy)
    return value


def parse_witnessed_logs(text: str) -> dict[str, list[Verifier]]:
    """One log vkey (type 0x01) a line, its name being the log's origin; ``#`` starts a comment."""
    logs: dict[str, list[Verifier]] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        try:
            verifier = parse_vkey(line.split()[0], types=(SIG_ED25519,))
        except NoteError as exc:
            raise NoteError(f"line {number}: {exc.reason}") from exc
        logs.setdefault(verifier.name, []).append(verifier)
    return logs


def witnessed_logs() -> dict[str, list[Verifier]]:
    """Origin → the log keys this registry trusts for it (REGISTRY_WITNESSED_LOGS); {} if none."""
    value = _load("witnessed logs", settings.REGISTRY_WITNESSED_LOGS, parse_witnessed_logs)
    assert value is None or isinstance(value, dict)
    return value or {}


def witness_name() -> str:
    return str(settings.REGISTRY_WITNESS_NAME)
