"""Receipts and consent tokens: compact JWS, Ed25519/EdDSA only, kid lookup."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from restu_verify import VerificationError, verify_consent_token, verify_jws, verify_receipt
from restu_verify_fakes import b64url, jwk_for, make_jws

KID = "registry-2027"
RECEIPT = {
    "iss": "https://restu.test",
    "iat": 1_800_000_000,
    "jti": "rcp_1",
    "sub": "sub_1",
    "aud": "org_1",
    "decision": "permitted",
    "log": {"index": 3, "tree_size": 9, "root": "AAAA"},
}


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def jwks(key: Ed25519PrivateKey) -> dict[str, object]:
    retired = jwk_for(Ed25519PrivateKey.generate(), "registry-2026")
    return {"keys": [retired, jwk_for(key, KID)]}


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_a_receipt_signed_with_a_listed_key_verifies(key: Ed25519PrivateKey, jwks: dict[str, object], alg: str) -> None:
    token = make_jws({"alg": alg, "kid": KID, "typ": "restu-receipt+jws"}, json.dumps(RECEIPT).encode(), key)
    assert verify_receipt(token, jwks) == RECEIPT
    verified = verify_jws(token + "\n", jwks["keys"])  # type: ignore[arg-type]
    assert (verified.kid, verified.header["alg"]) == (KID, alg)


def _hs256(payload: bytes, secret: bytes) -> str:
    signing_input = f"{b64url(json.dumps({'alg': 'HS256', 'kid': KID}).encode())}.{b64url(payload)}"
    return f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def test_forged_or_malformed_receipts_are_refused(key: Ed25519PrivateKey, jwks: dict[str, object]) -> None:
    payload = json.dumps(RECEIPT).encode()
    good = make_jws({"alg": "Ed25519", "kid": KID}, payload, key)
    h, p, s = good.split(".")
    x = base64.urlsafe_b64decode(jwk_for(key, KID)["x"] + "=")
    bad = {
        "alg none": f"{b64url(json.dumps({'alg': 'none', 'kid': KID}).encode())}.{p}.",
        "HS256 keyed with the public key": _hs256(payload, x),
        "RS256": f"{b64url(json.dumps({'alg': 'RS256', 'kid': KID}).encode())}.{p}.{s}",
        "unknown kid": make_jws({"alg": "Ed25519", "kid": "nobody"}, payload, key),
        "no kid": make_jws({"alg": "Ed25519"}, payload, key),
        "other key": make_jws({"alg": "Ed25519", "kid": KID}, payload, Ed25519PrivateKey.generate()),
        "payload swapped": f"{h}.{b64url(b'{}')}.{s}",
        "padded": f"{good}==",
        "two parts": f"{h}.{p}",
        "not base64": f"{h}.{p}.{s[:-1]}*",
        "payload not an object": make_jws({"alg": "Ed25519", "kid": KID}, b"[1]", key),
        "payload not JSON": make_jws({"alg": "Ed25519", "kid": KID}, b"hello", key),
        "crit": make_jws({"alg": "Ed25519", "kid": KID, "crit": ["x"], "x": 1}, payload, key),
    }
    for name, token in bad.items():
        with pytest.raises(VerificationError):
            verify_receipt(token, jwks)  # type: ignore[arg-type]
        assert name


def test_keys_that_are_not_ed25519_signing_keys_are_refused(key: Ed25519PrivateKey) -> None:
    token = make_jws({"alg": "Ed25519", "kid": KID}, b"{}", key)
    good = jwk_for(key, KID)
    for jwks in (
        {"keys": []},
        {"keys": [{**good, "crv": "X25519"}]},
        {"keys": [{**good, "use": "enc"}]},
        {"keys": [good, good]},
        {"keys": [{**good, "x": "AAAA"}]},
        {"no": "keys"},
    ):
        with pytest.raises(VerificationError):
            verify_receipt(token, jwks)


def test_consent_tokens_are_checked_for_expiry_and_start(key: Ed25519PrivateKey, jwks: dict[str, object]) -> None:
    now = int(time.time())

    def token(claims: dict[str, object]) -> str:
        header = {"alg": "Ed25519", "kid": KID, "typ": "restu-consent-token+jws"}
        return make_jws(header, json.dumps({"sub": "sub_1", **claims}).encode(), key)

    assert verify_consent_token(token({"exp": now + 300, "nbf": now - 10}), jwks)["sub"] == "sub_1"  # type: ignore[arg-type]
    for claims, message in (
        ({"exp": now - 3600}, "expired"),
        ({"nbf": now + 3600}, "not valid yet"),
        ({"exp": "tomorrow"}, "NumericDate"),
        ({"exp": True}, "NumericDate"),
    ):
        with pytest.raises(VerificationError, match=message):
            verify_consent_token(token(claims), jwks)  # type: ignore[arg-type]


def test_a_consent_token_is_not_a_receipt_and_a_receipt_is_not_a_token(
    key: Ed25519PrivateKey, jwks: dict[str, object]
) -> None:
    now = int(time.time())
    claims = json.dumps({"sub": "sub_1", "nbf": now, "exp": now + 300}).encode()
    token = make_jws({"alg": "Ed25519", "kid": KID, "typ": "restu-consent-token+jws"}, claims, key)
    receipt = make_jws({"alg": "Ed25519", "kid": KID, "typ": "restu-receipt+jws"}, claims, key)
    with pytest.raises(VerificationError):
        verify_receipt(token, jwks)  # type: ignore[arg-type]
    with pytest.raises(VerificationError):
        verify_consent_token(receipt, jwks)  # type: ignore[arg-type]
