"""Witness cosignatures, policies and tlog proofs, checked offline (no network, ever).

Written from the C2SP specifications (signed-note, tlog-cosignature, tlog-proof) and the Sigsum
policy format, independently of the registry's code:

* A cosignature (type 0x04) is ``u64 big-endian timestamp || Ed25519 signature`` over
  ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``; its key id is
  ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``.
* A policy lists ``log <vkey> [<url>]``, ``witness <name> <vkey> [<url>]``,
  ``group <name> <k|any|all> <member>...`` and one ``quorum <name>|none``; ``#`` starts a comment.
* A tlog proof is ``c2sp.org/tlog-proof@v1``, an optional ``extra <base64>`` line, ``index <n>``,
  one base64 hash a line, a blank line and the checkpoint note.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from restu_verify._common import VerificationError, b64_decode
from restu_verify.checkpoint import Checkpoint, verify_checkpoint
from restu_verify.jcs import canonical_json
from restu_verify.merkle import leaf_hash, verify_inclusion

_SIG_PREFIX = "\u2014 "
_HEX8 = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_SIGNATURES = 100


@dataclass(frozen=True)
class Key:
    """A vkey: name, key id, signature type and Ed25519 public key bytes."""

    name: str
    key_id: bytes
    type: int
    public: bytes


def parse_vkey(text: str, sig_type: int) -> Key:
    """``name+hex(key id)+base64(type || key)`` of the given type; VerificationError otherwise."""
    name, _, rest = text.partition("+")
    hex_id, _, material = rest.partition("+")
    if not name or any(ch.isspace() for ch in name) or not _HEX8.fullmatch(hex_id):
        raise VerificationError(f"malformed verifier key {text!r}")
    try:
        raw = b64_decode(material)
    except ValueError as exc:
        raise VerificationError(f"malformed verifier key {text!r}") from exc
    if len(raw) != 33 or raw[0] != sig_type:
        raise VerificationError(f"verifier key {name} is not of type 0x{sig_type:02x}")
    if hashlib.sha256(name.encode("utf-8") + b"\n" + raw).digest()[:4].hex() != hex_id:
        raise VerificationError(f"verifier key {name}: the key id does not match the key")
    return Key(name, bytes.fromhex(hex_id), raw[0], raw[1:])


@dataclass(frozen=True)
class Policy:
    logs: tuple[Key, ...]
    witnesses: Mapping[str, Key]
    groups: Mapping[str, tuple[int, tuple[str, ...]]]
    quorum: str | None

    def _met(self, name: str, cosigned: set[str]) -> bool:
        if name in self.witnesses:
            return name in cosigned
        threshold, members = self.groups[name]
        return sum(self._met(member, cosigned) for member in members) >= threshold

    def quorum_met(self, cosigned: set[str]) -> bool:
        return self.quorum is None or self._met(self.quorum, cosigned)


def parse_policy(text: str) -> Policy:
    """Parse a policy file; VerificationError naming the line for anything invalid."""
    if any((ch < " " and ch not in "\t\n") or ch == "\x7f" for ch in text):
        raise VerificationError("the policy holds a control character")
    logs: list[Key] = []
    witnesses: dict[str, Key] = {}
    groups: dict[str, tuple[int, tuple[str, ...]]] = {}
    quorum: str | None = None
    quorum_lines = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        words = re.sub(r"(^|[ \t])#.*$", "", raw).split()
        if not words:
            continue
        keyword, args = words[0], words[1:]
        where = f"policy line {number}"
        if keyword == "log" and len(args) in (1, 2):
            log = parse_vkey(args[0], 0x01)
            if any(other.public == log.public for other in logs):
                raise VerificationError(f"{where}: a log key is listed twice")
            logs.append(log)
        elif keyword == "witness" and len(args) in (2, 3):
            if args[0] == "none" or args[0] in witnesses or args[0] in groups:
                raise VerificationError(f"{where}: the name {args[0]!r} is taken")
            key = parse_vkey(args[1], 0x04)
            if any(other.public == key.public for other in witnesses.values()):
                raise VerificationError(f"{where}: a witness key is listed twice")
            witnesses[args[0]] = key
        elif keyword == "group" and len(args) >= 3:
            name, rule, members = args[0], args[1], tuple(args[2:])
            if name == "none" or name in witnesses or name in groups or len(set(members)) != len(members):
                raise VerificationError(f"{where}: bad group")
            if any(m not in witnesses and m not in groups for m in members):
                raise VerificationError(f"{where}: a member is not defined on a line before")
            if rule == "all":
                threshold = len(members)
            elif rule == "any":
                threshold = 1
            elif rule.isdigit() and 1 <= int(rule) <= len(members) and rule == str(int(rule)):
                threshold = int(rule)
            else:
                raise VerificationError(f"{where}: the threshold is any, all or 1 to the number of members")
            groups[name] = (threshold, members)
        elif keyword == "quorum" and len(args) == 1:
            quorum_lines += 1
            if args[0] != "none" and args[0] not in witnesses and args[0] not in groups:
                raise VerificationError(f"{where}: {args[0]!r} is not defined on a line before")
            quorum = None if args[0] == "none" else args[0]
        else:
            raise VerificationError(f"{where}: cannot read {raw.strip()!r}")
    if quorum_lines != 1:
        raise VerificationError("a policy has exactly one quorum line")
    return Policy(tuple(logs), witnesses, groups, quorum)


@dataclass(frozen=True)
class CosignedCheckpoint:
    checkpoint: Checkpoint
    cosigned_by: dict[str, int]  # policy witness name → cosignature timestamp


def _signature_lines(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise VerificationError("malformed note")
    lines = note[split + 2 :].split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise VerificationError("malformed note")
    parsed = []
    for line in lines:
        name, space, encoded = line.removeprefix(_SIG_PREFIX).partition(" ")
        if not line.startswith(_SIG_PREFIX) or not space:
            raise VerificationError("malformed signature line")
        try:
            parsed.append((name, b64_decode(encoded)))
        except ValueError as exc:
            raise VerificationError("malformed signature line") from exc
    return note[: split + 1], parsed


def verify_cosigned_checkpoint(
    note: str, log_key: str, policy: Policy, *, now: float | None = None, max_future: int = 600
) -> CosignedCheckpoint:
    """The log's signature by ``log_key``, then the witnesses' cosignatures and the quorum."""
    checkpoint = verify_checkpoint(note, log_key)
    if policy.logs and log_key.strip() not in {_vkey_text(k) for k in policy.logs}:
        raise VerificationError("the log key is not one of the policy's logs")
    text, signatures = _signature_lines(note)
    limit = (time.time() if now is None else now) + max_future
    cosigned: dict[str, int] = {}
    for name, key in policy.witnesses.items():
        matching = [blob for signer, blob in signatures if signer == key.name and blob[:4] == key.key_id]
        if not matching:
            continue
        if len(matching) > 1:
            raise VerificationError(f"two cosignatures by witness {name}")
        blob = matching[0]
        if len(blob) != 4 + 8 + 64:
            raise VerificationError(f"the cosignature of witness {name} is malformed")
        (timestamp,) = struct.unpack(">Q", blob[4:12])
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode("utf-8")
        try:
            Ed25519PublicKey.from_public_bytes(key.public).verify(blob[12:], message)
        except InvalidSignature as exc:
            raise VerificationError(f"the cosignature of witness {name} does not verify") from exc
        if timestamp == 0 or timestamp > limit:
            continue  # undated, or dated in the future: it does not count
        cosigned[name] = int(timestamp)
    if not policy.quorum_met(set(cosigned)):
        raise VerificationError(f"the witness quorum is not met (cosigned by: {', '.join(sorted(cosigned)) or 'none'})")
    return CosignedCheckpoint(checkpoint, cosigned)


def _vkey_text(key: Key) -> str:
    import base64

    return f"{key.name}+{key.key_id.hex()}+{base64.b64encode(bytes([key.type]) + key.public).decode()}"


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None


def parse_tlog_proof(text: str) -> TlogProof:
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise VerificationError("not a c2sp.org/tlog-proof@v1 proof")
    position, extra = 1, None
    try:
        if position < len(lines) and lines[position].startswith("extra "):
            extra = b64_decode(lines[position][6:])
            position += 1
        if position >= len(lines) or not lines[position].startswith("index "):
            raise VerificationError("the proof has no index line")
        if not _DECIMAL.fullmatch(lines[position][6:]):
            raise VerificationError("the proof's index is malformed")
        index = int(lines[position][6:])
        hashes = tuple(b64_decode(line) for line in lines[position + 1 :])
    except ValueError as exc:
        raise VerificationError("the proof holds malformed base64") from exc
    if len(hashes) > 63 or any(len(h) != 32 for h in hashes):
        raise VerificationError("the inclusion proof is malformed")
    return TlogProof(index, hashes, note, extra)


@dataclass(frozen=True)
class VerifiedProof:
    index: int
    leaf: dict[str, Any]
    checkpoint: Checkpoint
    cosigned_by: dict[str, int]


def verify_tlog_proof(
    text: str, log_key: str, policy: Policy, *, leaf: bytes | None = None, now: float | None = None
) -> VerifiedProof:
    """A tlog proof of a Restu leaf: the cosigned checkpoint, then the leaf's inclusion.

    The leaf is ``leaf`` if given, else the proof's ``extra`` (Restu puts the canonical leaf
    there); either way it must be canonical JSON (RFC 8785) of a leaf object.
    """
    proof = parse_tlog_proof(text)
    data = leaf if leaf is not None else proof.extra
    if data is None:
        raise VerificationError("no leaf: the proof has no extra line and none was given")
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise VerificationError("the leaf is not JSON") from exc
    if not isinstance(value, dict) or canonical_json(value) != data:
        raise VerificationError("the leaf is not a canonical JSON object")
    cosigned = verify_cosigned_checkpoint(proof.checkpoint, log_key, policy, now=now)
    checkpoint = cosigned.checkpoint
    if not verify_inclusion(proof.index, checkpoint.size, leaf_hash(data), list(proof.hashes), checkpoint.root):
        raise VerificationError("the inclusion proof does not verify against the checkpoint")
    return VerifiedProof(proof.index, value, checkpoint, cosigned.cosigned_by)


def verify_receipt_with_proof(
    receipt_payload: Mapping[str, Any], proof_text: str, log_key: str, policy: Policy, *, now: float | None = None
) -> VerifiedProof:
    """A verified receipt's cited consent is the ``consent.signed`` leaf the proof includes."""
    verified = verify_tlog_proof(proof_text, log_key, policy, now=now)
    leaf = verified.leaf
    if leaf.get("type") != "consent.signed":
        raise VerificationError("the proof's leaf is not a consent.signed leaf")
    if leaf.get("id") != receipt_payload.get("consent"):
        raise VerificationError("the proof's leaf is about another consent than the receipt cites")
    if leaf.get("digest") != receipt_payload.get("consent_digest"):
        raise VerificationError("the leaf's digest differs from the receipt's consent_digest")
    cited = receipt_payload.get("log")
    if isinstance(cited, Mapping) and cited.get("index") is not None and cited.get("index") != verified.index:
        raise VerificationError("the proof is for another log index than the receipt cites")
    return verified
