"""The registry's own signing keys: one purpose each (receipts, log checkpoints, witness
cosignatures), rotated, never reused.

The key file (``REGISTRY_SIGNING_KEY_FILE``) is JSON holding private JWKs with their purpose and
validity. On the embedded default it is generated into the data folder on first use; in
production a missing file is a start-up error, never a silent new key.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from registry.lib.signing import (
    generate_private_key,
    jwk_thumbprint,
    private_key_from_jwk,
    private_key_to_jwk,
    public_jwk,
)

RECEIPT = "receipt"
CHECKPOINT = "checkpoint"
WITNESS = "witness"
# Every key file has an active key for each of these from the start.
PURPOSES = (RECEIPT, CHECKPOINT)
# The witness cosigning key (C2SP tlog-cosignature, type 0x04) is added to a key file the first
# time the registry acts as a witness (``witness_key``), and rotated like the others.
ROTATABLE = (*PURPOSES, WITNESS)
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class RegistryKey:
    """One of the registry's keys: what it signs, and when it was (or is) in service."""

    kid: str
    purpose: str
    private_key: Ed25519PrivateKey
    created: datetime
    retired: datetime | None

    @property
    def active(self) -> bool:
        return self.retired is None

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = {**public_jwk(self.private_key, kid=self.kid), "use": "sig", "alg": "Ed25519"}
        jwk["restu_purpose"] = self.purpose
        jwk["restu_valid_from"] = _iso(self.created)
        jwk["restu_valid_until"] = _iso(self.retired) if self.retired else None
        return jwk


@dataclass(frozen=True)
class KeyRing:
    """Every key the registry ever used; exactly one active key per purpose."""

    keys: tuple[RegistryKey, ...]

    def active(self, purpose: str) -> RegistryKey:
        for key in self.keys:
            if key.purpose == purpose and key.active:
                return key
        raise ImproperlyConfigured(f"The registry key file has no active {purpose} key.")

    def by_purpose(self, purpose: str) -> list[RegistryKey]:
        return [key for key in self.keys if key.purpose == purpose]

    def jwks(self, purpose: str | None = RECEIPT) -> dict[str, list[dict[str, Any]]]:
        """The public JWKS (retired keys included, marked by their validity period)."""
        return {"keys": [key.public_jwk() for key in self.keys if purpose is None or key.purpose == purpose]}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _new_entry(purpose: str) -> dict[str, Any]:
    key = generate_private_key()
    kid = jwk_thumbprint(public_jwk(key))
    return {
        "kid": kid,
        "purpose": purpose,
        "jwk": private_key_to_jwk(key, kid=kid),
        "created": _iso(datetime.now(UTC)),
        "retired": None,
    }


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"Cannot read the registry key file {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION or not isinstance(data.get("keys"), list):
        raise ImproperlyConfigured(f"{path} is not a Restu registry key file (version {_FORMAT_VERSION}).")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    # Write beside the target and rename, so a crash never leaves a half-written key file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse(data: dict[str, Any]) -> KeyRing:
    keys = []
    for entry in data["keys"]:
        private = private_key_from_jwk(entry["jwk"])
        if jwk_thumbprint(public_jwk(private)) != entry["kid"]:
            raise ImproperlyConfigured(f"Registry key {entry['kid']} does not match its thumbprint.")
        created = _parse_time(entry["created"])
        assert created is not None
        keys.append(RegistryKey(entry["kid"], entry["purpose"], private, created, _parse_time(entry.get("retired"))))
    ring = KeyRing(tuple(keys))
    for purpose in PURPOSES:
        ring.active(purpose)
    return ring


_lock = threading.RLock()
_cache: dict[tuple[str, int, int, int], KeyRing] = {}


def key_file_create(path: Path) -> KeyRing:
    """Create a key file with one fresh key per purpose (refuses to overwrite one)."""
    if path.exists():
        raise ImproperlyConfigured(f"{path} exists already; rotate keys instead of creating a new file.")
    data = {"version": _FORMAT_VERSION, "keys": [_new_entry(purpose) for purpose in PURPOSES]}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # fails if another process created it first: theirs wins
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return _parse(_read(path))


