"""Release clearance: every appearance and tool of a release checked at once, signed, re-checked on change.

Status (docs/api.md "Releases"): ``blocked`` when any appearance is not permitted in every territory or
any tool's attestation says a ``must`` or ``must_not`` clause is not met (``not_conforming``);
``needs_review`` when a tool has no unrevoked attestation for its digest (``unattested``) or consent
exists but a careful studio lawyer would still want to look (review flags below); ``cleared``
otherwise. A release holds at most ``MAX_CHECKS`` checks (appearances x media x territories).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext

from consent import c2pa
from consent import vocabulary as v
from consent.models import AccessLogEntry, Consent, Release, ReleaseReliance, Subject
from consent.rules.decision import PERMITTED, UseQuery
from consent.verification import Check, verification_decide
from registry.accounts.models import ApiKey, Organization, User
from registry.errors import NotFound, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import canonical_json, sha256_digest
from registry.receipts import receipt_sign

LONG_TERM = timedelta(days=3653)  # ten years
REVIEW_FLAGS = (
    "term_over_10_years",
    "minor_without_court_approval",
    "no_named_production",
    "signer_unadvised",
    "authority_unverified",
)
# Each check is a verification, charged to the organization's verification rate.
MAX_CHECKS = 10_000
# Making new material of the person they never performed, or a model of them: a digital replica.
_REPLICA_ACTIVITIES = v.activity_mask(["create_replica", "generate"])


def _signer_unadvised(consent: Mapping[str, Any]) -> bool:
    """Whether the consent is the kind of digital-replica term the law wants a signer advised on.

    California Labor Code § 927 and New York General Obligations Law § 5-302 make a contract term
    unenforceable when it (1) lets someone create and use a digital replica of a performer's voice
    or likeness in place of work they would have done in person, (2) sits in an agreement for
    their personal or professional services, and (3) was agreed without a lawyer or a union
    negotiating for them (New York: unless the term is a reasonably specific description of the
    use, which a consent's ``intended_use`` always is, so we rely on (1) to (3)). We read them as:
    (1) the consent allows ``create_replica`` or ``generate``; (2) it is an engagement, not a
    general permission: it names a production or records a compensation reference
    (``conditions.compensation_ref``); (3) ``representation`` is ``none``. A self-service consent
    open to any production, with no pay agreed, is not an employment term, and flagging it made
    nearly every release "needs review" for nothing.
    """
    if consent["representation"] != Consent.Representation.NONE:
        return False
    if not consent["activity_mask"] & _REPLICA_ACTIVITIES:
        return False
    conditions = consent["conditions"] if isinstance(consent["conditions"], dict) else {}
    return bool(consent["production"] or str(conditions.get("compensation_ref") or "").strip())


def _flags(consent: Mapping[str, Any], subject_status: str) -> list[str]:
    flags = []
    until = consent["valid_until"]
    if until is None or until - consent["valid_from"] > LONG_TERM:
        flags.append("term_over_10_years")
    if subject_status == Subject.Status.MINOR and not consent["court_approval_ref"]:
        flags.append("minor_without_court_approval")
    if not consent["production"]:
        flags.append("no_named_production")
    if _signer_unadvised(consent):
        flags.append("signer_unadvised")
    return flags


def _clauses_not_met(attestation: Any) -> list[str]:
    """The ``must`` and ``must_not`` clauses the attestation does not say are met or not applicable.

    A clause the statement leaves out is ``not_met`` in ``results`` already
    (``guidelines.statements.clause_results``); one missing from ``results`` counts as not met.
    """
    results = attestation.results or {}
    return sorted(
        clause["key"]
        for clause in attestation.guideline_version.clauses
        if clause.get("kind") in ("must", "must_not")
        and results.get(clause["key"]) not in ("evidenced", "asserted", "not_applicable")
    )


def _tool_rows(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each tool's decision from the project's newest unrevoked attestation of that digest: a
    newer statement is the project's latest word on the build, so it overrides an older one."""
    from guidelines.selectors import attestation_for_release

    rows = []
    for tool in tools:
        attestation = attestation_for_release(project_public_id=tool["project"], digest=tool["digest"])
        not_met = _clauses_not_met(attestation) if attestation else []
        if attestation is None:
            decision = "unattested"
        elif not_met:
            decision = "not_conforming"
        else:
            decision = "attested"
        rows.append(
            {
                "project": tool["project"],
                "version": tool["version"],
                "digest": tool["digest"],
                "attestation": attestation.public_id if attestation else None,
                "guideline": (
                    f"{attestation.guideline_version.guideline.slug}@{attestation.guideline_version.version}"
                    if attestation
                    else None
                ),
                "decision": decision,
                "clauses_not_met": not_met,
            }
        )
    return rows


def release_check_count(*, territories: list[str], appearances: list[dict[str, Any]]) -> int:
    """How many checks a release costs: appearances x media x territories (``likeness`` is every medium)."""
    media = sum(
        len(v.MEDIA_KEYS) if v.LIKENESS in appearance["media"] else len(set(appearance["media"]))
        for appearance in appearances
    )
    return media * len(territories)


def _require_within_limit(territories: list[str], appearances: list[dict[str, Any]]) -> None:
    count = release_check_count(territories=territories, appearances=appearances)
    if count > MAX_CHECKS:
        message = gettext("At most %(limit)s checks (appearances x media x countries); this release has %(count)s.") % {
            "limit": formats.number_format(MAX_CHECKS, force_grouping=True),
            "count": formats.number_format(count, force_grouping=True),
        }
        raise ValidationFailed(message, errors={"appearances": [message]})


def release_evaluate(
    *,
    title: str,
    release_date: date,
    territories: list[str],
    appearances: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    organization: Organization,
) -> tuple[str, dict[str, Any], set[str]]:
    """The clearance report (status, rows) and the ids it relies on; reads only."""
    checks: list[tuple[int, str, str, Check]] = []
    for position, appearance in enumerate(appearances):
        for medium in appearance["media"]:
            for territory in territories:
                use = UseQuery(
                    medium=medium,
                    activity=appearance.get("activity") or "generate",
                    purpose=appearance["purpose"],
                    territory=territory,
                    on=release_date,
                    production=title,
                )
                checks.append((position, medium, territory, Check(appearance["subject"], use)))
    answers = verification_decide(caller=organization.public_id, checks=[c[3] for c in checks])
    chosen_pks = {answer.consent_pk for answer in answers if answer.consent_pk}
    details = {
        row["pk"]: row
        for row in Consent.objects.filter(pk__in=chosen_pks).values(
            "pk",
            "valid_from",
            "valid_until",
            "court_approval_ref",
            "production",
            "representation",
            "activity_mask",
            "conditions",
            "subject__status",
        )
    }
    relies: set[str] = set()
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for (position, medium, territory, check), answer in zip(checks, answers, strict=True):
        row = rows.setdefault(
            (position, medium),
            {
                "subject": check.subject,
                "medium": medium,
                "purpose": check.use.purpose,
                "decision": PERMITTED,
                "consent": None,
                "reasons": [],
                "flags": [],
                "territories": {},
            },
        )
        row["territories"][territory] = answer.decision.decision
        relies.add(check.subject)
        if answer.decision.decision != PERMITTED:
            row["decision"] = "unknown" if answer.decision.decision == "unknown" else "denied"
            row["reasons"] = sorted(set(row["reasons"]) | set(answer.decision.reasons))
        elif answer.decision.consent is not None:
            relies.add(answer.decision.consent.public_id)
            if row["consent"] is None:
                row["consent"] = answer.decision.consent.public_id
            detail = details.get(answer.consent_pk or -1)
            if detail:
                row["flags"] = sorted(set(row["flags"]) | set(_flags(detail, detail["subject__status"])))
            if "authority_unverified" in answer.decision.reasons:
                # A guardian or an estate nobody verified signed it: permitted, but look first.
                row["flags"] = sorted({*row["flags"], "authority_unverified"})
    appearance_rows = list(rows.values())
    for row in appearance_rows:
        if row["decision"] != PERMITTED:
            row["consent"], row["flags"] = None, []
    tool_rows = _tool_rows(tools)
    relies.update(row["attestation"] for row in tool_rows if row["attestation"])
    if any(r["decision"] != PERMITTED for r in appearance_rows) or any(
        t["decision"] == "not_conforming" for t in tool_rows
    ):
        status = Release.Status.BLOCKED
    elif any(r["flags"] for r in appearance_rows) or any(t["decision"] == "unattested" for t in tool_rows):
        status = Release.Status.NEEDS_REVIEW
    else:
        status = Release.Status.CLEARED
    report = {"status": status, "appearances": appearance_rows, "tools": tool_rows}
    return status, report, relies


def _sign(release: Release) -> str:
    return receipt_sign(
        claims={
            "sub": release.public_id,
            "aud": release.organization.public_id,
            "release": {
                "id": release.public_id,
                "status": release.status,
                "report_digest": sha256_digest(canonical_json(release.report)),
            },
        }
    )


def _log_checks(release: Release, user: User | None, api_key: ApiKey | None) -> None:
    subjects = {
        s.public_id: s for s in Subject.objects.filter(public_id__in={a["subject"] for a in release.appearances})
    }
    relied = {row["consent"] for row in release.report["appearances"] if row["consent"]}
    consents = dict(Consent.objects.filter(public_id__in=relied).values_list("public_id", "pk"))
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                subject=subjects[row["subject"]],
                kind=AccessLogEntry.Kind.RELEASE,
                caller_org=release.organization,
                caller_user=user if user is not None and user.is_authenticated else None,
                caller_key=api_key,
                query={
                    "release": release.public_id,
                    "medium": row["medium"],
                    "purpose": row["purpose"],
                    "territories": release.territories,
                    "date": release.release_date.isoformat(),
                },
                decision=row["decision"],
                consent_id=consents.get(row["consent"]),
                receipt_id=release.public_id,
            )
            for row in release.report["appearances"]
            if row["subject"] in subjects
        ]
    )


