"""Checking a consent claim's ``log_proof`` (C2SP tlog-proof) against this registry's own log.

The registry is the log, so its database is the authority a remote verifier would reach through
the signed checkpoint: the proof stands when its checkpoint's size and root are a checkpoint this
registry published, its ``extra`` is the exact leaf at ``index`` (a ``consent.signed`` leaf about
this consent), and its audit path leads from that leaf to that root (RFC 9162 §2.1.3.2). Offline,
``restu-verify asset --policy --log-key`` checks the same proof with signatures and witnesses.
"""

from __future__ import annotations

from registry.lib.merkle import leaf_hash, verify_inclusion
from registry.lib.note import NoteError, parse_checkpoint, parse_note, parse_tlog_proof
from registry.transparency.models import Checkpoint, LogEntry

MAX_PROOF_CHARS = 64 * 1024


def log_proof_valid(*, proof: object, consent: str) -> bool:
    """Whether ``proof`` (the claim's ``log_proof``) proves ``consent``'s ``consent.signed`` leaf."""
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_CHARS:
        return False
    try:
        parsed = parse_tlog_proof(proof)
        checkpoint = parse_checkpoint(parse_note(parsed.checkpoint).text)
    except (NoteError, ValueError, UnicodeError):
        return False
    if parsed.extra is None:
        return False
    published = Checkpoint.objects.filter(size=checkpoint.size).values_list("root", flat=True).first()
    if published is None or bytes(published) != checkpoint.root:
        return False
    entry = LogEntry.objects.filter(index=parsed.index).values_list("type", "ref", "leaf").first()
    if entry is None or entry[0] != "consent.signed" or entry[1] != consent or bytes(entry[2]) != parsed.extra:
        return False
    return verify_inclusion(parsed.index, checkpoint.size, leaf_hash(parsed.extra), parsed.proof, checkpoint.root)
