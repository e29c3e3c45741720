"""Offline verification of what the Restu registry signs, for anyone, with `cryptography` only.

Deliberately independent of the registry's own code: it re-implements the little it needs
(JWS checks, RFC 9162 proofs, C2SP notes, cosignatures, tlog proofs and witness policies,
JCS for leaves) so that an auditor trusts nothing
the registry ships besides its public keys.
"""

from restu_verify._common import VerificationError
from restu_verify.checkpoint import Checkpoint, verify_checkpoint
from restu_verify.receipts import verify_consent_token, verify_jws, verify_receipt
from restu_verify.witness import (
    parse_policy,
    verify_cosigned_checkpoint,
    verify_receipt_with_proof,
    verify_tlog_proof,
)

__version__ = "0.1.0"

__all__ = [
    "Checkpoint",
    "VerificationError",
    "parse_policy",
    "verify_checkpoint",
    "verify_consent_token",
    "verify_cosigned_checkpoint",
    "verify_jws",
    "verify_receipt",
    "verify_receipt_with_proof",
    "verify_tlog_proof",
]
