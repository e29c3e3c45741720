"""Test helpers for restu-verify: hand-made tokens, notes, RFC 9162 proofs and a fake log.

Everything here is built with `cryptography` and the standard library alone, following the
specifications directly, so the tests do not check the client against itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def make_jws(header: dict[str, Any], payload: bytes, key: Ed25519PrivateKey) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


def jwk_for(key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public(key)), "kid": kid, "use": "sig"}


# --- RFC 9162 reference, straight from the text ------------------------------------------


def mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])).digest()


def subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [mth(hashes)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, hashes[:k], complete), mth(hashes[k:])]
    return [*subproof(m - k, hashes[k:], False), mth(hashes[:k])]


def leaf_bytes(leaf: dict[str, Any]) -> bytes:
    # JCS for ASCII keys and string/int values is exactly this.
    return json.dumps(leaf, sort_keys=True, separators=(",", ":")).encode()


def note_key_id(name: str, key: Ed25519PrivateKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + raw_public(key)).digest()[:4]


def verifier_key(name: str, key: Ed25519PrivateKey) -> str:
    material = base64.b64encode(b"\x01" + raw_public(key)).decode()
    return f"{name}+{note_key_id(name, key).hex()}+{material}"


def signed_checkpoint(name: str, key: Ed25519PrivateKey, size: int, root: bytes) -> str:
    body = f"{name}\n{size}\n{base64.b64encode(root).decode()}\n"
    signature = base64.b64encode(note_key_id(name, key) + key.sign(body.encode())).decode()
    return f"{body}\n\u2014 {name} {signature}\n"


# --- a fake registry ------------------------------------------------------------------------


@dataclass
class FakeLog:
    """The state a fake registry serves; tests mutate it between audits."""

    name: str = "restu.test/log"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    leaves: list[dict[str, Any]] = field(default_factory=list)
    page_cap: int = 3  # the server returns at most this many entries per request
    jwks: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Callable[[dict[str, list[str]]], tuple[int, str, bytes]]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def add(self, count: int) -> None:
        for _ in range(count):
            n = len(self.leaves)
            self.leaves.append({"type": "consent.signed", "id": f"con_{n:04d}", "digest": f"sha256:{n:064x}", "at": n})

    def hashes(self) -> list[bytes]:
        return [hashlib.sha256(b"\x00" + leaf_bytes(leaf)).digest() for leaf in self.leaves]

    def checkpoint(self) -> str:
        return signed_checkpoint(self.name, self.key, len(self.leaves), mth(self.hashes()))

    def entry(self, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "leaf": self.leaves[index],
            "leaf_hash": base64.b64encode(self.hashes()[index]).decode(),
        }

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        self.requests.append(path)
        if path in self.overrides:
            return self.overrides[path](query)
        if path == "/api/v1/log/key":
            return 200, "text/plain", verifier_key(self.name, self.key).encode()
        if path == "/api/v1/log/checkpoint":
            return 200, "text/plain", self.checkpoint().encode()
        if path == "/api/v1/log/entries":
            start, end = int(query["start"][0]), int(query["end"][0])
            end = min(end, start + self.page_cap, len(self.leaves))
            body = {"entries": [self.entry(i) for i in range(start, end)]}
            return 200, "application/json", json.dumps(body).encode()
        if path == "/api/v1/log/proof/consistency":
            first, second = int(query["first"][0]), int(query["second"][0])
            proof = subproof(first, self.hashes()[:second], True)
            body = {"first": first, "second": second, "proof": [base64.b64encode(p).decode() for p in proof]}
            return 200, "application/json", json.dumps(body).encode()
        if path == "/.well-known/jwks.json":
            return 200, "application/json", json.dumps(self.jwks).encode()
        return 404, "application/json", b'{"title": "Not found"}'