def release_create(
    *,
    organization: Organization,
    title: str,
    release_date: date,
    territories: list[str],
    appearances: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    user: User | None = None,
    api_key: ApiKey | None = None,
) -> Release:
    """Check a release, store its signed clearance report, and note the checks in each access log.

    At most ``MAX_CHECKS`` checks (400 naming ``appearances``), whoever asks: API, pages or a
    command. Re-checks are not refused, so that a release stored before the limit keeps being
    re-evaluated when a consent it relies on changes."""
    _require_within_limit(territories, appearances)
    status, report, relies = release_evaluate(
        title=title,
        release_date=release_date,
        territories=territories,
        appearances=appearances,
        tools=tools,
        organization=organization,
    )
    with transaction.atomic():
        release = Release.objects.create(
            organization=organization,
            created_by=user if user is not None and user.is_authenticated else None,
            title=title,
            release_date=release_date,
            territories=territories,
            appearances=appearances,
            tools=tools,
            status=status,
            report=report,
        )
        release.report = {"id": release.public_id, **report}
        release.receipt = _sign(release)
        release.save(update_fields=["report", "receipt"])
        ReleaseReliance.objects.bulk_create([ReleaseReliance(release=release, ref=ref) for ref in relies])
        _log_checks(release, user, api_key)
    return release


