"""Ed25519 keys and the three signature formats the registry speaks.

* Compact JWS (receipts, consent tokens, subjects' consent signatures): header ``alg``
  ``Ed25519`` (RFC 9864) when we sign; ``Ed25519`` or the legacy ``EdDSA`` accepted when we
  verify; nothing else, ever. ``kid`` is required and must name a key in the given JWKS.
* DSSE envelopes (attestations): the v1 pre-authentication encoding, standard base64.
* C2SP signed notes (transparency-log checkpoints): c2sp.org/signed-note, tlog-checkpoint.

Every verification failure raises a subclass of :class:`VerificationError` (a ValueError)
with a short, safe-to-show ``reason``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry

from registry.lib.canonical import b64url_decode, b64url_encode
from registry.lib.jsondepth import loads_bounded

__all__ = [
    "ACCEPTED_ALGS",
    "ALG",
    "DSSE_MAX_SIGNATURES",
    "Checkpoint",
    "DSSEError",
    "JWSError",
    "NoteError",
    "NoteVerifier",
    "VerificationError",
    "VerifiedDSSE",
    "VerifiedJWS",
    "checkpoint_body",
    "dsse_pae",
    "dsse_sign",
    "dsse_verify",
    "generate_private_key",
    "jwk_thumbprint",
    "load_or_create_private_key",
    "load_private_key",
    "normalize_public_jwk",
    "note_key_id",
    "parse_checkpoint_body",
    "parse_verifier_key",
    "private_key_from_jwk",
    "private_key_from_pem",
    "private_key_to_jwk",
    "private_key_to_pem",
    "public_jwk",
    "public_key_bytes",
    "public_key_from_jwk",
    "sign_compact",
    "sign_note",
    "verifier_key_string",
    "verify_checkpoint",
    "verify_compact",
    "verify_note",
]

ALG = "Ed25519"
ACCEPTED_ALGS = frozenset({"Ed25519", "EdDSA"})
MAX_TOKEN_LENGTH = 256 * 1024
DSSE_MAX_SIGNATURES = 16
NOTE_MAX_SIGNATURES = 100

Jwks = Mapping[str, Any] | Sequence[Mapping[str, Any]]


class VerificationError(ValueError):
    """A signature, token, envelope or note did not verify; ``reason`` says why, briefly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JWSError(VerificationError):
    """A compact JWS is malformed, uses a refused algorithm, names an unknown key or is forged."""


class DSSEError(VerificationError):
    """A DSSE envelope is malformed or carries no valid signature from a known key."""


class NoteError(VerificationError):
    """A signed note or checkpoint is malformed or not validly signed by the expected key."""


# --- keys -------------------------------------------------------------------------------


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding of the public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _private_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) of an Ed25519 OKP JWK; ValueError otherwise."""
    public = normalize_public_jwk(jwk)
    members = json.dumps(public, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b64url_encode(hashlib.sha256(members.encode("utf-8")).digest())


def normalize_public_jwk(jwk: Mapping[str, Any]) -> dict[str, str]:
    """The required public members ``{"kty", "crv", "x"}`` of an Ed25519 JWK, validated.

    Raises ValueError for another key type or curve, a missing or malformed ``x``.
    """
    if not isinstance(jwk, Mapping):
        raise ValueError("a JWK is a JSON object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("only OKP Ed25519 keys are supported")
    x = jwk.get("x")
    if not isinstance(x, str) or len(b64url_decode(x)) != 32:
        raise ValueError("x must be the base64url encoding of 32 bytes")
    return {"crv": "Ed25519", "kty": "OKP", "x": x}


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 public key a JWK describes; ValueError if it is not one."""
    x = normalize_public_jwk(jwk)["x"]
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    """Public JWK ``{"kty", "crv", "x", "kid"}``; ``kid`` defaults to the RFC 7638 thumbprint."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public_key_bytes(key))}
    jwk["kid"] = kid if kid is not None else jwk_thumbprint(jwk)
    return jwk


def private_key_to_jwk(key: Ed25519PrivateKey, kid: str | None = None) -> dict[str, str]:
    """Private JWK (with ``d``); keep it secret."""
    jwk = public_jwk(key, kid)
    jwk["d"] = b64url_encode(_private_bytes(key))
    return jwk


def private_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PrivateKey:
    """The private key in an OKP Ed25519 JWK; ValueError if ``d`` is bad or ``x`` mismatches."""
    public = normalize_public_jwk(jwk)
    d = jwk.get("d")
    if not isinstance(d, str):
        raise ValueError("a private JWK has a d member")
    seed = b64url_decode(d)
    if len(seed) != 32:
        raise ValueError("d must be the base64url encoding of 32 bytes")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if b64url_encode(public_key_bytes(key)) != public["x"]:
        raise ValueError("x does not match d")
    return key


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM; protect it with file permissions."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 PEM Ed25519 key; ValueError for anything else."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (TypeError, ValueError) as exc:
        raise ValueError("not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read a key file holding either a PEM key or a private JWK (JSON)."""
    data = Path(path).read_bytes()
    if data.lstrip().startswith(b"{"):
        try:
            jwk = loads_bounded(data)
        except ValueError as exc:
            raise ValueError("key file is neither PEM nor a JSON JWK") from exc
        return private_key_from_jwk(jwk)
    return private_key_from_pem(data)


