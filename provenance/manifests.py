"""Reading a file's C2PA manifest store with c2pa-python (c2pa-rs), offline, with our trust anchors."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import c2pa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

# Ingredients can nest; a store naming thousands of manifests is refused rather than walked.
MAX_MANIFESTS = 64

_context_lock = threading.Lock()
_context_cache: dict[tuple[str, float], Any] = {}


@dataclass(frozen=True)
class ManifestRead:
    """What c2pa-rs made of a file: its manifests (active first, then ingredients') and validation."""

    present: bool
    validation_state: str | None = None
    signer: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    unreadable: str | None = None


def trust_anchors_pem() -> str:
    """The PEM text of ``REGISTRY_C2PA_TRUST_ANCHORS`` ('' when none is configured)."""
    path = settings.REGISTRY_C2PA_TRUST_ANCHORS
    if not path:
        return ""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read()
    except (OSError, UnicodeError) as exc:
        raise ImproperlyConfigured(f"REGISTRY_C2PA_TRUST_ANCHORS: cannot read {path}: {exc}") from exc
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ImproperlyConfigured(f"REGISTRY_C2PA_TRUST_ANCHORS: {path} holds no PEM certificate")
    return text


def _settings() -> dict[str, Any]:
    # Never fetch anything on a stranger's behalf: no remote manifests, no OCSP (no SSRF, no waits).
    config: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    anchors = trust_anchors_pem()
    if anchors:
        config["trust"] = {"trust_anchors": anchors}
    return config


def reader_context() -> Any:
    """One c2pa Context per anchors file version: building it parses every anchor certificate."""
    path = settings.REGISTRY_C2PA_TRUST_ANCHORS or ""
    try:
        stamp = os.stat(path).st_mtime if path else 0.0
    except OSError:
        stamp = -1.0
    with _context_lock:
        context = _context_cache.get((path, stamp))
        if context is None:
            context = c2pa.Context.from_dict(_settings())
            _context_cache.clear()
            _context_cache[(path, stamp)] = context
        return context


def _chain(store: dict[str, Any]) -> list[dict[str, Any]]:
    """The active manifest, then every manifest its ingredients lead to, breadth first, once each."""
    manifests = store.get("manifests")
    active = store.get("active_manifest")
    if not isinstance(manifests, dict) or active not in manifests:
        return []
    order: list[dict[str, Any]] = []
    seen, queue = {active}, [active]
    while queue and len(order) < MAX_MANIFESTS:
        label = queue.pop(0)
        manifest = manifests[label]
        if not isinstance(manifest, dict):
            continue
        order.append(manifest)
        for ingredient in manifest.get("ingredients") or []:
            child = ingredient.get("active_manifest") if isinstance(ingredient, dict) else None
            if isinstance(child, str) and child in manifests and child not in seen:
                seen.add(child)
                queue.append(child)
    return order


def _errors(results: Any) -> list[str]:
    if not isinstance(results, dict):
        return []
    codes = []
    active = results.get("activeManifest") or {}
    for item in active.get("failure") or []:
        codes.append(str(item.get("code")))
    for delta in results.get("ingredientDeltas") or []:
        for item in (delta.get("validationDeltas") or {}).get("failure") or []:
            codes.append(f"ingredient:{item.get('code')}")
    return codes


def _signer(manifest: dict[str, Any], state: str | None) -> dict[str, Any] | None:
    info = manifest.get("signature_info")
    if not isinstance(info, dict):
        return None
    return {
        "common_name": info.get("common_name"),
        "issuer": info.get("issuer"),
        "alg": info.get("alg"),
        "time": info.get("time"),
        "trusted": state == "Trusted",
    }


def manifest_read(path: str) -> ManifestRead:
    """Read the file at ``path``; a file c2pa-rs cannot parse is ``unreadable``, never an exception."""
    try:
        context = reader_context()
        with open(path, "rb") as stream, c2pa.Reader(None, stream, context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return ManifestRead(present=False)
    except c2pa.C2paError.NotSupported:
        return ManifestRead(present=False, unreadable="not a media file c2pa-rs can read")
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # c2pa-rs refuses broken files with many error kinds; none is our fault
        logger.info("C2PA read failed: %s", exc)
        return ManifestRead(present=False, unreadable=_short(exc))
    manifests = _chain(store)
    if not manifests:
        return ManifestRead(present=False, unreadable="the manifest store names no active manifest")
    state = store.get("validation_state")
    return ManifestRead(
        present=True,
        validation_state=state if isinstance(state, str) else None,
        signer=_signer(manifests[0], state),
        errors=_errors(store.get("validation_results")),
        manifests=manifests,
    )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
