"""C2SP signed notes, verifier keys, cosignatures, tlog proofs and Sigsum-style witness policies.

Written from the specifications (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature,
tlog-witness, tlog-proof, tlog-policy; sigsum-go ``doc/policy.md``). Pure Python, no Django.

* Signed note: text ending in a newline, a blank line, then lines
  ``— <key name> base64(4-byte key id || signature)``; UTF-8, no control character but newline.
* Key id: ``SHA-256(name || 0x0A || type || public key)[:4]``; vkey
  ``<name>+<hex key id>+<base64(type || public key)>``.
* Type 0x01: Ed25519 over the note text. Type 0x04 (cosignature/v1): the signature is
  ``u64 big-endian timestamp || Ed25519 signature`` over
  ``"cosignature/v1\\ntime <timestamp>\\n" || note text``.
* tlog-proof: ``c2sp.org/tlog-proof@v1``, optional ``extra <base64>``, ``index <n>``, the
  inclusion proof (one base64 hash a line), a blank line, the checkpoint note verbatim.
* Policy: ``log <vkey> [<url>]``, ``witness <name> <vkey> [<url>]``,
  ``group <name> <k|any|all> <member>…``, ``quorum <name>|none``; ``#`` starts a comment.

Every problem raises :class:`NoteError` (a ``VerificationError``) with a short ``reason``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.lib.signing import NoteError as _SigningNoteError

__all__ = [
    "COSIGNATURE_HEADER",
    "MAX_NOTE_SIGNATURES",
    "MAX_PROOF_HASHES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "TLOG_PROOF_HEADER",
    "Checkpoint",
    "Note",
    "NoteError",
    "Policy",
    "PolicyGroup",
    "PolicyWitness",
    "Signature",
    "TlogProof",
    "VerifiedCheckpoint",
    "Verifier",
    "cosign",
    "cosignature_message",
    "cosignature_timestamp",
    "format_checkpoint",
    "format_note",
    "format_tlog_proof",
    "format_vkey",
    "key_id",
    "parse_checkpoint",
    "parse_note",
    "parse_policy",
    "parse_signature_line",
    "parse_tlog_proof",
    "parse_vkey",
    "sign_ed25519",
    "valid_key_name",
    "verified_by",
    "verify_cosigned_checkpoint",
]

SIG_ED25519 = 0x01
SIG_COSIGNATURE_V1 = 0x04
SUPPORTED_TYPES = frozenset({SIG_ED25519, SIG_COSIGNATURE_V1})
COSIGNATURE_HEADER = "cosignature/v1"
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
# signed-note: verifiers MUST accept at least 16 signatures; we accept up to 100.
MAX_NOTE_SIGNATURES = 100
# tlog-witness: a client MUST NOT send more than 63 consistency proof lines; inclusion proofs
# in a tree of at most 2^63 leaves have at most 63 hashes too.
MAX_PROOF_HASHES = 63
MAX_TIMESTAMP = (1 << 63) - 1
_SIG_PREFIX = "\u2014 "  # em dash, space
_HEX8 = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


class NoteError(_SigningNoteError):
    """A note, key, cosignature, proof or policy is malformed or does not verify."""


# --- encodings ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4, padded, canonical); NoteError otherwise."""
    if not isinstance(text, str) or not text.isascii():
        raise NoteError(f"malformed {what}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"malformed {what}") from exc
    if _b64(data) != text:  # non-canonical padding bits or missing padding
        raise NoteError(f"malformed {what}")
    return data


def _decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise NoteError(f"malformed {what}")
    value = int(text)
    if value > MAX_TIMESTAMP:
        raise NoteError(f"malformed {what}")
    return value


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Zs"


def valid_key_name(name: str) -> bool:
    """signed-note: key names are non-empty and contain no Unicode space and no ``+``."""
    return isinstance(name, str) and bool(name) and "+" not in name and not any(_is_space(ch) for ch in name)


def _has_control_chars(text: str) -> bool:
    return any(ch < " " and ch != "\n" for ch in text)


def _raw_public(key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> bytes:
    if isinstance(key, bytes):
        if len(key) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return key
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- keys ------------------------------------------------------------------------------------


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A verifier key: name, 4-byte key id, signature type (0x01 or 0x04), Ed25519 public key."""

    name: str
    key_id: bytes
    type: int
    public_key: bytes

    @classmethod
    def for_key(cls, name: str, sig_type: int, key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> Verifier:
        if not valid_key_name(name):
            raise ValueError("key names are non-empty, without spaces or '+'")
        if sig_type not in SUPPORTED_TYPES:
            raise ValueError("only signature types 0x01 and 0x04 are supported")
        raw = _raw_public(key)
        return cls(name, key_id(name, sig_type, raw), sig_type, raw)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.type]) + self.public_key)}"

    def matches(self, signature: Signature) -> bool:
        """Whether a signature line claims to be by this key (same name and key id)."""
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, text: str, signature: Signature) -> bool:
        """Whether ``signature`` (by this key) verifies over note ``text``."""
        if not self.matches(signature):
            return False
        blob = signature.signature
        if self.type == SIG_ED25519:
            if len(blob) != 64:
                return False
            message, sig = text.encode("utf-8"), blob
        else:
            if len(blob) != 72:
                return False
            timestamp = struct.unpack(">Q", blob[:8])[0]
            if timestamp > MAX_TIMESTAMP:
                return False
            message, sig = cosignature_message(text, timestamp), blob[8:]
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def format_vkey(name: str, sig_type: int, key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> str:
    """``<name>+<hex key id>+<base64(type || public key)>``."""
    return Verifier.for_key(name, sig_type, key).vkey


def parse_vkey(vkey: str, *, types: Iterable[int] = SUPPORTED_TYPES) -> Verifier:
    """Parse a vkey; NoteError if malformed, of another type, or its key id does not match."""
    if not isinstance(vkey, str):
        raise NoteError("malformed verifier key")
    # The name has no '+', the hex id has none; the base64 part may hold '+'.
    name, _, rest = vkey.partition("+")
    hex_id, _, material = rest.partition("+")
    if not valid_key_name(name) or not _HEX8.fullmatch(hex_id):
        raise NoteError("malformed verifier key")
    raw = _unb64(material, "verifier key")
    if not raw or raw[0] not in set(types):
        raise NoteError("unsupported verifier key type")
    if len(raw) != 33:
        raise NoteError("malformed verifier key")
    if key_id(name, raw[0], raw[1:]).hex() != hex_id:
        raise NoteError("verifier key id does not match the key")
    return Verifier(name, bytes.fromhex(hex_id), raw[0], raw[1:])


# --- signed notes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One note signature line: key name, key id and the signature bytes after the id."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        return f"{_SIG_PREFIX}{self.name} {_b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed (not yet verified) signed note: its text (ending in a newline) and signatures."""

    text: str
    signatures: tuple[Signature, ...]

    def format(self) -> str:
        return format_note(self.text, self.signatures)


def parse_signature_line(line: str) -> Signature:
    """``— <name> base64(key id || signature)`` (without the newline)."""
    if not line.startswith(_SIG_PREFIX):
        raise NoteError("malformed signature line")
    name, space, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not space or not valid_key_name(name):
        raise NoteError("malformed signature line")
    blob = _unb64(encoded, "signature line")
    if len(blob) < 5:
        raise NoteError("malformed signature line")
    return Signature(name, blob[:4], blob[4:])


def _check_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note is UTF-8") from exc
    if not isinstance(note, str):
        raise NoteError("malformed note")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise NoteError("a note is UTF-8") from exc
    if _has_control_chars(note):
        raise NoteError("a note contains no control characters but newlines")
    return note


def parse_note(note: str | bytes, *, max_signatures: int = MAX_NOTE_SIGNATURES) -> Note:
    """Split a signed note into text and signature lines (no signature is checked here)."""
    note = _check_text(note)
    if not note.endswith("\n"):
        raise NoteError("a note ends in a newline")
    split = note.rfind("\n\n")  # the last blank line separates text from signatures
    if split < 0:
        raise NoteError("a note has a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteError("a note has at least one signature")
    if len(lines) > max_signatures:
        raise NoteError("too many signatures")
    return Note(text, tuple(parse_signature_line(line) for line in lines))


def format_note(text: str, signatures: Iterable[Signature]) -> str:
    """``text`` + blank line + one line per signature."""
    text = _check_text(text)
    lines = "".join(sig.line for sig in signatures)
    if not text.endswith("\n") or not lines:
        raise NoteError("a note's text ends in a newline and it has at least one signature")
    return f"{text}\n{lines}"


def verified_by(note: Note, verifiers: Iterable[Verifier]) -> list[Verifier]:
    """The verifiers whose signatures on ``note`` verify, in the order given.

    Signatures by unknown keys are ignored (a shared name or id alone does not make a key
    known); a signature whose name and id match a known key but fails to verify rejects the
    whole note (NoteError), as signed-note recommends; so do two signatures by one key.
    """
    result: list[Verifier] = []
    known = list(verifiers)
    for verifier in known:
        matching = [sig for sig in note.signatures if verifier.matches(sig)]
        if not matching:
            continue
        if len(matching) > 1:
            raise NoteError("two signatures by one key")
        if not verifier.verify(note.text, matching[0]):
            raise NoteError("bad signature")
        result.append(verifier)
    return result


def sign_ed25519(text: str, name: str, private_key: Ed25519PrivateKey) -> Signature:
    """A type 0x01 signature over note ``text``."""
    _check_text(text)
    verifier = Verifier.for_key(name, SIG_ED25519, private_key)
    return Signature(name, verifier.key_id, private_key.sign(text.encode("utf-8")))


def cosignature_message(text: str, timestamp: int) -> bytes:
    """tlog-cosignature v1 signed message: ``cosignature/v1\\ntime <t>\\n`` + note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("cosignature timestamp out of range")
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n".encode("ascii") + text.encode("utf-8")


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> Signature:
    """A type 0x04 cosignature: ``u64 timestamp || Ed25519(cosignature message)``."""
    _check_text(text)
    if timestamp <= 0:
        raise NoteError("a cosignature's timestamp is not zero")
    verifier = Verifier.for_key(name, SIG_COSIGNATURE_V1, private_key)
    sig = private_key.sign(cosignature_message(text, timestamp))
    return Signature(name, verifier.key_id, struct.pack(">Q", timestamp) + sig)


def cosignature_timestamp(signature: Signature) -> int:
    """The timestamp of a type 0x04 cosignature (seconds since the epoch)."""
    if len(signature.signature) != 72:
        raise NoteError("malformed cosignature")
    return int(struct.unpack(">Q", signature.signature[:8])[0])


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """tlog-checkpoint note text: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root, self.extensions)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    if not origin or "\n" in origin or not 0 <= size <= MAX_TIMESTAMP or len(root) != 32:
        raise NoteError("bad checkpoint fields")
    if any(not line or "\n" in line for line in extensions):
        raise NoteError("extension lines are non-empty single lines")
    return "".join(f"{line}\n" for line in (origin, str(size), _b64(root), *extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text (not a signed note: its text only)."""
    text = _check_text(text)
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("malformed checkpoint")
    size = _decimal(lines[1], "checkpoint size")
    root = _unb64(lines[2], "checkpoint root")
    if len(root) != 32:
        raise NoteError("malformed checkpoint root")
    return Checkpoint(lines[0], size, root, tuple(lines[3:-1]))


# --- tlog-proof ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TlogProof:
    """c2sp.org/tlog-proof@v1: optional extra data, leaf index, inclusion proof, checkpoint note."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def format(self) -> str:
        return format_tlog_proof(self)


def format_tlog_proof(proof: TlogProof) -> str:
    if proof.index < 0 or any(len(h) != 32 for h in proof.proof) or len(proof.proof) > MAX_PROOF_HASHES:
        raise NoteError("bad proof fields")
    parse_note(proof.checkpoint)
    lines = [TLOG_PROOF_HEADER]
    if proof.extra is not None:
        lines.append(f"extra {_b64(proof.extra)}")
    lines.append(f"index {proof.index}")
    lines.extend(_b64(h) for h in proof.proof)
    return "\n".join(lines) + "\n\n" + proof.checkpoint


def parse_tlog_proof(data: str | bytes) -> TlogProof:
    text = _check_text(data)
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise NoteError("malformed tlog proof")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise NoteError("not a c2sp.org/tlog-proof@v1 proof")
    position = 1
    extra = None
    if position < len(lines) and lines[position].startswith("extra "):
        extra = _unb64(lines[position][6:], "extra line")
        position += 1
    if position >= len(lines) or not lines[position].startswith("index "):
        raise NoteError("malformed tlog proof: no index line")
    index = _decimal(lines[position][6:], "index")
    hashes = lines[position + 1 :]
    if len(hashes) > MAX_PROOF_HASHES:
        raise NoteError("inclusion proof too long")
    proof = tuple(_unb64(h, "inclusion proof hash") for h in hashes)
    if any(len(h) != 32 for h in proof):
        raise NoteError("malformed inclusion proof hash")
    parse_note(checkpoint)
    return TlogProof(index=index, proof=proof, checkpoint=checkpoint, extra=extra)


# --- policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyWitness:
    name: str
    verifier: Verifier
    url: str | None


@dataclass(frozen=True)
class PolicyGroup:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A Sigsum-style policy with C2SP vkeys: logs, witnesses, groups and the quorum rule."""

    logs: tuple[tuple[Verifier, str | None], ...]
    witnesses: Mapping[str, PolicyWitness]
    groups: Mapping[str, PolicyGroup]
    quorum: str | None  # None: "quorum none"
    _order: tuple[str, ...] = field(default=(), repr=False)

    def log_verifiers(self) -> list[Verifier]:
        return [verifier for verifier, _ in self.logs]

    def witness_verifiers(self) -> list[Verifier]:
        return [witness.verifier for witness in self.witnesses.values()]

    def witness_named(self, verifier: Verifier) -> str | None:
        for name, witness in self.witnesses.items():
            if witness.verifier == verifier:
                return name
        return None

    def satisfied(self, name: str, cosigned: set[str]) -> bool:
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self.satisfied(member, cosigned) for member in group.members) >= group.threshold

    def quorum_met(self, cosigned: Iterable[str]) -> bool:
        """Whether the witnesses named in ``cosigned`` (policy names) meet the quorum."""
        return self.quorum is None or self.satisfied(self.quorum, set(cosigned))


_POLICY_WS = re.compile(r"[ \t]+")
_POLICY_NAME = re.compile(r"[^\s#]+")
POLICY_MAX_ITEMS = 256


def parse_policy(text: str | bytes) -> Policy:
    """Parse a policy file; NoteError (with the line number) for anything that is not valid."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a policy file is UTF-8 text") from exc
    if any((ch < " " and ch not in "\t\n") or ch == "\x7f" for ch in text):
        raise NoteError("a policy file holds no control characters but tab and newline")
    logs: list[tuple[Verifier, str | None]] = []
    witnesses: dict[str, PolicyWitness] = {}
    groups: dict[str, PolicyGroup] = {}
    quorum: str | None = None
    has_quorum = False
    order: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        # '#' starts a comment at the start of a line or after whitespace (a URL may hold '#').
        line = re.sub(r"(^|[ \t])#.*$", "", raw).strip(" \t")
        if not line:
            continue
        words = _POLICY_WS.split(line)
        keyword, args = words[0], words[1:]

        def fail(why: str, number: int = number) -> NoteError:
            return NoteError(f"policy line {number}: {why}")

        if len(logs) + len(witnesses) + len(groups) >= POLICY_MAX_ITEMS:
            raise fail("too many entries")
        if keyword == "log":
            if len(args) not in (1, 2):
                raise fail("log <vkey> [<url>]")
            verifier = _policy_vkey(args[0], SIG_ED25519, fail)
            if any(existing.public_key == verifier.public_key for existing, _ in logs):
                raise fail("duplicate log")
            logs.append((verifier, args[1] if len(args) == 2 else None))
        elif keyword == "witness":
            if len(args) not in (2, 3):
                raise fail("witness <name> <vkey> [<url>]")
            name = args[0]
            _new_name(name, witnesses, groups, fail)
            verifier = _policy_vkey(args[1], SIG_COSIGNATURE_V1, fail)
            if any(w.verifier.public_key == verifier.public_key for w in witnesses.values()):
                raise fail("duplicate witness key")
            witnesses[name] = PolicyWitness(name, verifier, args[2] if len(args) == 3 else None)
            order.append(name)
        elif keyword == "group":
            if len(args) < 3:
                raise fail("group <name> <k|any|all> <member>...")
            name, rule, members = args[0], args[1], args[2:]
            _new_name(name, witnesses, groups, fail)
            if len(set(members)) != len(members):
                raise fail("a member is listed twice")
            for member in members:
                if member not in witnesses and member not in groups:
                    raise fail(f"{member!r} is not defined on a line before")
            if rule == "all":
                threshold = len(members)
            elif rule == "any":
                threshold = 1
            elif re.fullmatch(r"[1-9][0-9]{0,3}", rule) and int(rule) <= len(members):
                threshold = int(rule)
            else:
                raise fail("the threshold is any, all or a number from 1 to the number of members")
            groups[name] = PolicyGroup(name, threshold, tuple(members))
            order.append(name)
        elif keyword == "quorum":
            if len(args) != 1:
                raise fail("quorum <name>|none")
            if has_quorum:
                raise fail("a policy has exactly one quorum line")
            has_quorum = True
            if args[0] == "none":
                quorum = None
            elif args[0] in witnesses or args[0] in groups:
                quorum = args[0]
            else:
                raise fail(f"{args[0]!r} is not defined on a line before")
        else:
            raise fail(f"unknown statement {keyword!r}")
    if not has_quorum:
        raise NoteError("a policy has exactly one quorum line")
    return Policy(tuple(logs), witnesses, groups, quorum, tuple(order))


def _policy_vkey(text: str, sig_type: int, fail: object) -> Verifier:
    try:
        return parse_vkey(text, types=(sig_type,))
    except NoteError as exc:
        assert callable(fail)
        raise fail(
            f"{exc.reason} (a {'log' if sig_type == SIG_ED25519 else 'witness'} key has type 0x0{sig_type})"
        ) from exc


def _new_name(name: str, witnesses: Mapping[str, object], groups: Mapping[str, object], fail: object) -> None:
    assert callable(fail)
    if name == "none" or not _POLICY_NAME.fullmatch(name):
        raise fail(f"{name!r} cannot be a name")
    if name in witnesses or name in groups:
        raise fail(f"{name!r} is defined twice")


# --- verifying a cosigned checkpoint against a policy ---------------------------------------


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    log: Verifier
    cosigned_by: tuple[str, ...]  # policy witness names with a valid cosignature
    cosigned_at: Mapping[str, int]
    quorum_met: bool


def verify_cosigned_checkpoint(
    note: str | bytes,
    policy: Policy,
    *,
    origin: str | None = None,
    now: int | None = None,
    max_future_seconds: int = 600,
    require_quorum: bool = True,
) -> VerifiedCheckpoint:
    """Verify a checkpoint's log signature and its cosignatures against ``policy``.

    The log signature must be by a log key of the policy whose name is the origin (tlog-checkpoint
    recommends the key name match the origin; we require it, so one key cannot sign for another
    log). Cosignatures by keys the policy does not list are ignored; a cosignature whose timestamp
    is more than ``max_future_seconds`` after ``now`` does not count. NoteError if the quorum is
    not met and ``require_quorum``.
    """
    parsed = parse_note(note)
    checkpoint = parse_checkpoint(parsed.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError("unexpected origin")
    logs = [v for v in policy.log_verifiers() if v.name == checkpoint.origin]
    signed = verified_by(parsed, logs)
    if not signed:
        raise NoteError("no signature by a log key of the policy")
    cosigned: dict[str, int] = {}
    for verifier in verified_by(parsed, policy.witness_verifiers()):
        name = policy.witness_named(verifier)
        assert name is not None
        timestamp = cosignature_timestamp(next(s for s in parsed.signatures if verifier.matches(s)))
        if now is not None and timestamp > now + max_future_seconds:
            continue
        cosigned[name] = timestamp
    met = policy.quorum_met(cosigned)
    if require_quorum and not met:
        raise NoteError("the witness quorum is not met")
    return VerifiedCheckpoint(checkpoint, signed[0], tuple(cosigned), cosigned, met)
