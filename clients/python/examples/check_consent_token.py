"""Check a Restu consent token offline before processing a face (needs only `cryptography`)."""

import base64
import json
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def b64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def check(token: str, jwks: dict, subject: str, medium: str, purpose: str) -> dict:
    head, body, sig = token.split(".")
    header, claims = json.loads(b64(head)), json.loads(b64(body))
    if header.get("alg") not in ("Ed25519", "EdDSA") or header.get("typ") != "restu-consent-token+jws":
        raise ValueError("not a Restu consent token")
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])  # StopIteration: unknown key
    Ed25519PublicKey.from_public_bytes(b64(key["x"])).verify(b64(sig), f"{head}.{body}".encode())
    if not claims["nbf"] <= time.time() < claims["exp"]:
        raise ValueError("token expired or not yet valid")
    use = claims["use"]
    if (use["subject"], use["medium"], use["purpose"]) != (subject, medium, purpose):
        raise ValueError("token is for another use")
    return claims


if __name__ == "__main__":
    token_file, jwks_file, subject, medium, purpose = sys.argv[1:6]
    with open(token_file) as t, open(jwks_file) as j:
        print(check(t.read().strip(), json.load(j), subject, medium, purpose)["consent"])
