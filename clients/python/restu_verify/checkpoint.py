"""C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints, Ed25519 only."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from restu_verify._common import VerificationError, b64_decode

_HEX8 = re.compile(r"^[0-9a-f]{8}$")
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_SIG_PREFIX = "\u2014 "
MAX_SIGNATURES = 100


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: the log's origin line, tree size and root hash."""

    origin: str
    size: int
    root: bytes


def _bad_name(name: str) -> bool:
    return not name or "+" in name or any(ch.isspace() for ch in name)


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """``name+hexkeyid+base64(0x01||key)`` → (name, 4-byte key id, public key)."""
    name, _, rest = vkey.strip().partition("+")
    key_id, _, material = rest.partition("+")
    if _bad_name(name) or not _HEX8.match(key_id):
        raise VerificationError("malformed verifier key")
    try:
        raw = b64_decode(material)
    except ValueError as exc:
        raise VerificationError("malformed verifier key") from exc
    if len(raw) != 33 or raw[0] != 0x01:
        raise VerificationError("verifier key is not an Ed25519 key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        raise VerificationError("verifier key id does not match its key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_note(note: str, verifier_key: str) -> str:
    """Return the text of ``note`` if the key signed it; other keys' signatures are ignored."""
    name, key_id, public_key = parse_verifier_key(verifier_key)
    if not note.endswith("\n") or any(ch < " " and ch != "\n" for ch in note):
        raise VerificationError("malformed note")
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("malformed note: no signatures")
    text, lines = note[: split + 1], note[split + 2 :].split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise VerificationError("malformed note: no signatures")
    found = False
    for line in lines:
        signer, space, encoded = line.removeprefix(_SIG_PREFIX).partition(" ")
        if not line.startswith(_SIG_PREFIX) or not space or _bad_name(signer):
            raise VerificationError("malformed signature line")
        try:
            blob = b64_decode(encoded)
        except ValueError as exc:
            raise VerificationError("malformed signature line") from exc
        if signer != name or blob[:4] != key_id:
            continue
        if found:
            raise VerificationError("duplicate signature by the log key")
        try:
            public_key.verify(blob[4:], text.encode("utf-8"))
        except (InvalidSignature, UnicodeEncodeError) as exc:
            raise VerificationError("the log key's signature does not verify") from exc
        found = True
    if not found:
        raise VerificationError("no signature by the log key")
    return text


def verify_checkpoint(note: str, verifier_key: str) -> Checkpoint:
    """Verify a signed checkpoint and return its origin, size and root."""
    lines = verify_note(note, verifier_key).split("\n")
    if len(lines) < 4 or any(not line for line in lines[:-1]):
        raise VerificationError("malformed checkpoint")
    if not _SIZE.match(lines[1]):
        raise VerificationError("malformed checkpoint size")
    try:
        root = b64_decode(lines[2])
    except ValueError as exc:
        raise VerificationError("malformed checkpoint root") from exc
    if len(root) != 32:
        raise VerificationError("malformed checkpoint root")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root)