def release_recheck(*, release: Release) -> Release:
    """Evaluate again; a changed status is stored, signed anew and announced (release.status_changed).

    The release is locked BEFORE it is evaluated: two re-checks of one release (a revocation and a
    redelivered event, say) then run one after the other, each reading what the other committed.
    Evaluated first and locked after, an older evaluation could be stored over a newer one — a
    release shown cleared after the consent it relied on was revoked."""
    with transaction.atomic():
        locked = Release.objects.select_for_update().select_related("organization").get(pk=release.pk)
        status, report, relies = release_evaluate(
            title=locked.title,
            release_date=locked.release_date,
            territories=locked.territories,
            appearances=locked.appearances,
            tools=locked.tools,
            organization=locked.organization,
        )
        previous = locked.status
        locked.status, locked.report, locked.evaluated_at = status, {"id": locked.public_id, **report}, timezone.now()
        locked.receipt = _sign(locked)
        locked.save(update_fields=["status", "report", "evaluated_at", "receipt"])
        ReleaseReliance.objects.filter(release=locked).exclude(ref__in=relies).delete()
        ReleaseReliance.objects.bulk_create(
            [ReleaseReliance(release=locked, ref=ref) for ref in relies], ignore_conflicts=True
        )
        if previous != status:
            event_record(
                type="release.status_changed",
                payload={"release": locked.public_id, "previous": previous, "status": status},
                audience=[locked.organization.public_id],
            )
    return locked


def releases_recheck_for(*, refs: list[str]) -> list[Release]:
    """Re-check every release relying on any of these consents, attestations or subjects."""
    ids = ReleaseReliance.objects.filter(ref__in=refs).values_list("release_id", flat=True).distinct()
    return [release_recheck(release=release) for release in Release.objects.filter(pk__in=list(ids))]


def release_appearances(release: Release) -> list[dict[str, Any]]:
    """The report's appearance rows as a studio reads them: each with ``log_proof`` (its consent's
    tlog-proof, null when it cites none or no witnessed checkpoint covers it yet) and, for every
    appearance of a cleared release, ``c2pa_assertions`` (null otherwise).

    Both are made when read, outside the signed report and its ``report_digest``: a proof moves
    on as the log is witnessed further, and the assertions hold the release's receipt itself.
    """
    rows = (release.report or {}).get("appearances", [])
    proofs = c2pa.consent_proofs(row.get("consent") for row in rows)
    if release.status == Release.Status.CLEARED:
        assertions = c2pa.appearance_assertions(release=release, proofs=proofs)
    else:
        assertions = [None] * len(rows)
    return [
        {**row, "log_proof": proofs.get(row["consent"]) if row.get("consent") else None, "c2pa_assertions": found}
        for row, found in zip(rows, assertions, strict=True)
    ]


def release_visible(*, public_id: str, organization_ids: list[int]) -> Release:
    release = (
        Release.objects.select_related("organization")
        .filter(public_id=public_id, organization_id__in=organization_ids)
        .first()
    )
    if release is None:
        raise NotFound(gettext("No such release."))
    return release
