"""Ready-to-embed C2PA assertions for a permitted answer: the Restu consent claim and a CAWG
training-and-data-mining assertion derived from the person's consents at that moment.

``org.restu.consent`` data: ``{"receipt", "consent", "subject", "log_proof"}`` (docs/api.md, Provenance).
``cawg.training-mining`` data follows the CAWG training-and-data-mining assertion 1.x:
``{"entries": {"cawg.ai_training": {"use": "allowed" | "notAllowed"}, ...}}``.

Each CAWG use asks whether the person permits certain activities for the same medium, purpose,
territory, date and production as the answer (see ``ENTRY_ACTIVITIES``). Only a ``permitted``
decision for every activity it needs makes a use ``allowed``; anything else (denied, unknown, not
covered, revoked, expired) is ``notAllowed``. ``constrained`` is never produced: a consent's
conditions are not machine-readable limits a CAWG reader could honour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

# A module reference, not names: consent/verification/ may import this module at its top.
from consent import verification
from consent.models import Release
from consent.rules.decision import PERMITTED, UseQuery
from registry.transparency.models import LogEntry
from registry.witness.selectors import log_proofs

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


# Every activity some use needs, in the order ``training_checks`` asks them.
ACTIVITIES = tuple(sorted({activity for needed in ENTRY_ACTIVITIES.values() for activity in needed}))


def training_checks(checks: Sequence[verification.Check]) -> list[verification.Check]:
    """The checks whose answers the CAWG entries of ``checks`` are made from: each check once per
    activity a use needs, in a fixed order (``training_mining_from`` reads them back in it), so a
    caller can decide them in the same read as its own checks."""
    return [
        verification.Check(check.subject, replace(check.use, activity=activity))
        for check in checks
        for activity in ACTIVITIES
    ]


def training_mining_from(answers: Sequence[verification.Answer]) -> dict[str, dict[str, str]]:
    """The CAWG entries from the answers to ``training_checks(checks)``, in its order: a use is
    ``allowed`` only when every activity it needs is permitted for every check."""
    return training_mining_of([answer.decision.decision for answer in answers])


def training_mining_of(decisions: Sequence[str]) -> dict[str, dict[str, str]]:
    """``training_mining_from`` from the decisions alone (``ACTIVITIES`` order, check after check)."""
    refused = {ACTIVITIES[n % len(ACTIVITIES)] for n, decision in enumerate(decisions) if decision != PERMITTED}
    permitted = set(ACTIVITIES) - refused if decisions else set()
    return {
        label: {"use": ALLOWED if set(needed) <= permitted else NOT_ALLOWED}
        for label, needed in ENTRY_ACTIVITIES.items()
    }


def training_mining_entries(
    *, caller: str, checks: Sequence[verification.Check], now: datetime | None = None
) -> dict[str, dict[str, str]]:
    """The CAWG entries for the uses in ``checks`` (one per territory, say): a use is ``allowed``
    only when every activity it needs is permitted for every check."""
    queries = training_checks(checks)
    return training_mining_from(verification.verification_decide(caller=caller, checks=queries, now=now))


def c2pa_assertions(
    *,
    caller: str,
    checks: Sequence[verification.Check],
    receipt: str,
    consent: str,
    log_proof: Any = None,
    now: datetime | None = None,
    entries: dict[str, dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The two assertions to embed for a permitted answer (or a cleared release appearance).

    ``caller``: the organization's public id the answer was given to; ``checks``: the answer's
    query (one check; a release appearance gives one per territory, all for the same subject);
    ``receipt``: the answer's signed receipt (JWS); ``consent``: the cited consent's public id;
    ``log_proof``: the answer's ``log_proof`` (None until a witnessed checkpoint covers it);
    ``entries``: the CAWG entries when the caller already decided them (``training_mining_from``).
    """
    if not checks:
        raise ValueError("c2pa_assertions needs the answer's query")
    if entries is None:
        entries = training_mining_entries(caller=caller, checks=checks, now=now)
    return [
        {
            "label": CONSENT_LABEL,
            "data": {"receipt": receipt, "consent": consent, "subject": checks[0].subject, "log_proof": log_proof},
        },
        {"label": TRAINING_MINING_LABEL, "data": {"entries": entries}},
    ]


