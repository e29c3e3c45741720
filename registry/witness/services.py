"""Witnessing, both sides of C2SP tlog-witness.

* Witness side (``add_checkpoint``): check a submitted checkpoint against the log keys of
  ``REGISTRY_WITNESSED_LOGS`` and the size this registry last cosigned for that origin, move the
  stored size with one conditional UPDATE (``WHERE size = <old>``), and cosign (tlog-cosignature
  v1, Ed25519, type 0x04) with the registry's witness key.
* Log side (``witness_round``): submit the newest checkpoint to every witness of the policy,
  store the cosignatures, and mark a checkpoint *witnessed* once the policy's quorum is met.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import struct
import time
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.utils import timezone

from registry import keys, outbound
from registry.lib.merkle import EMPTY_ROOT, verify_consistency
from registry.lib.note import (
    MAX_PROOF_HASHES,
    SIG_COSIGNATURE_V1,
    NoteError,
    Policy,
    Signature,
    Verifier,
    cosignature_message,
    cosignature_timestamp,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
    parse_vkey,
    verified_by,
)
from registry.transparency.models import Checkpoint
from registry.transparency.selectors import ProofRequestError, proof_consistency
from registry.witness.config import witness_name, witness_policy, witnessed_logs
from registry.witness.models import Cosignature, Witness, WitnessedCheckpoint, WitnessedLog

logger = logging.getLogger(__name__)

# A checkpoint note with a few signatures and 63 proof lines fits in well under this.
MAX_REQUEST_BYTES = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")
_SIZE_BODY = re.compile(rb"(0|[1-9][0-9]{0,18})\n")


# --- witness side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessAnswer:
    """What ``add-checkpoint`` answers: status, plain body and its content type."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def _refuse(status: int, why: str) -> WitnessAnswer:
    return WitnessAnswer(status, why + "\n")


