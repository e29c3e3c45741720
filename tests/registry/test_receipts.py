"""Receipts: signed by the registry's receipt key, checked independently, and refused when forged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import transaction
from restu_verify import VerificationError, verify_receipt
from restu_verify.merkle import verify_inclusion

from registry import keys
from registry.lib.canonical import canonical_json, sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.signing import sign_compact
from registry.receipts import RECEIPT_TYPE, receipt_sign, receipt_verify
from registry.transparency.services import log_append, tree_head

VERIFY = "/api/v1/receipts/verify"


@pytest.fixture(autouse=True)
def key_file(settings, tmp_path):
    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "registry-keys.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    return settings.REGISTRY_SIGNING_KEY_FILE


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(header: dict, payload: dict | bytes, signature: bytes = b"") -> str:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"{b64url(json.dumps(header).encode())}.{b64url(body)}.{b64url(signature)}"


def claims() -> dict:
    return {
        "sub": new_public_id("sub"),
        "aud": new_public_id("org"),
        "query": {"medium": "face", "activity": "generate", "purpose": "film_tv", "territory": "ID"},
        "decision": "permitted",
        "consent": new_public_id("con"),
        "consent_digest": sha256_digest(b"consent"),
    }


def check(anon, token) -> dict:
    response = anon.post(VERIFY, {"receipt": token}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_a_receipt_verifies_with_cryptography_directly_against_the_jwks(anon):
    token = receipt_sign(claims=claims())
    head, body, signature = token.split(".")
    header = json.loads(b64url_decode(head))
    assert header["alg"] == "Ed25519"
    assert header["typ"] == RECEIPT_TYPE
    jwks = anon.get("/.well-known/jwks.json").json()
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    public.verify(b64url_decode(signature), f"{head}.{body}".encode("ascii"))  # raises if wrong
    with pytest.raises(InvalidSignature):
        public.verify(b64url_decode(signature), f"{head}.{body}x".encode("ascii"))
    payload = json.loads(b64url_decode(body))
    assert b64url_decode(body) == canonical_json(payload)
    assert verify_receipt(token, jwks) == payload  # and with the offline client


@pytest.mark.django_db
def test_a_receipt_carries_issuer_time_id_and_the_log_position(anon, settings):
    with transaction.atomic():
        entry = log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
    for _ in range(4):
        with transaction.atomic():
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
    given = claims()
    before = int(time.time())
    token = receipt_sign(claims=given, log_index=entry.index)
    result = check(anon, token)
    assert result["valid"] is True
    assert result["reason"] is None
    payload = result["payload"]
    assert {k: payload[k] for k in given} == given
    assert payload["iss"] == settings.REGISTRY_ISSUER
    assert before - 1 <= payload["iat"] <= time.time() + 1
    assert payload["jti"].startswith("rcp_")
    head = tree_head()
    assert payload["log"] == {"index": 0, "tree_size": 5, "root": base64.b64encode(head.root).decode()}
    # The log position is provable: the leaf is in the tree the receipt names.
    proof = anon.get("/api/v1/log/proof/inclusion?index=0&tree_size=5").json()
    assert verify_inclusion(
        0,
        5,
        bytes(entry.leaf_hash),
        [base64.b64decode(h) for h in proof["audit_path"]],
        base64.b64decode(payload["log"]["root"]),
    )
    assert receipt_sign(claims={}) != receipt_sign(claims={})  # a fresh jti each time


@pytest.mark.django_db
def test_tampered_receipts_are_invalid(anon):
    token = receipt_sign(claims=claims())
    head, body, signature = token.split(".")
    payload = json.loads(b64url_decode(body))
    payload["decision"] = "denied"
    forged_body = b64url(canonical_json(payload))
    sig = bytearray(b64url_decode(signature))
    sig[0] ^= 1
    for forged in (
        f"{head}.{forged_body}.{signature}",
        f"{head}.{body}.{b64url(bytes(sig))}",
        f"{head}.{body}.",
        f"{head}.{body}",
        f"{head}.{body}.{signature}.{signature}",
        f"{b64url(json.dumps({'alg': 'Ed25519', 'kid': 'other'}).encode())}.{body}.{signature}",
    ):
        result = check(anon, forged)
        assert result["valid"] is False, forged
        assert result["reason"]
        assert result["payload"] is None
        assert receipt_verify(forged).valid is False


@pytest.mark.django_db
def test_alg_none_is_refused(anon):
    kid = keys.keyring().active(keys.RECEIPT).kid
    payload = {"iss": "https://restu.example", "iat": int(time.time()), "decision": "permitted"}
    for alg in ("none", "None", "NONE", ""):
        token = compact({"alg": alg, "kid": kid}, payload)
        assert check(anon, token)["valid"] is False
    assert check(anon, compact({"kid": kid}, payload))["valid"] is False


@pytest.mark.django_db
def test_hs256_signed_with_the_public_key_as_secret_is_refused(anon):
    # The classic key-confusion forgery: HMAC keyed with the published public key.
    jwks = anon.get("/.well-known/jwks.json").json()
    jwk = jwks["keys"][0]
    payload = b64url(canonical_json({"iss": "https://restu.example", "iat": int(time.time()), "decision": "x"}))
    for secret in (b64url_decode(jwk["x"]), jwk["x"].encode(), json.dumps(jwk).encode()):
        head = b64url(json.dumps({"alg": "HS256", "kid": jwk["kid"], "typ": "JWT"}).encode())
        mac = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{head}.{payload}.{b64url(mac)}"
        result = check(anon, token)
        assert result["valid"] is False
        with pytest.raises(VerificationError):
            verify_receipt(token, jwks)


@pytest.mark.django_db
def test_a_receipt_signed_by_an_unknown_key_is_invalid(anon, settings):
    stranger = Ed25519PrivateKey.generate()
    payload = {**claims(), "iss": settings.REGISTRY_ISSUER, "iat": int(time.time())}
    for kid in ("unknown-kid", keys.keyring().active(keys.RECEIPT).kid):  # a made-up kid, and a borrowed one
        token = sign_compact(canonical_json(payload), stranger, kid)
        result = check(anon, token)
        assert result["valid"] is False
    # The checkpoint key is the registry's, but not a receipt key.
    checkpoint_key = keys.keyring().active(keys.CHECKPOINT)
    token = sign_compact(canonical_json(payload), checkpoint_key.private_key, checkpoint_key.kid)
    assert check(anon, token)["valid"] is False


@pytest.mark.django_db
def test_the_registry_key_signing_the_wrong_issuer_or_no_time_is_invalid(anon):
    key = keys.keyring().active(keys.RECEIPT)
    for payload in (
        {"iss": "https://evil.example", "iat": int(time.time())},
        {"iss": "https://restu.example"},
        {"iss": "https://restu.example", "iat": "yesterday"},
        {"iss": "https://restu.example", "iat": True},
        {"iss": "https://restu.example", "iat": 10**30},  # beyond any date
        {"iss": "https://restu.example", "iat": -(10**30)},
    ):
        result = check(anon, sign_compact(json.dumps(payload).encode(), key.private_key, key.kid))
        assert result["valid"] is False, payload
    for body in (b"[1, 2]", b"not json", b'{"a": 1, "a": 2}'):
        result = check(anon, sign_compact(body, key.private_key, key.kid))
        assert result["valid"] is False, body


@pytest.mark.django_db
def test_a_retired_key_signing_after_its_retirement_is_invalid(anon):
    old = keys.keyring().active(keys.RECEIPT)
    keys.key_rotate(keys.RECEIPT)
    late = {"iss": "https://restu.example", "iat": int(time.time()) + 3600}
    result = check(anon, sign_compact(canonical_json(late), old.private_key, old.kid))
    assert result["valid"] is False
    assert "validity" in result["reason"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "...",
        "..",
        "é.é.é",
        "eyJhbGciOiJFZDI1NTE5In0.e30.",
        "eyJhbGciOiJFZDI1NTE5In0=.e30=.AAAA",
        "x" * 70000,
        "a" * 60000 + "." + "b" * 10 + ".c",
        12345,
    ],
)
def test_garbage_receipts_are_invalid_or_400_never_500(anon, token):
    response = anon.post(VERIFY, {"receipt": token}, format="json")
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        assert response.json()["valid"] is False
    else:
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        {"alg": ["Ed25519"], "kid": "k"},  # a list where a string belongs
        {"alg": {"x": 1}, "kid": "k"},
        {"alg": "Ed25519", "kid": ["k"]},
        {"alg": "Ed25519", "kid": {"k": 1}},
        {"alg": "Ed25519", "kid": 7},
        {"alg": "Ed25519", "kid": "k", "crit": ["b64"]},
        {"alg": None},
    ],
)
def test_headers_with_wrong_json_types_are_invalid_not_500(anon, header):
    token = compact(header, {"iss": "https://restu.example", "iat": 1}, bytes(64))
    result = check(anon, token)
    assert result["valid"] is False
    assert receipt_verify(token).valid is False


@pytest.mark.django_db
def test_a_header_that_is_not_an_object_is_invalid(anon):
    for head in (b"[]", b'"Ed25519"', b"null", b"not json", b'{"alg":"Ed25519","alg":"none","kid":"k"}'):
        token = f"{b64url(head)}.{b64url(b'{}')}.{b64url(bytes(64))}"
        assert check(anon, token)["valid"] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"receipt": None},
        {"receipt": ""},
        {"receipt": "   "},
        {"receipt": ["a.b.c"]},
        {"receipt": {"jws": "a.b.c"}},
        {"receipt": "a.b.c", "extra": 1},
        {"receipt": "a\x00b.c.d"},
    ],
)
def test_malformed_request_bodies_are_400_problems(anon, body):
    response = anon.post(VERIFY, body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_a_400_problem(anon):
    response = anon.post(VERIFY, b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