def consent_proofs(consents: Iterable[str]) -> dict[str, str | None]:
    """The ``log_proof`` of each consent (its ``consent.signed`` leaf's tlog-proof, None until a
    witnessed checkpoint covers it): two queries at most, three when a proof is not made yet."""
    wanted = {consent for consent in consents if consent}
    if not wanted:
        return {}
    indices: dict[str, int] = {}
    for ref, index in (
        LogEntry.objects.filter(type="consent.signed", ref__in=wanted).order_by("-index").values_list("ref", "index")
    ):
        indices[ref] = index  # the first leaf about a consent wins, as log_proof_for has it
    proofs = log_proofs(indices.values())
    return {consent: proofs.get(indices[consent]) if consent in indices else None for consent in wanted}


def _appearance_uses(release: Release) -> list[str]:
    """The activity of each row of the release's report, in the report's order (one row per
    appearance and medium, as ``release_evaluate`` makes them); ``generate`` where unnamed."""
    uses = [
        appearance.get("activity") or "generate"
        for appearance in release.appearances or []
        for _ in appearance.get("media", [])
    ]
    rows = (release.report or {}).get("appearances", [])
    return uses if len(uses) == len(rows) else ["generate"] * len(rows)


def appearance_assertions(
    *, release: Release, proofs: Mapping[str, str | None] | None = None, now: datetime | None = None
) -> list[list[dict[str, Any]] | None]:
    """The assertions of each row of the release's report (None for a row not permitted), under
    the release's receipt; ``proofs``: the ``log_proof`` of each cited consent. The CAWG uses of
    every row are decided in one read."""
    caller = release.organization.public_id
    rows = (release.report or {}).get("appearances", [])
    wanted: list[tuple[int, list[verification.Check]]] = []
    for n, (row, activity) in enumerate(zip(rows, _appearance_uses(release), strict=True)):
        if row["decision"] == PERMITTED and row.get("consent") and release.territories:
            checks = [
                verification.Check(
                    row["subject"],
                    UseQuery(
                        medium=row["medium"],
                        activity=activity,
                        purpose=row["purpose"],
                        territory=territory,
                        on=release.release_date,
                        production=release.title,
                    ),
                )
                for territory in release.territories
            ]
            wanted.append((n, checks))
    answers: list[list[dict[str, Any]] | None] = [None] * len(rows)
    if not wanted:
        return answers
    queries = [training_checks(checks) for _, checks in wanted]
    decided = verification.verification_decide(
        caller=caller, checks=[query for group in queries for query in group], now=now
    )
    at = 0
    for (n, checks), group in zip(wanted, queries, strict=True):
        entries = training_mining_from(decided[at : at + len(group)])
        at += len(group)
        consent = rows[n]["consent"]
        answers[n] = c2pa_assertions(
            caller=caller,
            checks=checks,
            receipt=release.receipt,
            consent=consent,
            log_proof=(proofs or {}).get(consent),
            entries=entries,
        )
    return answers


def release_c2pa(
    *, release: Release, proofs: Mapping[str, str | None] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """``GET /api/v1/releases/{id}/c2pa``: the assertions of every permitted appearance of a
    release, under the release's receipt (its access-log rows tie the receipt to each consent);
    ``proofs``: the ``log_proof`` of each cited consent (read here when not given)."""
    report = release.report or {}
    rows = report.get("appearances", [])
    if proofs is None:
        proofs = consent_proofs(row.get("consent") for row in rows)
    assertions = appearance_assertions(release=release, proofs=proofs, now=now)
    return {
        "release": release.public_id,
        "status": release.status,
        "appearances": [
            {
                "subject": row["subject"],
                "medium": row["medium"],
                "purpose": row["purpose"],
                "decision": row["decision"],
                "consent": row.get("consent"),
                "c2pa_assertions": found,
            }
            for row, found in zip(rows, assertions, strict=True)
        ],
    }
