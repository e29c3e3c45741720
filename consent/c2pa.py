"""Ready-to-embed C2PA assertions for a permitted answer: the Restu consent claim and a CAWG
training-and-data-mining assertion derived from the person's consents at that moment.

``org.restu.consent`` data: ``{"receipt", "consent", "subject", "log_proof"}`` (API.md, Provenance).
``cawg.training-mining`` data follows the CAWG training-and-data-mining assertion 1.x:
``{"entries": {"cawg.ai_training": {"use": "allowed" | "notAllowed"}, ...}}``.

Each CAWG use asks whether the person permits certain activities for the same medium, purpose,
territory, date and production as the answer (see ``ENTRY_ACTIVITIES``). Only a ``permitted``
decision for every activity it needs makes a use ``allowed``; anything else (denied, unknown, not
covered, revoked, expired) is ``notAllowed``. ``constrained`` is never produced: a consent's
conditions are not machine-readable limits a CAWG reader could honour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

# A module reference, not names: consent/verification/ may import this module at its top.
from consent import verification
from consent.models import Release
from consent.rules.decision import PERMITTED, UseQuery

CONSENT_LABEL = "org.restu.consent"
TRAINING_MINING_LABEL = "cawg.training-mining"
ALLOWED = "allowed"
NOT_ALLOWED = "notAllowed"

# Which of the person's activities (consent/vocabulary.py) each CAWG use needs:
# - ai_training: the asset trains a (non-generative) model            -> train_model
# - ai_generative_training: it trains a model that makes new media    -> train_model and generate
# - data_mining: patterns are extracted from it (a kind of training)   -> train_model
# - ai_inference: it is fed to a model that changes or reuses it      -> alter
ENTRY_ACTIVITIES: Mapping[str, tuple[str, ...]] = {
    "cawg.ai_training": ("train_model",),
    "cawg.ai_generative_training": ("train_model", "generate"),
    "cawg.data_mining": ("train_model",),
    "cawg.ai_inference": ("alter",),
}


def training_mining_entries(
    *, caller: str, checks: Sequence[verification.Check], now: datetime | None = None
) -> dict[str, dict[str, str]]:
    """The CAWG entries for the uses in ``checks`` (one per territory, say): a use is ``allowed``
    only when every activity it needs is permitted for every check."""
    activities = sorted({activity for needed in ENTRY_ACTIVITIES.values() for activity in needed})
    queries = [
        (activity, verification.Check(check.subject, replace(check.use, activity=activity)))
        for check in checks
        for activity in activities
    ]
    answers = verification.verification_decide(caller=caller, checks=[query for _, query in queries], now=now)
    refused = {
        activity
        for (activity, _), answer in zip(queries, answers, strict=True)
        if answer.decision.decision != PERMITTED
    }
    permitted = set(activities) - refused if checks else set()
    return {
        label: {"use": ALLOWED if set(needed) <= permitted else NOT_ALLOWED}
        for label, needed in ENTRY_ACTIVITIES.items()
    }


def c2pa_assertions(
    *,
    caller: str,
    checks: Sequence[verification.Check],
    receipt: str,
    consent: str,
    log_proof: Any = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The two assertions to embed for a permitted answer (or a cleared release appearance).

    ``caller``: the organization's public id the answer was given to; ``checks``: the answer's
    query (one check; a release appearance gives one per territory, all for the same subject);
    ``receipt``: the answer's signed receipt (JWS); ``consent``: the cited consent's public id;
    ``log_proof``: the answer's ``log_proof`` (None until a witnessed checkpoint covers it).
    """
    if not checks:
        raise ValueError("c2pa_assertions needs the answer's query")
    return [
        {
            "label": CONSENT_LABEL,
            "data": {"receipt": receipt, "consent": consent, "subject": checks[0].subject, "log_proof": log_proof},
        },
        {
            "label": TRAINING_MINING_LABEL,
            "data": {"entries": training_mining_entries(caller=caller, checks=checks, now=now)},
        },
    ]


def release_c2pa(*, release: Release, now: datetime | None = None) -> dict[str, Any]:
    """``GET /api/v1/releases/{id}/c2pa``: the assertions of every permitted appearance of a
    release, under the release's receipt (its access-log rows tie the receipt to each consent)."""
    caller = release.organization.public_id
    report = release.report or {}
    appearances = []
    for row in report.get("appearances", []):
        entry: dict[str, Any] = {
            "subject": row["subject"],
            "medium": row["medium"],
            "purpose": row["purpose"],
            "decision": row["decision"],
            "consent": row.get("consent"),
            "c2pa_assertions": None,
        }
        if row["decision"] == PERMITTED and row.get("consent"):
            checks = [
                verification.Check(
                    row["subject"],
                    UseQuery(
                        medium=row["medium"],
                        activity="generate",
                        purpose=row["purpose"],
                        territory=territory,
                        on=release.release_date,
                        production=release.title,
                    ),
                )
                for territory in release.territories
            ]
            entry["c2pa_assertions"] = c2pa_assertions(
                caller=caller, checks=checks, receipt=release.receipt, consent=row["consent"], now=now
            )
        appearances.append(entry)
    return {"release": release.public_id, "status": release.status, "appearances": appearances}
