"""Checking a file: its C2PA manifests, and every Restu consent claim in them, against the registry now.

The answer (docs/api.md, Provenance)::

    {"sha256", "c2pa": {"present", "validation_state", "signer", "errors"},
     "consents": [{"consent", "subject", "receipt_valid", "decision_then", "status_now",
                   "log_proof_valid", "training_mining_consistent", "reason"}],
     "verdict": "consented" | "consent_revoked" | "consent_invalid" | "no_consent_claim"
                | "no_manifest" | "unreadable"}

A claim stands when its receipt verifies with the registry's keys AND ties to that consent and
subject (the receipt names them, or the access-log row written under the receipt does), the
decision then was ``permitted``, and the file's ``cawg.training-mining`` assertion allows nothing
the consent does not, and its ``log_proof`` (when there is one) proves the consent's
``consent.signed`` leaf in this registry's log. The C2PA signature must be valid (hard binding intact), and, when trust
anchors are configured, its signer trusted. ``consent_revoked``: a claim that stood, whose consent
has been revoked since. ``expired`` is not a revocation: the use was consented while it lasted.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from consent.c2pa import ALLOWED, CONSENT_LABEL, ENTRY_ACTIVITIES, TRAINING_MINING_LABEL
from consent.models import Consent
from consent.rules.decision import PERMITTED
from consent.vocabulary import ACTIVITY_KEYS, PURPOSE_KEYS, bit
from provenance import selectors
from provenance.logproof import log_proof_valid
from provenance.manifests import ManifestRead, manifest_read
from registry.lib.ids import new_public_id
from registry.receipts import receipt_verify

logger = logging.getLogger(__name__)

CONSENTED = "consented"
CONSENT_REVOKED = "consent_revoked"
CONSENT_INVALID = "consent_invalid"
NO_CONSENT_CLAIM = "no_consent_claim"
NO_MANIFEST = "no_manifest"
UNREADABLE = "unreadable"

# A file may carry a few claims (one per person in it); each costs a few queries, so stop somewhere.
MAX_CLAIMS = 50
_CLOCK_SKEW = timedelta(minutes=5)


def _labelled(assertion: Any, label: str) -> bool:
    # c2pa-rs numbers repeated labels ``label__1``, ``label__2``.
    name = assertion.get("label") if isinstance(assertion, dict) else None
    return isinstance(name, str) and (name == label or name.startswith(label + "__"))


def _training_entries(manifest: dict[str, Any]) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions") or []:
        if _labelled(assertion, TRAINING_MINING_LABEL):
            data = assertion.get("data")
            entries = data.get("entries") if isinstance(data, dict) else None
            return entries if isinstance(entries, dict) else {}
    return None


def _consistent(entries: dict[str, Any] | None, consent: selectors.ConsentNow | None, purpose: Any) -> bool | None:
    """False when the file allows a use the cited consent does not permit for its purpose."""
    if entries is None or consent is None:
        return None
    purpose_ok = purpose in PURPOSE_KEYS and bool(consent.purpose_mask & bit(PURPOSE_KEYS, purpose))
    for label, needed in ENTRY_ACTIVITIES.items():
        entry = entries.get(label)
        if not isinstance(entry, dict) or entry.get("use") != ALLOWED:
            continue  # notAllowed and constrained never overstate a consent
        covered = all(consent.activity_mask & bit(ACTIVITY_KEYS, activity) for activity in needed)
        if consent.effect != Consent.Effect.PERMIT or not covered or not purpose_ok:
            return False
    return True


def _claim(data: Any, entries: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "consent": None,
        "subject": None,
        "receipt_valid": False,
        "decision_then": None,
        "status_now": None,
        "log_proof_valid": None,
        "training_mining_consistent": None,
        "reason": None,
    }
    if not isinstance(data, dict):
        out["reason"] = "the assertion holds no object"
        return out
    consent_id, subject_id, receipt = data.get("consent"), data.get("subject"), data.get("receipt")
    out["consent"] = consent_id if isinstance(consent_id, str) else None
    out["subject"] = subject_id if isinstance(subject_id, str) else None
    if not (isinstance(consent_id, str) and isinstance(subject_id, str) and isinstance(receipt, str)):
        out["reason"] = "the assertion lacks a receipt, consent or subject"
        return out
    checked = receipt_verify(receipt[:65536])
    if not checked.valid or checked.payload is None:
        out["reason"] = f"receipt: {checked.reason}"
        return out
    payload = checked.payload
    query: Any = payload.get("query")
    if payload.get("consent") == consent_id and payload.get("sub") == subject_id:
        decision = payload.get("decision")
    else:
        # Bulk and release receipts cover many answers: the access-log rows written under them
        # say which consents they cited.
        release = payload.get("release")
        entry = selectors.access_entry_for(
            receipt_ids=[
                str(payload.get("jti") or ""),
                str(release.get("id") or "") if isinstance(release, dict) else "",
            ],
            consent=consent_id,
            subject=subject_id,
            issued_before=datetime.fromtimestamp(payload["iat"], UTC) + _CLOCK_SKEW,
        )
        if entry is None:
            out["reason"] = "the receipt does not cover this consent and subject"
            return out
        decision, query = entry.decision, entry.query
    # Only now, with a receipt the registry signed for this consent and subject, is the consent's
    # status told: a consent is private, and anyone can put any id in a file.
    consent = selectors.consent_of(consent=consent_id, subject=subject_id)
    if consent is None:
        out["reason"] = "no such consent for this subject"
        return out
    out["status_now"] = consent.status
    out["receipt_valid"] = True
    out["decision_then"] = decision
    out["training_mining_consistent"] = _consistent(
        entries, consent, query.get("purpose") if isinstance(query, dict) else None
    )
    if data.get("log_proof") is not None:
        out["log_proof_valid"] = log_proof_valid(proof=data["log_proof"], consent=consent_id)
    return out


def _claim_verdict(claim: dict[str, Any]) -> str:
    if not claim["receipt_valid"] or claim["decision_then"] != PERMITTED:
        return CONSENT_INVALID
    if claim["log_proof_valid"] is False:  # no proof is allowed (none yet); a false one is not
        return CONSENT_INVALID
    if claim["training_mining_consistent"] is False:
        return CONSENT_INVALID
    if claim["status_now"] == Consent.Status.REVOKED:
        return CONSENT_REVOKED
    return CONSENTED


def _c2pa_body(read: ManifestRead) -> dict[str, Any]:
    errors = list(read.errors)
    if read.unreadable:
        errors.append(read.unreadable)
    return {
        "present": read.present,
        "validation_state": read.validation_state,
        "signer": read.signer,
        "errors": errors,
    }


def _media_sound(read: ManifestRead) -> bool:
    """The manifest is intact and bound to these bytes; when anchors are configured, signed by one."""
    if read.validation_state == "Trusted":
        return True
    return read.validation_state == "Valid" and not settings.REGISTRY_C2PA_TRUST_ANCHORS


def provenance_check(*, path: str, sha256: str) -> dict[str, Any]:
    """Check the file at ``path`` (already hashed to ``sha256``); reads only, stores nothing."""
    read = manifest_read(path)
    body: dict[str, Any] = {"sha256": sha256, "c2pa": _c2pa_body(read), "consents": [], "verdict": NO_MANIFEST}
    if read.unreadable:
        body["verdict"] = UNREADABLE
        return body
    if not read.present:
        return body
    claims: list[dict[str, Any]] = []
    for manifest in read.manifests:
        entries = _training_entries(manifest)
        for assertion in manifest.get("assertions") or []:
            if _labelled(assertion, CONSENT_LABEL) and len(claims) < MAX_CLAIMS:
                claims.append(_claim(assertion.get("data"), entries))
    body["consents"] = claims
    if not claims:
        body["verdict"] = NO_CONSENT_CLAIM
        return body
    verdicts = {_claim_verdict(claim) for claim in claims}
    if not _media_sound(read) or CONSENT_INVALID in verdicts:
        body["verdict"] = CONSENT_INVALID
    elif CONSENT_REVOKED in verdicts:
        body["verdict"] = CONSENT_REVOKED
    else:
        body["verdict"] = CONSENTED
    return body


# --- Large files: checked by a worker --------------------------------------------------------------


def provenance_check_queue(*, sha256: str) -> str:
    """Note a check as pending; its id (the status URL's last part, unguessable)."""
    check_id = new_public_id("chk")
    cache.set(
        selectors.check_status_key(check_id),
        {"id": check_id, "status": "pending", "sha256": sha256, "result": None},
        selectors.CHECK_STATUS_TTL_SECONDS,
    )
    return check_id


def provenance_check_finish(*, check_id: str, sha256: str, result: dict[str, Any] | None) -> None:
    """Store a queued check's result (None: it failed) for an hour."""
    cache.set(
        selectors.check_status_key(check_id),
        {"id": check_id, "status": "done" if result is not None else "failed", "sha256": sha256, "result": result},
        selectors.CHECK_STATUS_TTL_SECONDS,
    )