def load_or_create_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Load the key at ``path``, or create it (PEM, mode 0600) if there is none yet.

    Safe when several processes start at once: the key is written to a temporary file and
    linked into place, so exactly one key wins and nobody reads a half-written file.
    """
    target = Path(path)
    if target.exists():
        return load_private_key(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_key_to_pem(key))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, target)
        except FileExistsError:
            return load_private_key(target)
    finally:
        os.unlink(tmp)
    return key


# --- compact JWS ------------------------------------------------------------------------


class _AlgRegistry(JWSRegistry):
    """joserfc's registry, limited to our algorithms and without warnings for legacy EdDSA."""

    def get_alg(self, name: str) -> JWSAlgModel:
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise JWSError("algorithm not allowed")
        return self.algorithms[name]


# Unknown non-critical header members are ignored (RFC 7515 §4), hence no strict check.
_SIGN_REGISTRY = _AlgRegistry(algorithms=[ALG])
_VERIFY_REGISTRY = _AlgRegistry(algorithms=sorted(ACCEPTED_ALGS), strict_check_header=False)


@dataclass(frozen=True)
class VerifiedJWS:
    """A compact JWS whose signature checked out: its protected header, payload and key id."""

    header: dict[str, Any]
    payload: bytes
    kid: str

    def json(self) -> dict[str, Any]:
        """The payload parsed as a JSON object; JWSError if it is not one."""
        try:
            value = loads_bounded(self.payload, object_pairs_hook=_no_duplicates)
        except ValueError as exc:
            raise JWSError("payload is not JSON") from exc
        if not isinstance(value, dict):
            raise JWSError("payload is not a JSON object")
        return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def sign_compact(payload: bytes, private_key: Ed25519PrivateKey, kid: str, typ: str | None = None) -> str:
    """Compact JWS over ``payload`` with header ``{"alg": "Ed25519", "kid": kid[, "typ"]}``."""
    header: dict[str, Any] = {"alg": ALG, "kid": kid}
    if typ is not None:
        header["typ"] = typ
    # RFC 7515 §7.1 by hand, with the header encoded as joserfc encodes it (so the bytes are the
    # same): wrapping the key in a joserfc key object and going through its registry on every
    # receipt cost as much as the Ed25519 signature itself.
    signing_input = _b64url(json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode("ascii"))
    signing_input += b"." + _b64url(payload)
    return (signing_input + b"." + _b64url(private_key.sign(signing_input))).decode("ascii")


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _keys_by_kid(jwks: Jwks) -> dict[str, list[Mapping[str, Any]]]:
    keys: object = jwks.get("keys") if isinstance(jwks, Mapping) else jwks
    if not isinstance(keys, Sequence) or isinstance(keys, (str, bytes)):
        raise VerificationError("JWKS has no key list")
    found: dict[str, list[Mapping[str, Any]]] = {}
    for jwk in keys:
        if isinstance(jwk, Mapping) and isinstance(jwk.get("kid"), str):
            found.setdefault(jwk["kid"], []).append(jwk)
    return found


def _find_key(jwks: Jwks, kid: str, error: type[VerificationError]) -> Ed25519PublicKey:
    try:
        candidates = _keys_by_kid(jwks).get(kid, [])
    except VerificationError as exc:
        raise error(exc.reason) from exc
    if not candidates:
        raise error("unknown kid")
    if len(candidates) > 1:
        raise error("ambiguous kid")
    jwk = candidates[0]
    if jwk.get("use", "sig") != "sig":
        raise error("key is not for signatures")
    try:
        return public_key_from_jwk(jwk)
    except ValueError as exc:
        raise error("key is not a valid Ed25519 JWK") from exc