def witness_verifier() -> Verifier:
    """This registry's witness cosigning key as a verifier (type 0x04, named REGISTRY_WITNESS_NAME)."""
    return Verifier.for_key(witness_name(), SIG_COSIGNATURE_V1, keys.witness_key().private_key)


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """``old N`` line, proof lines, blank line, checkpoint note; NoteError if malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("the request is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise NoteError("the request has no blank line before the checkpoint")
    lines = head.split("\n")
    match = _OLD_LINE.fullmatch(lines[0])
    if not match:
        raise NoteError("the first line is 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_HASHES:
        raise NoteError("more than 63 consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("a consistency proof line is not base64") from exc
        if len(digest) != 32 or base64.b64encode(digest).decode() != line:
            raise NoteError("a consistency proof line is not one base64 SHA-256 hash")
        proof.append(digest)
    return int(match.group(1)), proof, note


def add_checkpoint(body: bytes) -> WitnessAnswer:
    """The witness side of tlog-witness ``add-checkpoint``; nothing is stored unless it answers 200."""
    if len(body) > MAX_REQUEST_BYTES:
        return _refuse(413, "request too large")
    try:
        old, proof, note_text = _parse_request(body)
        note = parse_note(note_text)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as exc:
        return _refuse(400, exc.reason)
    trusted = witnessed_logs().get(checkpoint.origin)
    if not trusted:
        return _refuse(404, "unknown log origin")
    try:
        signers = verified_by(note, trusted)
    except NoteError:
        return _refuse(403, "a signature by a trusted log key does not verify")
    if not signers:
        return _refuse(403, "no signature by a trusted log key")
    if old > checkpoint.size:
        return _refuse(400, "old size is larger than the checkpoint size")
    # Read only: a refused request stores nothing, not even a row for a log never cosigned.
    state = _stored_state(checkpoint.origin)
    stored_size, stored_root = state or (0, EMPTY_ROOT)
    if old != stored_size:  # before the proof checks, as tlog-witness orders them
        return WitnessAnswer(409, f"{stored_size}\n", SIZE_CONTENT_TYPE)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        return _refuse(422, "a checkpoint of size 0 has the empty tree's root")
    if old == 0 and proof:
        return _refuse(422, "a proof from size 0 is empty")
    if old == checkpoint.size:
        if stored_root != checkpoint.root or proof:
            _log_misbehaviour(checkpoint.origin, old, checkpoint.size, note_text)
            return _refuse(422, "same size, different root")
    elif old > 0 and not verify_consistency(old, checkpoint.size, proof, stored_root, checkpoint.root):
        _log_misbehaviour(checkpoint.origin, old, checkpoint.size, note_text)
        return _refuse(422, "the consistency proof does not verify")
    cosignature = _cosigner().cosign(note.text, int(time.time()))
    # Keep the log's verified signatures and our cosignature: what a monitor may fetch.
    kept = [sig for sig in note.signatures if any(v.matches(sig) for v in signers)]
    stored_note = note.text + "\n" + "".join(sig.line for sig in [*kept, cosignature])
    if not _store(
        checkpoint.origin, old, stored_root, checkpoint.size, checkpoint.root, stored_note, first=state is None
    ):
        current = _stored_state(checkpoint.origin)
        return WitnessAnswer(409, f"{current[0] if current else 0}\n", SIZE_CONTENT_TYPE)
    return WitnessAnswer(200, cosignature.line)


# The witness's hot path speaks SQL through the connection's cursor rather than the ORM: one
# indexed read and one conditional write are all it needs, and building the ORM queries cost more
# CPU than the database spent answering them (bench/WITNESS.md).


@dataclass(frozen=True)
class _Statements:
    select: str
    insert: str
    update: str


_statements: dict[str, _Statements] = {}


def _sql() -> tuple[BaseDatabaseWrapper, _Statements]:
    connection = connections[router.db_for_write(WitnessedLog)]
    statements = _statements.get(connection.alias)
    if statements is not None:
        return connection, statements
    table = connection.ops.quote_name(WitnessedLog._meta.db_table)
    statements = _statements[connection.alias] = _Statements(
        select=f"SELECT size, root FROM {table} WHERE origin = %s",  # noqa: S608 - quoted model name, bound values
        insert=f"INSERT INTO {table} (origin, size, root, note, updated) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608 - quoted model name, bound values
        "ON CONFLICT (origin) DO NOTHING",
        update=f"UPDATE {table} SET size = %s, root = %s, note = %s, updated = %s "  # noqa: S608 - quoted model name, bound values
        "WHERE origin = %s AND size = %s AND root = %s",
    )
    return connection, statements


def _stored_state(origin: str) -> tuple[int, bytes] | None:
    """The size and root last cosigned for ``origin``; None if it was never cosigned."""
    connection, sql = _sql()
    with connection.cursor() as cursor:
        cursor.execute(sql.select, [origin])
        row = cursor.fetchone()
    return (int(row[0]), bytes(row[1])) if row else None


def _store(origin: str, old: int, old_root: bytes, size: int, root: bytes, note: str, *, first: bool) -> bool:
    """Move the stored size from ``old`` (with ``old_root``) to ``size``; False if another won.

    Check and update are one statement (``WHERE size = <old> AND root = <old root>``), so of two
    submissions from the same old size exactly one can win, on PostgreSQL and SQLite alike. The
    first checkpoint of a log is an INSERT that yields to a concurrent one on the unique origin,
    and then competes by the same conditional UPDATE.
    """
    connection, sql = _sql()
    now = WitnessedLog._meta.get_field("updated").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        if first:
            cursor.execute(sql.insert, [origin, size, root, note, now])
            if int(cursor.rowcount) == 1:
                return True
        cursor.execute(sql.update, [size, root, note, now, origin, old, old_root])
        return int(cursor.rowcount) == 1


@dataclass(frozen=True)
class _Cosigner:
    """The active witness key with its name and key id worked out once, not per request."""

    kid: str
    name: str
    private_key: Ed25519PrivateKey
    key_id: bytes

    def cosign(self, text: str, timestamp: int) -> Signature:
        """A tlog-cosignature v1 line (type 0x04) over checkpoint ``text``, as ``note.cosign`` makes."""
        message = cosignature_message(text, max(1, timestamp))
        blob = struct.pack(">Q", max(1, timestamp)) + self.private_key.sign(message)
        return Signature(self.name, self.key_id, blob)


_cosigners: dict[tuple[str, str], _Cosigner] = {}


def _cosigner() -> _Cosigner:
    """The cosigner for the active witness key (a rotation or a new name gives a new one)."""
    key, name = keys.witness_key(), witness_name()
    cosigner = _cosigners.get((key.kid, name))
    if cosigner is None:
        verifier = Verifier.for_key(name, SIG_COSIGNATURE_V1, key.private_key)
        cosigner = _Cosigner(key.kid, name, key.private_key, verifier.key_id)
        _cosigners.clear()
        _cosigners[(key.kid, name)] = cosigner
    return cosigner


def _log_misbehaviour(origin: str, old: int, size: int, note: str) -> None:
    # The note verified under a trusted key: it may be evidence of a forked log.
    logger.error("Refused an inconsistent checkpoint of %s (old %s, size %s):\n%s", origin, old, size, note)


def witnessed_checkpoint_note(origin_hash: str) -> str | None:
    """The latest checkpoint cosigned for the log whose origin hashes (SHA-256, hex) to this."""
    import hashlib

    for state in WitnessedLog.objects.exclude(note=""):
        if hashlib.sha256(state.origin.encode("utf-8")).hexdigest() == origin_hash:
            return state.note
    return None


# --- log side -------------------------------------------------------------------------------------


def witnesses_sync(policy: Policy) -> list[Witness]:
    """A Witness row per witness of the policy (created or updated), in policy order."""
    rows = []
    for name, witness in policy.witnesses.items():
        row, created = Witness.objects.get_or_create(
            name=name, defaults={"vkey": witness.verifier.vkey, "url": witness.url or ""}
        )
        if not created and row.vkey != witness.verifier.vkey:
            # A new key (a rotation): what the old key cosigned does not count for the new one.
            row.vkey, row.url, row.cosigned_size, row.cosigned_at = witness.verifier.vkey, witness.url or "", None, None
            row.save(update_fields=["vkey", "url", "cosigned_size", "cosigned_at"])
        elif not created and row.url != (witness.url or ""):
            row.url = witness.url or ""
            row.save(update_fields=["url"])
        rows.append(row)
    return rows


def _backoff(failures: int) -> float:
    base = max(1, settings.REGISTRY_WITNESS_MIN_INTERVAL)
    return float(min(settings.REGISTRY_WITNESS_BACKOFF_MAX, base * 2 ** min(failures, 20)))


def _lease(witness: Witness) -> bool:
    """Take the witness for one submission, unless another worker has it or its time has not come."""
    now = timezone.now()
    lease = now + timedelta(seconds=3 * settings.REGISTRY_WITNESS_TIMEOUT + 5)
    taken = (
        Witness.objects.filter(pk=witness.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_attempt__isnull=True) | Q(next_attempt__lte=now))
        .update(lease_until=lease)
    )
    return taken == 1


def _record_error(witness: Witness, why: str) -> None:
    failures = witness.failures + 1
    now = timezone.now()
    Witness.objects.filter(pk=witness.pk).update(
        last_error=why[:500],
        last_error_at=now,
        failures=failures,
        next_attempt=now + timedelta(seconds=_backoff(failures)),
        lease_until=None,
    )
    logger.warning("Witness %s: %s", witness.name, why)


def _submission(old: int, checkpoint: Checkpoint) -> bytes:
    proof = proof_consistency(first=old, second=checkpoint.size) if old > 0 else []
    lines = [f"old {old}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint.note).encode("utf-8")


def _cosignature_from(answer: bytes, checkpoint: Checkpoint, verifier: Verifier) -> Signature:
    """The witness's valid cosignature among the answer's signature lines; NoteError if none."""
    try:
        text = answer.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("the answer is not UTF-8") from exc
    if not text.endswith("\n") or len(text.split("\n")) > 101:
        raise NoteError("the answer is not signature lines")
    body = parse_note(checkpoint.note).text
    now = int(time.time())
    for line in text.split("\n")[:-1]:
        signature = parse_signature_line(line)
        if not verifier.matches(signature):
            continue  # tlog-witness: ignore cosignatures from unknown keys
        if not verifier.verify(body, signature):
            raise NoteError("the cosignature does not verify")
        timestamp = cosignature_timestamp(signature)
        if timestamp == 0:
            raise NoteError("the cosignature has no timestamp")
        if timestamp > now + settings.REGISTRY_WITNESS_MAX_CLOCK_SKEW:
            raise NoteError("the cosignature is dated in the future")
        return signature
    raise NoteError("no cosignature by the witness's key")


def submit(witness: Witness, checkpoint: Checkpoint, *, attempts: int = 3) -> str:
    """Submit ``checkpoint`` to one witness (the caller holds its lease); the outcome, in words."""
    try:
        verifier = parse_vkey(witness.vkey, types=(SIG_COSIGNATURE_V1,))
    except NoteError as exc:
        _record_error(witness, f"bad witness key in the policy: {exc.reason}")
        return "error"
    if not witness.url:
        _record_error(witness, "the policy gives no URL for this witness")
        return "error"
    old = witness.known_size if witness.known_size <= checkpoint.size else 0
    url = witness.url.rstrip("/") + "/add-checkpoint"
    for _ in range(attempts):
        try:
            body = _submission(old, checkpoint)
        except ProofRequestError as exc:
            _record_error(witness, f"cannot prove consistency from {old}: {exc}")
            return "error"
        try:
            response = outbound.request(
                "POST",
                url,
                body=body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=float(settings.REGISTRY_WITNESS_TIMEOUT),
                max_bytes=64 * 1024,
            )
        except (outbound.OutboundRefused, outbound.OutboundFailed) as exc:
            _record_error(witness, f"submission failed: {exc}")
            return "error"
        if response.status == 409:
            content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
            match = _SIZE_BODY.fullmatch(response.body)
            if not content_type.startswith(SIZE_CONTENT_TYPE) or not match:
                _record_error(witness, "409 without a text/x.tlog.size body")
                return "error"
            size = int(match.group(1))
            Witness.objects.filter(pk=witness.pk).update(known_size=size)
            if size > checkpoint.size:
                logger.critical(
                    "Witness %s holds size %s of our log, beyond checkpoint %s: a fork, or a newer checkpoint.",
                    witness.name,
                    size,
                    checkpoint.size,
                )
                _record_error(witness, f"409: the witness holds size {size}, beyond checkpoint {checkpoint.size}")
                return "conflict"
            old = size  # resend from the witness's size
            continue
        if response.status != 200:
            snippet = response.body[:200].decode("utf-8", "replace").strip()
            _record_error(witness, f"{response.status}: {snippet}")
            return "error"
        try:
            signature = _cosignature_from(response.body, checkpoint, verifier)
        except NoteError as exc:
            _record_error(witness, f"200 with an unusable answer: {exc.reason}")
            return "error"
        now = timezone.now()
        Cosignature.objects.get_or_create(
            checkpoint=checkpoint,
            vkey=witness.vkey,
            defaults={"witness": witness.name, "line": signature.line, "timestamp": cosignature_timestamp(signature)},
        )
        Witness.objects.filter(pk=witness.pk).update(
            known_size=checkpoint.size,
            cosigned_size=checkpoint.size,
            cosigned_at=now,
            failures=0,
            next_attempt=now + timedelta(seconds=settings.REGISTRY_WITNESS_MIN_INTERVAL),
            lease_until=None,
        )
        return "cosigned"
    _record_error(witness, "409 again after resending from the witness's size")
    return "conflict"


def checkpoint_evaluate(checkpoint: Checkpoint, policy: Policy | None = None) -> WitnessedCheckpoint | None:
    """Mark ``checkpoint`` witnessed if its stored cosignatures meet the quorum (idempotent).

    Only cosignatures that verify under a witness key of the policy count, and only those are
    appended to the served note. A checkpoint that is not consistent with the newest witnessed
    one is never marked (the log guards this when signing; this is the second lock).
    """
    policy = policy or witness_policy()
    if policy is None:
        return None
    body = parse_note(checkpoint.note).text
    counted: dict[str, str] = {}
    for cosig in Cosignature.objects.filter(checkpoint=checkpoint).order_by("id"):
        try:
            signature = parse_signature_line(cosig.line.rstrip("\n"))
        except NoteError:
            continue
        for name, witness in policy.witnesses.items():
            if witness.verifier.matches(signature) and witness.verifier.verify(body, signature):
                counted.setdefault(name, signature.line)
    if not policy.quorum_met(counted):
        return None
    note = checkpoint.note + "".join(counted[name] for name in policy.witnesses if name in counted)
    previous = WitnessedCheckpoint.objects.filter(size__lt=checkpoint.size).select_related("checkpoint").first()
    if previous is not None and previous.size > 0:
        proof = proof_consistency(first=previous.size, second=checkpoint.size)
        if not verify_consistency(
            previous.size, checkpoint.size, proof, bytes(previous.checkpoint.root), bytes(checkpoint.root)
        ):
            logger.critical(
                "Checkpoint %s is not consistent with witnessed %s; not serving it.", checkpoint.size, previous.size
            )
            return None
    try:
        with transaction.atomic():
            witnessed, _ = WitnessedCheckpoint.objects.update_or_create(
                checkpoint=checkpoint, defaults={"size": checkpoint.size, "note": note}
            )
    except IntegrityError:
        return WitnessedCheckpoint.objects.filter(checkpoint=checkpoint).first()
    return witnessed


def witness_round(*, checkpoint: Checkpoint | None = None) -> dict[str, str]:
    """Submit the newest checkpoint to every witness whose turn it is; witness name → outcome."""
    policy = witness_policy()
    if policy is None:
        return {}
    checkpoint = checkpoint or Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        return {}
    outcomes: dict[str, str] = {}
    for witness in witnesses_sync(policy):
        if witness.cosigned_size is not None and witness.cosigned_size >= checkpoint.size:
            outcomes[witness.name] = "current"
            continue
        if not _lease(witness):
            outcomes[witness.name] = "waiting"
            continue
        witness.refresh_from_db()
        try:
            outcomes[witness.name] = submit(witness, checkpoint)
        except Exception as exc:  # never leave the lease held; the error is recorded and retried
            _record_error(witness, f"unexpected error: {exc.__class__.__name__}")
            logger.exception("Witness %s: unexpected error", witness.name)
            outcomes[witness.name] = "error"
    checkpoint_evaluate(checkpoint, policy)
    from registry.witness.selectors import witness_alerts

    for alert in witness_alerts():  # the same alert /health shows, in the log for the operator's paging
        logger.error("Witnessing: %s", alert)
    return outcomes
