"""Reads of witnessing state: the checkpoint to serve, the witnesses' state, alerts, tlog proofs."""

from __future__ import annotations

import base64
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from registry.lib.merkle import inclusion_proof
from registry.lib.note import TLOG_PROOF_HEADER, TlogProof, parse_note
from registry.lib.prepared import Statement
from registry.transparency.models import Checkpoint, LogEntry, LogNode, LogState
from registry.transparency.selectors import proof_inclusion
from registry.transparency.services import TreeHead, tree_head_of
from registry.transparency.tree import LoadedHashes, hashes_wanted
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


# --- Many proofs at once, for answers ------------------------------------------------------------
# A proof's text before its checkpoint (header, extra, index, hashes) depends only on the leaf index
# and the tree (the log is append-only), so it is kept per process: a studio asking about the same
# people again pays nothing, and a new witnessed size only costs each leaf one more read. The tree is
# named by its checkpoint's text (origin, size, root), not its size alone, so a log rebuilt from
# scratch (a test database, a restore) never gets another tree's proofs.
_BODY_CACHE_SIZE = 20_000  # ~1 KB each: at most ~20 MB per process
_bodies: OrderedDict[tuple[int, str], str] = OrderedDict()
_bodies_lock = threading.Lock()


def _proof_sql(*, postgres: bool) -> str:
    """The leaves and the stored nodes of many proofs in ONE query, each side probing its primary
    key once per wanted row; leaves come back as rows of level -1. Two parameters whatever the count
    (no limit on bound variables to hit): the leaf indices and the (level, index) pairs as JSON."""
    node, entry = connection.ops.quote_name(LogNode._meta.db_table), connection.ops.quote_name(LogEntry._meta.db_table)
    if postgres:
        leaves = "SELECT value::bigint FROM jsonb_array_elements_text(%s::jsonb)"
        nodes = "SELECT (value->>0)::int AS l, (value->>1)::bigint AS i FROM jsonb_array_elements(%s::jsonb)"
    else:
        leaves = "SELECT value FROM json_each(%s)"
        nodes = "SELECT json_extract(value, '$[0]') AS l, json_extract(value, '$[1]') AS i FROM json_each(%s)"
    return (
        f'SELECT -1, e."index", e.leaf FROM {entry} e WHERE e."index" IN ({leaves}) '  # noqa: S608 — quoted model tables
        f'UNION ALL SELECT n.level, n."index", n.hash FROM ({nodes}) w '
        f'JOIN {node} n ON n.level = w.l AND n."index" = w.i'
    )


def _bodies_for(indices: list[int], size: int, tree: str) -> dict[int, str]:
    """The proof text before the checkpoint of each leaf (all below ``size``) in the tree whose
    checkpoint text is ``tree``: one query for the ones not cached, none when all are."""
    found: dict[int, str] = {}
    missing = []
    with _bodies_lock:
        for index in indices:
            body = _bodies.get((index, tree))
            if body is None:
                missing.append(index)
            else:
                _bodies.move_to_end((index, tree))
                found[index] = body
    if not missing:
        return found
    # Proof shapes depend on indices and sizes only: record every node the proofs read, read them
    # all together (proofs against one size share their upper nodes), then compute each proof.
    wanted = hashes_wanted(size, lambda source: [inclusion_proof(index, size, source) for index in missing])
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(_proof_sql(postgres=postgres), [json.dumps(missing), json.dumps(sorted(wanted))])
        rows = cursor.fetchall()
    leaves = {row[1]: bytes(row[2]) for row in rows if row[0] == -1}
    source = LoadedHashes(size, {(row[0], row[1]): bytes(row[2]) for row in rows if row[0] != -1})
    made = {}
    for index in missing:
        leaf = leaves.get(index)
        if leaf is None:  # only a raw deletion gets here: no proof rather than a wrong one
            continue
        lines = [TLOG_PROOF_HEADER, "extra " + base64.b64encode(leaf).decode("ascii"), f"index {index}"]
        try:
            path = inclusion_proof(index, size, source)
        except LookupError:
            continue
        lines += [base64.b64encode(h).decode("ascii") for h in path]
        made[index] = "\n".join(lines)
    with _bodies_lock:
        for index, body in made.items():
            _bodies[(index, tree)] = body
        while len(_bodies) > _BODY_CACHE_SIZE:
            _bodies.popitem(last=False)
    return found | made


def _proof_checkpoint_row() -> tuple[int, str] | None:
    """``proof_checkpoint()`` as one plain statement: on the verification hot path the ORM's
    query building cost more than the database spends answering it."""
    model = WitnessedCheckpoint if witness_policy() is not None else Checkpoint
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT size, note FROM {table} ORDER BY size DESC LIMIT 1")  # noqa: S608 — the model's table
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else None


@dataclass(frozen=True)
class LogPosition:
    """Where the log stands for one answer: the committed tree head its receipt cites, and the
    checkpoint its log proofs are made against (None before the first one)."""

    head: TreeHead
    checkpoint: tuple[int, str] | None


def log_position() -> LogPosition:
    """``tree_head()`` and the proof checkpoint in ONE statement (both tables read in the same
    snapshot): a single verification needs both, and each round trip to the database costs more
    than reading either row."""
    statement = _LOG_POSITION[witness_policy() is not None]
    with connection.cursor() as cursor:
        statement.execute(cursor, [1, 1])
        size, frontier, checkpoint_size, note = cursor.fetchone()
    checkpoint = (int(checkpoint_size), str(note)) if checkpoint_size is not None else None
    return LogPosition(tree_head_of(size, frontier), checkpoint)


def _log_position_sql(model: type[Checkpoint] | type[WitnessedCheckpoint]) -> str:
    quote = connection.ops.quote_name
    state, checkpoints = quote(LogState._meta.db_table), quote(model._meta.db_table)
    return (
        f"SELECT (SELECT size FROM {state} WHERE id = %s), (SELECT frontier FROM {state} WHERE id = %s), "  # noqa: S608 — the models' tables
        f"c.size, c.note FROM (SELECT 1 AS one) o "
        f"LEFT JOIN (SELECT size, note FROM {checkpoints} ORDER BY size DESC LIMIT 1) c ON o.one = 1"
    )


# By whether a witness policy is set: the proofs are then against the witnessed checkpoints.
_LOG_POSITION = {
    witnessed: Statement(f"log_position_{'witnessed' if witnessed else 'own'}", _log_position_sql(model))
    for witnessed, model in ((True, WitnessedCheckpoint), (False, Checkpoint))
}


def log_proofs(indices: Iterable[int | None], position: LogPosition | None = None) -> dict[int, str]:
    """The tlog-proof text of each leaf index the proof checkpoint covers (others are left out).

    The same bytes as ``tlog_proof(index).format()``, for many leaves at once: one query for the
    checkpoint (always, whatever the indices, so an answer citing no consent costs the same as one
    citing a consent the caller cannot see), and one more for the leaves and nodes of the proofs
    not already made for this checkpoint's size. ``position``: the checkpoint as ``log_position()``
    read it for this answer (no query for it then).
    """
    against = position.checkpoint if position is not None else _proof_checkpoint_row()
    if against is None:
        return {}
    size, note = against
    wanted = sorted({index for index in indices if index is not None and 0 <= index < size})
    if not wanted:
        return {}
    tree = parse_note(note).text  # as format_tlog_proof does: never hand out a broken checkpoint
    return {index: body + "\n\n" + note for index, body in _bodies_for(wanted, size, tree).items()}