def verify_compact(token: str, jwks: Jwks) -> VerifiedJWS:
    """Verify a compact JWS against a JWKS (``{"keys": [...]}`` or a list of JWKs).

    Only ``alg`` ``Ed25519`` and ``EdDSA``; the ``kid`` header is required and must match
    exactly one Ed25519 key. Raises :class:`JWSError` on any problem.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise JWSError("malformed token")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("malformed token")
    try:
        header_bytes, _, signature = (b64url_decode(part) for part in parts)
        header = loads_bounded(header_bytes, object_pairs_hook=_no_duplicates)
    except ValueError as exc:
        raise JWSError("malformed token") from exc
    if not isinstance(header, dict):
        raise JWSError("malformed header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ACCEPTED_ALGS:  # a list is unhashable: check the type first
        raise JWSError("algorithm not allowed")
    if "crit" in header or "b64" in header:
        raise JWSError("unsupported critical header")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JWSError("missing kid")
    if len(signature) != 64:
        raise JWSError("bad signature")
    public_key = _find_key(jwks, kid, JWSError)
    try:
        verified = jws.deserialize_compact(token, OKPKey.import_key(public_key), registry=_VERIFY_REGISTRY)
    except JWSError:
        raise
    except BadSignatureError as exc:
        raise JWSError("bad signature") from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise JWSError("malformed token") from exc
    return VerifiedJWS(header=header, payload=verified.payload, kid=kid)


# --- DSSE -------------------------------------------------------------------------------


class VerifiedDSSE(NamedTuple):
    """A DSSE envelope with a valid signature: payload type, payload bytes, signing key id."""

    payload_type: str
    payload: bytes
    keyid: str


def dsse_pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def _b64std_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64std_decode(text: object) -> bytes:
    """Strict standard base64 (RFC 4648 §4, padded); ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("invalid base64") from exc
    if _b64std_encode(data) != text:
        raise ValueError("non-canonical base64")
    return data


def dsse_sign(payload_type: str, payload: bytes, private_key: Ed25519PrivateKey, keyid: str) -> dict[str, Any]:
    """A DSSE envelope with one Ed25519 signature by ``keyid``."""
    signature = private_key.sign(dsse_pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": _b64std_encode(payload),
        "signatures": [{"keyid": keyid, "sig": _b64std_encode(signature)}],
    }


def dsse_verify(envelope: Mapping[str, Any], jwks: Jwks) -> VerifiedDSSE:
    """Verify a DSSE envelope; the first signature by a key in ``jwks`` that verifies wins.

    Envelope shape is strict: exactly ``payloadType`` (non-empty string), ``payload`` and
    ``signatures`` (1 to 16 objects with ``sig`` and ``keyid``), standard padded base64.
    A signature by an unknown keyid is skipped; one by a known key that fails is an error.
    """
    if not isinstance(envelope, Mapping) or set(envelope) != {
        "payloadType",
        "payload",
        "signatures",
    }:
        raise DSSEError("malformed envelope")
    payload_type = envelope["payloadType"]
    signatures = envelope["signatures"]
    if not isinstance(payload_type, str) or not payload_type:
        raise DSSEError("malformed payloadType")
    try:
        payload = _b64std_decode(envelope["payload"])
    except ValueError as exc:
        raise DSSEError("malformed payload") from exc
    if not isinstance(signatures, list) or not 1 <= len(signatures) <= DSSE_MAX_SIGNATURES:
        raise DSSEError("malformed signatures")
    parsed: list[tuple[str, bytes]] = []
    for item in signatures:
        if not isinstance(item, Mapping) or set(item) != {"keyid", "sig"}:
            raise DSSEError("malformed signature")
        keyid = item["keyid"]
        if not isinstance(keyid, str):
            raise DSSEError("malformed keyid")
        try:
            parsed.append((keyid, _b64std_decode(item["sig"])))
        except ValueError as exc:
            raise DSSEError("malformed sig") from exc
    try:
        known = _keys_by_kid(jwks)
    except VerificationError as exc:
        raise DSSEError(exc.reason) from exc
    message = dsse_pae(payload_type, payload)
    for keyid, sig in parsed:
        if keyid not in known:
            continue
        public_key = _find_key(jwks, keyid, DSSEError)
        try:
            public_key.verify(sig, message)
        except InvalidSignature as exc:
            raise DSSEError("bad signature") from exc
        return VerifiedDSSE(payload_type, payload, keyid)
    raise DSSEError("no signature by a known key")


# --- C2SP signed notes and checkpoints ----------------------------------------------------

_SIG_PREFIX = "\u2014 "  # em dash, space
_HEX8 = re.compile(r"^[0-9a-f]{8}$")
_TREE_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")


class NoteVerifier(NamedTuple):
    """A parsed verifier key: key name, 4-byte key id, Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class Checkpoint:
    """A verified tlog checkpoint: the log's origin, its tree size and root hash."""

    origin: str
    size: int
    root: bytes