def keyring() -> KeyRing:
    """The current key ring, re-read whenever the file changes (after a rotation)."""
    path: Path = settings.REGISTRY_SIGNING_KEY_FILE
    if not path.exists():
        if not settings.REGISTRY_SIGNING_KEY_GENERATE:
            raise ImproperlyConfigured(
                f"REGISTRY_SIGNING_KEY_FILE points at {path}, which does not exist. Create it with "
                "`manage.py registry_keys init` and keep it safe."
            )
        with _lock:
            if not path.exists():
                return key_file_create(path)
    # The inode and size as well as the time: a rotation replaces the file (new inode), and file
    # times are only as fine as the kernel's clock tick, so mtime alone can miss a quick rotation.
    info = path.stat()
    stamp = (str(path), info.st_mtime_ns, info.st_ino, info.st_size)
    ring = _cache.get(stamp)
    if ring is None:
        with _lock:
            ring = _parse(_read(path))
            _cache.clear()
            _cache[stamp] = ring
    return ring


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialize rotations across processes: two at once would each drop the other's new key."""
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def key_rotate(
    purpose: str, *, before_write: Callable[[list[RegistryKey], RegistryKey], None] | None = None
) -> RegistryKey:
    """Retire the active key for ``purpose`` and make a new one active; old kids stay listed.

    ``before_write(retired, new)`` runs after the new key ring is computed and before the file is
    replaced: the caller logs the rotation there, inside its transaction, so that a failure to log
    leaves the file (and the active key) as it was.
    """
    if purpose not in ROTATABLE:
        raise ValueError(f"purpose must be one of {', '.join(ROTATABLE)}")
    path: Path = settings.REGISTRY_SIGNING_KEY_FILE
    keyring()  # creates the file on the embedded default
    with _lock, _file_lock(path):
        data = _read(path)
        now = _iso(datetime.now(UTC))
        retired_kids = []
        for entry in data["keys"]:
            if entry["purpose"] == purpose and not entry.get("retired"):
                entry["retired"] = now
                retired_kids.append(entry["kid"])
        entry = _new_entry(purpose)
        used = {existing["kid"] for existing in data["keys"]}
        while entry["kid"] in used:  # astronomically unlikely, but a kid is never reused
            entry = _new_entry(purpose)
        data["keys"].append(entry)
        pending = _parse(data)
        if before_write is not None:
            before_write([key for key in pending.keys if key.kid in retired_kids], pending.active(purpose))
        _write(path, data)
        _cache.clear()
    return keyring().active(purpose)


def key_ensure(purpose: str) -> RegistryKey:
    """The active key for ``purpose``, adding one to the key file if it has none yet.

    For the purposes a key file did not always have (the witness key): an existing file gains
    the key the first time it is needed, under the same lock as a rotation.
    """
    if purpose not in ROTATABLE:
        raise ValueError(f"purpose must be one of {', '.join(ROTATABLE)}")
    ring = keyring()
    if any(key.purpose == purpose and key.active for key in ring.keys):
        return ring.active(purpose)
    path: Path = settings.REGISTRY_SIGNING_KEY_FILE
    with _lock, _file_lock(path):
        data = _read(path)
        if not any(entry["purpose"] == purpose and not entry.get("retired") for entry in data["keys"]):
            entry = _new_entry(purpose)
            used = {existing["kid"] for existing in data["keys"]}
            while entry["kid"] in used:
                entry = _new_entry(purpose)
            data["keys"].append(entry)
            _parse(data)
            try:
                _write(path, data)
            except OSError as exc:
                raise ImproperlyConfigured(
                    f"The registry key file {path} has no {purpose} key and cannot be written: {exc}"
                ) from exc
            _cache.clear()
    return keyring().active(purpose)


def witness_key() -> RegistryKey:
    """The registry's active witness cosigning key (created on first use)."""
    return key_ensure(WITNESS)
