"""Receipts are signed per answer with the same bytes as before (issue 17's faster signing):
each compact JWS equals joserfc's for the same header and payload (Ed25519 is deterministic), and
an independent check with ``cryptography`` accepts the signature."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import OKPKey

from registry.lib.signing import sign_compact


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize(
    ("payload", "typ"),
    [
        (b'{"decision":"permitted"}', "restu-receipt+jws"),
        ('{"name":"Ça va ☃ 𝄞"}'.encode(), None),
        (b"", "x"),
        (bytes(range(256)), None),
    ],
)
def test_a_compact_signature_is_joserfcs_byte_for_byte_and_verifies(payload: bytes, typ: str | None) -> None:
    key = Ed25519PrivateKey.generate()
    token = sign_compact(payload, key, "kid-1", typ=typ)
    header = {"alg": "Ed25519", "kid": "kid-1", **({"typ": typ} if typ else {})}
    registry = jws.JWSRegistry(algorithms=["Ed25519"])
    assert token == jws.serialize_compact(header, payload, OKPKey.import_key(key), registry=registry)
    head, body, signature = token.split(".")
    assert json.loads(_b64(head)) == header
    assert _b64(body) == payload
    key.public_key().verify(_b64(signature), f"{head}.{body}".encode())  # raises if it does not verify


def test_every_signature_is_made_afresh() -> None:
    key = Ed25519PrivateKey.generate()
    first = sign_compact(b'{"jti":"rcp_1"}', key, "k")
    second = sign_compact(b'{"jti":"rcp_2"}', key, "k")
    assert first.split(".")[2] != second.split(".")[2]