def _valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(_is_space(ch) for ch in name)


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Zs"


def note_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x01 || public key)[:4]``, the Ed25519 signed-note key id."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public_key).digest()[:4]


def verifier_key_string(name: str, public_key: bytes | Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """``<name>+<8 hex key id>+<base64(0x01 || public key)>``, as served at ``/log/key``."""
    if not _valid_key_name(name):
        raise ValueError("key names are non-empty, without spaces or '+'")
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    material = _b64std_encode(b"\x01" + raw)
    return f"{name}+{note_key_id(name, raw).hex()}+{material}"


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse and check a verifier key string; NoteError if malformed or its id mismatches."""
    if not isinstance(vkey, str):
        raise NoteError("malformed verifier key")
    # The base64 part may itself contain '+', so split from the left, twice.
    name, _, rest = vkey.partition("+")
    key_hash, _, material = rest.partition("+")
    if not _valid_key_name(name) or not _HEX8.match(key_hash):
        raise NoteError("malformed verifier key")
    try:
        raw = _b64std_decode(material)
    except ValueError as exc:
        raise NoteError("malformed verifier key") from exc
    if len(raw) != 33 or raw[0] != 0x01:
        raise NoteError("verifier key is not an Ed25519 key")
    if note_key_id(name, raw[1:]).hex() != key_hash:
        raise NoteError("verifier key id does not match the key")
    return NoteVerifier(name, bytes.fromhex(key_hash), Ed25519PublicKey.from_public_bytes(raw[1:]))


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The tlog-checkpoint note text: ``origin\\nsize\\nbase64(root)\\n``."""
    if not origin or "\n" in origin or size < 0 or len(root) != 32:
        raise ValueError("bad checkpoint fields")
    return f"{origin}\n{size}\n{_b64std_encode(root)}\n"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """``body`` + blank line + ``— name base64(key id || Ed25519 signature)``."""
    if not body.endswith("\n") or _has_control_chars(body):
        raise ValueError("note text must end in a newline and contain no control characters")
    if not _valid_key_name(name):
        raise ValueError("key names are non-empty, without spaces or '+'")
    key_id = note_key_id(name, public_key_bytes(private_key))
    signature = private_key.sign(body.encode("utf-8"))
    return f"{body}\n{_SIG_PREFIX}{name} {_b64std_encode(key_id + signature)}\n"


def _has_control_chars(text: str) -> bool:
    return any(ch < " " and ch != "\n" for ch in text)


def verify_note(note: str, verifier_key: str) -> str:
    """Verify a signed note with one verifier key; return its text (ending in a newline).

    Signatures by other keys are ignored (as c2sp.org/signed-note requires); a failing
    signature by our key rejects the note, and so does the absence of one.
    """
    verifier = parse_verifier_key(verifier_key)
    if not isinstance(note, str) or not note.endswith("\n") or _has_control_chars(note):
        raise NoteError("malformed note")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError("malformed note") from exc
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note")
    text, signature_block = note[: split + 1], note[split + 2 :]
    lines = signature_block.split("\n")[:-1]
    if not lines or len(lines) > NOTE_MAX_SIGNATURES:
        raise NoteError("malformed note")
    verified = False
    for line in lines:
        if not line.startswith(_SIG_PREFIX):
            raise NoteError("malformed signature line")
        name, space, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        if not space or not _valid_key_name(name):
            raise NoteError("malformed signature line")
        try:
            blob = _b64std_decode(encoded)
        except ValueError as exc:
            raise NoteError("malformed signature line") from exc
        if len(blob) < 5:
            raise NoteError("malformed signature line")
        if name != verifier.name or blob[:4] != verifier.key_id:
            continue
        if verified:
            raise NoteError("duplicate signature")
        try:
            verifier.public_key.verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature as exc:
            raise NoteError("bad signature") from exc
        verified = True
    if not verified:
        raise NoteError("no signature by the expected key")
    return text


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse checkpoint note text (origin, size, base64 root, optional extension lines)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("malformed checkpoint")
    origin, size, root_b64 = lines[0], lines[1], lines[2]
    if not _TREE_SIZE.match(size):
        raise NoteError("malformed checkpoint size")
    try:
        root = _b64std_decode(root_b64)
    except ValueError as exc:
        raise NoteError("malformed checkpoint root") from exc
    if len(root) != 32:
        raise NoteError("malformed checkpoint root")
    return Checkpoint(origin=origin, size=int(size), root=root)


def verify_checkpoint(note: str, verifier_key: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and parse it; ``origin``, if given, must match its first line."""
    checkpoint = parse_checkpoint_body(verify_note(note, verifier_key))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError("unexpected origin")
    return checkpoint
