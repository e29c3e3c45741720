"""Reads of witnessing state: the checkpoint to serve, the witnesses' state, alerts, tlog proofs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from registry.lib.note import TlogProof
from registry.transparency.models import Checkpoint, LogEntry
from registry.transparency.selectors import proof_inclusion
from registry.witness.config import witness_policy
from registry.witness.models import Witness, WitnessedCheckpoint


def witnessing_enabled() -> bool:
    return witness_policy() is not None


def newest_witnessed() -> WitnessedCheckpoint | None:
    return WitnessedCheckpoint.objects.order_by("-size").first()


def witnesses_state() -> list[dict[str, Any]]:
    """Each witness of the policy: its key, URL, last cosigned size and time, last error."""
    policy = witness_policy()
    if policy is None:
        return []
    rows = {row.name: row for row in Witness.objects.filter(name__in=list(policy.witnesses))}
    answer = []
    for name, witness in policy.witnesses.items():
        row = rows.get(name)
        answer.append(
            {
                "name": name,
                "vkey": witness.verifier.vkey,
                "url": witness.url,
                "cosigned_size": row.cosigned_size if row else None,
                "cosigned_at": row.cosigned_at if row else None,
                "last_error": (row.last_error or None) if row else None,
                "last_error_at": row.last_error_at if row else None,
                "failing": bool(row and row.failures),
            }
        )
    return answer


def witness_alerts() -> list[str]:
    """Problems an operator must see on /health: the quorum unmet for too long."""
    if witness_policy() is None:
        return []
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is None:
        return []
    witnessed = newest_witnessed()
    if witnessed is not None and witnessed.size >= latest.size:
        return []
    # The oldest checkpoint that is newer than the newest witnessed one has waited the longest.
    waiting = Checkpoint.objects.filter(size__gt=witnessed.size if witnessed else -1).order_by("size").first()
    assert waiting is not None
    if timezone.now() - waiting.created > timedelta(seconds=settings.REGISTRY_WITNESS_ALERT_AFTER):
        return [f"witness quorum not met since checkpoint {waiting.size} ({waiting.created:%Y-%m-%dT%H:%M:%SZ})"]
    return []


def proof_checkpoint() -> tuple[int, str] | None:
    """The checkpoint proofs are made against: newest witnessed (with a policy), else newest signed."""
    if witness_policy() is not None:
        witnessed = newest_witnessed()
        return (witnessed.size, witnessed.note) if witnessed else None
    latest = Checkpoint.objects.order_by("-size").first()
    return (latest.size, latest.note) if latest else None


def tlog_proof(index: int) -> TlogProof | None:
    """C2SP tlog-proof of leaf ``index`` (its canonical bytes in ``extra``); None if not covered."""
    against = proof_checkpoint()
    if against is None or index < 0 or index >= against[0]:
        return None
    entry = LogEntry.objects.filter(index=index).first()
    if entry is None:
        return None
    inclusion = proof_inclusion(index=index, tree_size=against[0])
    return TlogProof(index=index, proof=tuple(inclusion.audit_path), checkpoint=against[1], extra=bytes(entry.leaf))


def log_proof_for(ref: str, type: str = "consent.signed") -> str | None:
    """The tlog-proof text for the leaf of ``type`` about ``ref`` (e.g. a consent's consent.signed)."""
    entry = LogEntry.objects.filter(ref=ref, type=type).order_by("index").first()
    if entry is None:
        return None
    proof = tlog_proof(entry.index)
    return proof.format() if proof else None
