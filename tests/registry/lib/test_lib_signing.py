"""Ed25519 keys, compact JWS, DSSE and C2SP signed notes, cross-checked with `cryptography`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from registry.lib.canonical import b64url_decode, b64url_encode
from registry.lib.signing import (
    Checkpoint,
    DSSEError,
    JWSError,
    NoteError,
    VerificationError,
    checkpoint_body,
    dsse_pae,
    dsse_sign,
    dsse_verify,
    generate_private_key,
    jwk_thumbprint,
    load_or_create_private_key,
    load_private_key,
    normalize_public_jwk,
    note_key_id,
    parse_verifier_key,
    private_key_from_jwk,
    private_key_from_pem,
    private_key_to_jwk,
    private_key_to_pem,
    public_jwk,
    public_key_bytes,
    sign_compact,
    sign_note,
    verifier_key_string,
    verify_checkpoint,
    verify_compact,
    verify_note,
)

# RFC 8037 Appendix A: the Ed25519 key, its thumbprint and the JWS of "Example of Ed25519 signing".
RFC8037_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

# golang.org/x/mod/sumdb/note, note_test.go: the PeterNeumann key and its signed note.
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    return public_jwk(key)


def _segment(value: dict[str, Any] | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return b64url_encode(raw)


def _raw_jws(header: dict[str, Any], payload: bytes, key: Ed25519PrivateKey) -> str:
    """A compact JWS made with `cryptography` alone, independently of joserfc."""
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


# --- keys ---------------------------------------------------------------------------------


def test_rfc_8037_key_thumbprint_and_signature() -> None:
    key = private_key_from_jwk(RFC8037_JWK)
    assert jwk_thumbprint(RFC8037_JWK) == RFC8037_THUMBPRINT
    assert public_jwk(key)["kid"] == RFC8037_THUMBPRINT
    signing_input, _, signature = RFC8037_JWS.rpartition(".")
    assert b64url_encode(key.sign(signing_input.encode())) == signature


def test_thumbprint_agrees_with_joserfc(jwk: dict[str, str]) -> None:
    assert jwk_thumbprint(jwk) == OKPKey.import_key(normalize_public_jwk(jwk)).thumbprint()


def test_thumbprint_ignores_optional_members_and_refuses_other_key_types(jwk: dict[str, str]) -> None:
    assert jwk_thumbprint({**jwk, "use": "sig", "alg": "EdDSA"}) == jwk_thumbprint(jwk)
    for bad in [
        {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["x"]},
        {"kty": "OKP", "crv": "X25519", "x": jwk["x"]},
        {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"][:-2]},
        {"kty": "OKP", "crv": "Ed25519"},
    ]:
        with pytest.raises(ValueError, match=r"Ed25519|x must|base64url"):
            jwk_thumbprint(bad)


def test_private_jwk_and_pem_round_trip(key: Ed25519PrivateKey) -> None:
    jwk = private_key_to_jwk(key, kid="k1")
    assert jwk["kid"] == "k1"
    assert public_key_bytes(private_key_from_jwk(jwk)) == public_key_bytes(key)
    assert public_key_bytes(private_key_from_pem(private_key_to_pem(key))) == public_key_bytes(key)


def test_private_jwk_with_mismatched_public_part_is_refused(key: Ed25519PrivateKey) -> None:
    other = public_jwk(generate_private_key())
    with pytest.raises(ValueError, match="x does not match"):
        private_key_from_jwk({**private_key_to_jwk(key), "x": other["x"]})
    with pytest.raises(ValueError, match="d member"):
        private_key_from_jwk(public_jwk(key))


def test_pem_of_another_key_type_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        private_key_from_pem(pem)
    with pytest.raises(ValueError, match="not an unencrypted PEM"):
        private_key_from_pem(b"not a pem")


def test_key_file_is_created_once_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "registry.pem"
    first = load_or_create_private_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert public_key_bytes(load_or_create_private_key(path)) == public_key_bytes(first)
    assert [p.name for p in path.parent.iterdir()] == ["registry.pem"]


def test_key_file_may_hold_a_jwk(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(private_key_to_jwk(key)))
    assert public_key_bytes(load_private_key(path)) == public_key_bytes(key)


# --- compact JWS ------------------------------------------------------------------------


def test_sign_compact_uses_fully_specified_alg_and_verifies_with_cryptography(
    key: Ed25519PrivateKey, jwk: dict[str, str]
) -> None:
    token = sign_compact(b'{"a":1}', key, jwk["kid"], typ="receipt+jws")
    header_b64, payload_b64, sig_b64 = token.split(".")
    assert json.loads(b64url_decode(header_b64)) == {"alg": "Ed25519", "kid": jwk["kid"], "typ": "receipt+jws"}
    assert b64url_decode(payload_b64) == b'{"a":1}'
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    public.verify(b64url_decode(sig_b64), f"{header_b64}.{payload_b64}".encode())


def test_verify_compact_accepts_our_tokens(key: Ed25519PrivateKey, jwk: dict[str, str]) -> None:
    token = sign_compact(b'{"a":1}', key, jwk["kid"])
    for jwks in ({"keys": [jwk]}, [jwk], {"keys": [public_jwk(generate_private_key()), jwk]}):
        verified = verify_compact(token, jwks)
        assert verified.payload == b'{"a":1}'
        assert verified.kid == jwk["kid"]
        assert verified.header["alg"] == "Ed25519"
        assert verified.json() == {"a": 1}


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_verify_compact_accepts_tokens_made_with_cryptography_alone(
    key: Ed25519PrivateKey, jwk: dict[str, str], alg: str
) -> None:
    token = _raw_jws({"alg": alg, "kid": jwk["kid"], "x-extra": 1}, b"\x00binary\xff", key)
    assert verify_compact(token, [jwk]).payload == b"\x00binary\xff"


def _hs256(header: dict[str, Any], payload: bytes, secret: bytes) -> str:
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def _forgeries(key: Ed25519PrivateKey, jwk: dict[str, str]) -> dict[str, str]:
    kid = jwk["kid"]
    good = sign_compact(b"payload", key, kid)
    h, p, s = good.split(".")
    other_payload = sign_compact(b"other", key, kid).split(".")[1]
    zero_sig = b64url_encode(bytes(64))
    return {
        "alg none": f"{_segment({'alg': 'none', 'kid': kid})}.{p}.",
        "alg none with signature": f"{_segment({'alg': 'none', 'kid': kid})}.{p}.{s}",
        # The classic confusion attack: HMAC keyed with the public key bytes.
        "HS256 with public key": _hs256({"alg": "HS256", "kid": kid}, b"payload", b64url_decode(jwk["x"])),
        "HS256 with x string": _hs256({"alg": "HS256", "kid": kid}, b"payload", jwk["x"].encode()),
        "RS256": f"{_segment({'alg': 'RS256', 'kid': kid})}.{p}.{s}",
        "ES256": f"{_segment({'alg': 'ES256', 'kid': kid})}.{p}.{s}",
        "Ed448": f"{_segment({'alg': 'Ed448', 'kid': kid})}.{p}.{s}",
        "lower-case alg": _raw_jws({"alg": "ed25519", "kid": kid}, b"payload", key),
        "missing alg": _raw_jws({"kid": kid}, b"payload", key),
        "missing kid": _raw_jws({"alg": "Ed25519"}, b"payload", key),
        "kid not a string": _raw_jws({"alg": "Ed25519", "kid": 7}, b"payload", key),
        "unknown kid": sign_compact(b"payload", key, "nobody"),
        "wrong payload": f"{h}.{other_payload}.{s}",
        "other key same kid": sign_compact(b"payload", generate_private_key(), kid),
        "zero signature": f"{h}.{p}.{zero_sig}",
        # Three bytes short, canonically encoded. (Cutting characters instead left a valid encoding
        # only when the last kept character's spare bits happened to be zero, 1 key in 16: the
        # reason then changed from "malformed token" to "bad signature", and the test flaked.)
        "short signature": f"{h}.{p}.{b64url_encode(b64url_decode(s)[:-3])}",
        "cut signature": f"{h}.{p}.{s[:-1]}",
        "flipped signature": f"{h}.{p}.{b64url_encode(bytes([b64url_decode(s)[0] ^ 1]) + b64url_decode(s)[1:])}",
        "padded base64": f"{h}.{p}.{s}==",
        "standard base64": f"{h}.{p}.{base64.b64encode(b64url_decode(s)).decode()}",
        "whitespace": f"{h}.{p} .{s}",
        "two segments": f"{h}.{p}",
        "four segments": f"{good}.{s}",
        "empty": "",
        "header not JSON": f"{b64url_encode(b'not json')}.{p}.{s}",
        "header not an object": f"{_segment(b'[1]')}.{p}.{s}",
        "duplicate alg": _raw_jws_text('{"alg":"none","alg":"Ed25519","kid":"' + kid + '"}', b"payload", key),
        "crit header": _raw_jws({"alg": "Ed25519", "kid": kid, "crit": ["exp"], "exp": 1}, b"payload", key),
        "unencoded payload": _raw_jws({"alg": "Ed25519", "kid": kid, "b64": False, "crit": ["b64"]}, b"payload", key),
        "JSON serialization": json.dumps({"protected": h, "payload": p, "signature": s}),
    }


def _raw_jws_text(header: str, payload: bytes, key: Ed25519PrivateKey) -> str:
    signing_input = f"{b64url_encode(header.encode())}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


_EXPECTED_REASON = {
    "missing kid": "missing kid",
    "kid not a string": "missing kid",
    "unknown kid": "unknown kid",
    "wrong payload": "bad signature",
    "other key same kid": "bad signature",
    "zero signature": "bad signature",
    "flipped signature": "bad signature",
    "short signature": "bad signature",
    "header not an object": "malformed header",
    "crit header": "unsupported critical header",
    "unencoded payload": "unsupported critical header",
}


def test_forged_and_malformed_tokens_are_refused(key: Ed25519PrivateKey, jwk: dict[str, str]) -> None:
    forgeries = _forgeries(key, jwk)
    for name, token in forgeries.items():
        with pytest.raises(JWSError) as caught:
            verify_compact(token, [jwk])
        if name.startswith(("alg", "HS", "RS", "ES", "Ed448", "lower-case", "missing alg")):
            expected = "algorithm not allowed"
        else:
            expected = _EXPECTED_REASON.get(name, "malformed token")
        assert (name, caught.value.reason) == (name, expected)
    assert issubclass(JWSError, ValueError)


def test_keys_that_do_not_fit_are_refused(key: Ed25519PrivateKey, jwk: dict[str, str]) -> None:
    token = sign_compact(b"payload", key, jwk["kid"])
    for jwks in [
        [],
        {"keys": "nope"},
        {"nokeys": []},
        [{**jwk, "use": "enc"}],
        [jwk, jwk],  # the same kid twice is ambiguous
        [{"kty": "EC", "crv": "P-256", "kid": jwk["kid"], "x": jwk["x"], "y": jwk["x"]}],
        [{"kty": "oct", "k": jwk["x"], "kid": jwk["kid"]}],
        [{**jwk, "x": jwk["x"][:-1]}],
    ]:
        with pytest.raises(JWSError):
            verify_compact(token, jwks)  # type: ignore[arg-type]


def test_verified_payload_must_be_an_object_to_read_as_json(key: Ed25519PrivateKey, jwk: dict[str, str]) -> None:
    for payload in [b"[1]", b"not json", b'{"a":1,"a":2}']:
        with pytest.raises(JWSError):
            verify_compact(sign_compact(payload, key, jwk["kid"]), [jwk]).json()


def test_the_rfc_8037_token_is_refused_for_lack_of_a_kid() -> None:
    jwk = {k: v for k, v in RFC8037_JWK.items() if k != "d"} | {"kid": RFC8037_THUMBPRINT}
    with pytest.raises(JWSError, match="missing kid"):
        verify_compact(RFC8037_JWS, [jwk])


# --- DSSE -----------------------------------------------------------------------------------


def test_pae_matches_the_dsse_specification_example() -> None:
    assert (
        dsse_pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert dsse_pae("t\u00e9", b"") == "DSSEv1 3 t\u00e9 0 ".encode()


def test_dsse_sign_verifies_with_cryptography_and_back(key: Ed25519PrivateKey, jwk: dict[str, str]) -> None:
    payload = b'{"_type":"https://in-toto.io/Statement/v1"}'
    envelope = dsse_sign("application/vnd.in-toto+json", payload, key, jwk["kid"])
    assert base64.b64decode(envelope["payload"]) == payload
    sig = base64.b64decode(envelope["signatures"][0]["sig"])
    pae = b"DSSEv1 28 application/vnd.in-toto+json %d %b" % (len(payload), payload)
    key.public_key().verify(sig, pae)
    assert dsse_verify(envelope, [jwk]) == ("application/vnd.in-toto+json", payload, jwk["kid"])

    by_hand = {
        "payloadType": "text/plain",
        "payload": base64.b64encode(b"hi").decode(),
        "signatures": [
            {"keyid": "someone-else", "sig": base64.b64encode(bytes(64)).decode()},
            {"keyid": jwk["kid"], "sig": base64.b64encode(key.sign(b"DSSEv1 10 text/plain 2 hi")).decode()},
        ],
    }
    verified = dsse_verify(by_hand, {"keys": [jwk]})
    assert (verified.payload_type, verified.payload, verified.keyid) == ("text/plain", b"hi", jwk["kid"])


def test_malformed_or_forged_envelopes_are_refused(key: Ed25519PrivateKey, jwk: dict[str, str]) -> None:
    good = dsse_sign("text/plain", b"hello", key, jwk["kid"])
    sig = good["signatures"][0]
    b64 = base64.b64encode
    bad_envelopes: dict[str, object] = {
        "not an object": [good],
        "missing payload": {k: v for k, v in good.items() if k != "payload"},
        "extra member": {**good, "extra": 1},
        "empty payloadType": {**good, "payloadType": ""},
        "payloadType not a string": {**good, "payloadType": 1},
        "payload not base64": {**good, "payload": "***"},
        "payload unpadded": {**good, "payload": good["payload"].rstrip("=")},
        "payload urlsafe": {**good, "payload": b64(b"\xfb\xff\xfe").decode().replace("+", "-").replace("/", "_")},
        "signatures not a list": {**good, "signatures": sig},
        "no signatures": {**good, "signatures": []},
        "too many signatures": {**good, "signatures": [sig] * 17},
        "signature missing keyid": {**good, "signatures": [{"sig": sig["sig"]}]},
        "signature extra member": {**good, "signatures": [{**sig, "extra": 1}]},
        "keyid not a string": {**good, "signatures": [{**sig, "keyid": None}]},
        "sig not base64": {**good, "signatures": [{**sig, "sig": "!!"}]},
        "unknown keyid only": {**good, "signatures": [{**sig, "keyid": "nobody"}]},
        "payload changed": {**good, "payload": b64(b"hellO").decode()},
        "payloadType changed": {**good, "payloadType": "text/html"},
        "other key": dsse_sign("text/plain", b"hello", generate_private_key(), jwk["kid"]),
    }
    for name, envelope in bad_envelopes.items():
        with pytest.raises(DSSEError):
            dsse_verify(envelope, [jwk])  # type: ignore[arg-type]
        assert name


# --- signed notes and checkpoints -----------------------------------------------------------


def _go_key() -> Ed25519PrivateKey:
    # The base64 part may contain '+', so split at most four times.
    material = base64.b64decode(GO_SIGNER_KEY.split("+", 4)[4])
    assert material[0] == 0x01
    return Ed25519PrivateKey.from_private_bytes(material[1:])


def test_go_sumdb_note_vector_is_reproduced_byte_for_byte() -> None:
    key = _go_key()
    assert verifier_key_string("PeterNeumann", key) == GO_VERIFIER_KEY
    assert note_key_id("PeterNeumann", public_key_bytes(key)).hex() == "c74f20a3"
    assert sign_note(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    assert verify_note(GO_NOTE, GO_VERIFIER_KEY) == GO_TEXT
    with pytest.raises(NoteError):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), GO_VERIFIER_KEY)


NAME = "restu.example/log"


@pytest.fixture(scope="module")
def log_key() -> Ed25519PrivateKey:
    return generate_private_key()


@pytest.fixture(scope="module")
def vkey(log_key: Ed25519PrivateKey) -> str:
    return verifier_key_string(NAME, log_key)


def test_checkpoint_round_trip_and_independent_signature_check(log_key: Ed25519PrivateKey, vkey: str) -> None:
    root = hashlib.sha256(b"root").digest()
    body = checkpoint_body(NAME, 42, root)
    assert body == f"{NAME}\n42\n{base64.b64encode(root).decode()}\n"
    note = sign_note(body, NAME, log_key)
    assert verify_checkpoint(note, vkey) == Checkpoint(origin=NAME, size=42, root=root)
    assert verify_checkpoint(note, vkey, origin=NAME).size == 42

    # Check the signature line by hand with `cryptography` only.
    line = note.split("\n")[-2]
    assert line.startswith("\u2014 " + NAME + " ")
    blob = base64.b64decode(line.rsplit(" ", 1)[1])
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + public_key_bytes(log_key)).digest()[:4]
    log_key.public_key().verify(blob[4:], body.encode())


def test_checkpoint_from_cryptography_alone_verifies(log_key: Ed25519PrivateKey, vkey: str) -> None:
    body = f"{NAME}\n0\n{base64.b64encode(hashlib.sha256(b'').digest()).decode()}\nextension line\n"
    key_id = hashlib.sha256(NAME.encode() + b"\n\x01" + public_key_bytes(log_key)).digest()[:4]
    sig = base64.b64encode(key_id + log_key.sign(body.encode())).decode()
    cosigner = base64.b64encode(bytes(68)).decode()
    note = f"{body}\n\u2014 witness.example {cosigner}\n\u2014 {NAME} {sig}\n"
    assert verify_checkpoint(note, vkey) == Checkpoint(NAME, 0, hashlib.sha256(b"").digest())


def test_bad_checkpoints_are_refused(log_key: Ed25519PrivateKey, vkey: str) -> None:
    root = bytes(32)
    note = sign_note(checkpoint_body(NAME, 7, root), NAME, log_key)
    sig_line = note.split("\n")[-2]
    other = generate_private_key()

    def signed(body: str) -> str:
        return sign_note(body, NAME, log_key)

    b64root = base64.b64encode(root).decode()
    bad = {
        "size changed": note.replace("\n7\n", "\n8\n"),
        "other key": sign_note(checkpoint_body(NAME, 7, root), NAME, other),
        "other name": sign_note(checkpoint_body(NAME, 7, root), "other.example", log_key),
        "no blank line": note.replace("\n\n", "\n"),
        "no signature": checkpoint_body(NAME, 7, root) + "\n",
        "missing final newline": note[:-1],
        "duplicate signature": note + sig_line + "\n",
        "failing signature by our key next to a good one": note + sig_line[:-8] + "AAAAAAA=\n",
        "signature line without em dash": note.replace("\u2014", "-"),
        "signature not base64": note.replace(sig_line, f"\u2014 {NAME} !!!"),
        "control character": signed(f"{NAME}\n7\n{b64root}\n").replace("\n7\n", "\n7\t\n"),
        "leading zero size": signed(f"{NAME}\n07\n{b64root}\n"),
        "negative size": signed(f"{NAME}\n-7\n{b64root}\n"),
        "short root": signed(f"{NAME}\n7\n{base64.b64encode(bytes(31)).decode()}\n"),
        "unpadded root": signed(f"{NAME}\n7\n{b64root.rstrip('=')}\n"),
        "two lines only": signed(f"{NAME}\n7\n"),
        "empty extension line": signed(f"{NAME}\n7\n{b64root}\n\next\n"),
    }
    for name, text in bad.items():
        with pytest.raises(NoteError):
            verify_checkpoint(text, vkey)
        assert name
    with pytest.raises(NoteError, match="origin"):
        verify_checkpoint(note, vkey, origin="elsewhere.example")


def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    name, key_hash, material = vkey.split("+", 2)
    wrong_type = base64.b64encode(b"\x02" + base64.b64decode(material)[1:]).decode()
    for bad in [
        f"{name}+{'0' * 8}+{material}",
        f"{name}+{key_hash.upper()}+{material}",
        f"{name}+{key_hash}+{material[:-2]}",
        f"{name}+{key_hash}+{wrong_type}",
        f"+{key_hash}+{material}",
        f"na me+{key_hash}+{material}",
        f"{name}+{key_hash}",
        name,
    ]:
        with pytest.raises(NoteError):
            parse_verifier_key(bad)
        with pytest.raises(VerificationError):
            verify_note(GO_NOTE, bad)
    assert parse_verifier_key(vkey).name == name


def test_note_signing_refuses_bad_input(log_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError, match="newline"):
        sign_note("no final newline", NAME, log_key)
    with pytest.raises(ValueError, match="key names"):
        sign_note("text\n", "bad+name", log_key)
    with pytest.raises(ValueError, match="checkpoint fields"):
        checkpoint_body(NAME, 1, b"short")


def test_verification_errors_share_one_base_class() -> None:
    for error in (JWSError, DSSEError, NoteError):
        assert issubclass(error, VerificationError)
        assert issubclass(error, ValueError)
    with pytest.raises(InvalidSignature):
        # Sanity check that the independent verifier used above does reject forgeries.
        generate_private_key().public_key().verify(bytes(64), b"x")
