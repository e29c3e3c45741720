"""Reads: who may see what, consents and their history, access logs, exports.

The verification's own reads (a subject with its consents, the bulk pairs) live with the decision
in ``consent.verification``: one rule, one path.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from consent import vocabulary as v
from consent.models import AccessLogEntry, Consent, ConsentEvent, Representative, Subject, SubjectProfile
from consent.services import representative_of, today
from registry.accounts.models import ApiKey, Membership, User
from registry.errors import NotFound
from registry.lib.timestamps import rfc3339, rfc3339_or_none

# --- Visibility -------------------------------------------------------------------------------


def subject_get(*, public_id: str) -> Subject:
    subject = Subject.objects.filter(public_id=public_id).first() if isinstance(public_id, str) else None
    if subject is None:
        raise NotFound("No such subject.")
    return subject


def subject_for_representative(*, user: User, public_id: str) -> tuple[Subject, Representative]:
    """The subject and the caller's representation; 404 for everyone else (no existence oracle)."""
    subject = Subject.objects.filter(public_id=public_id).first()
    rep = representative_of(user=user, subject=subject) if subject is not None else None
    if subject is None or rep is None:
        raise NotFound("No such subject.")
    return subject, rep


def subject_visible(*, user: User, public_id: str) -> tuple[Subject, Representative | None]:
    """Representatives see everything; others only a subject whose profile is public (else 404)."""
    subject = Subject.objects.select_related("profile").filter(public_id=public_id).first()
    if subject is None:
        raise NotFound("No such subject.")
    rep = representative_of(user=user, subject=subject)
    if rep is None:
        profile = SubjectProfile.objects.filter(subject=subject, is_public=True).first()
        if profile is None:
            raise NotFound("No such subject.")
    return subject, rep


def subjects_for(*, user: User) -> QuerySet[Subject]:
    """The subjects the user currently represents."""
    day = today()
    reps = (
        Representative.objects.filter(user=user, ended_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        # A guardian's authority ends by itself the day the child comes of age, before the daily
        # sweep ends the row: from then on the record is the person's own.
        .exclude(role=Representative.Role.GUARDIAN, subject__adult_on__lte=day)
    )
    return Subject.objects.filter(pk__in=reps.values("subject_id")).select_related("profile").order_by("created")


def _caller_orgs(user: User | AnonymousUser | None, api_key: ApiKey | None) -> QuerySet[Membership, int] | list[int]:
    if api_key is not None:
        return [api_key.organization_id]
    if user is None or not user.is_authenticated:
        return []
    return Membership.objects.filter(user=user).values_list("organization_id", flat=True)


def consents_visible(*, user: User | AnonymousUser | None, api_key: ApiKey | None = None) -> QuerySet[Consent]:
    """Consents the caller may see: of subjects they represent, or signed ones naming their organization.

    An API key sees only signed consents whose grantee is its organization; drafts are the
    representatives' alone.
    """
    granted = Q(grantee_org_id__in=_caller_orgs(user, api_key)) & ~Q(status=Consent.Status.DRAFT)
    visible = granted
    if api_key is None and user is not None and user.is_authenticated:
        visible = granted | Q(subject__in=subjects_for(user=user))
    return Consent.objects.filter(visible).select_related("subject", "grantee_org", "signed_by", "revoked_by")


def consent_visible(*, user: User | AnonymousUser | None, public_id: str, api_key: ApiKey | None = None) -> Consent:
    consent = consents_visible(user=user, api_key=api_key).filter(public_id=public_id).first()
    if consent is None:
        raise NotFound("No such consent.")
    return consent


def consent_for_representative(*, user: User, public_id: str) -> tuple[Consent, Representative]:
    """A consent of a subject the user represents (what signing, editing and revoking need)."""
    consent = Consent.objects.select_related("subject", "grantee_org").filter(public_id=public_id).first()
    rep = representative_of(user=user, subject=consent.subject) if consent else None
    if consent is None or rep is None:
        raise NotFound("No such consent.")
    return consent, rep


def consent_history(*, consent: Consent) -> QuerySet[ConsentEvent]:
    return consent.events.select_related("actor").order_by("at", "id")


def access_log_for(*, subject: Subject) -> QuerySet[AccessLogEntry]:
    return AccessLogEntry.objects.filter(subject=subject).select_related(
        "caller_org", "consent", "caller_key", "caller_user"
    )


# --- Export -----------------------------------------------------------------------------------


def consent_record_27560(consent: Consent) -> dict[str, Any]:
    """The consent as an ISO/IEC TS 27560-style consent record (the information structure, in JSON)."""
    state = {"draft": "pending", "active": "given", "revoked": "withdrawn", "expired": "expired"}[consent.status]
    if consent.effect == Consent.Effect.DENY and consent.status == Consent.Status.ACTIVE:
        state = "refused"
    return {
        "schema": "ISO/IEC TS 27560:2023 consent record (Restu profile)",
        "record_id": consent.public_id,
        "schema_version": "1",
        "data_subject": consent.subject.public_id,
        "controller": consent.grantee if consent.grantee != v.ANY else "any",
        "processing": {
            "purposes": consent.purposes,
            "personal_data_categories": consent.media,
            "processing_operations": consent.activities,
            "jurisdictions": consent.territories,
            "description": consent.intended_use,
            "production": consent.production,
        },
        "consent_state": state,
        "consent_type": "explicit",
        "validity": {"from": consent.valid_from.isoformat(), "until": _iso(consent.valid_until)},
        "events": [{"type": e.type, "at": rfc3339(e.at), "log_index": e.log_index} for e in consent.events.all()],
        "notice": {"language": consent.notice_language, "digest": consent.notice_digest, "text": consent.notice_summary}
        if consent.notice_digest
        else None,
        "signature": {"method": consent.method, "kid": consent.signer_kid, "digest": consent.digest}
        if consent.method
        else None,
        "withdrawal": {
            "policy": consent.revocation_policy,
            "notice_days": consent.revocation_notice_days,
            "withdrawn_at": rfc3339_or_none(consent.revoked_at),
        },
        "conditions": consent.conditions,
        "guideline": consent.guideline_ref,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def person_export(*, user: User) -> dict[str, Any]:
    """Everything Restu holds about the user as a representative, as one JSON document."""
    from consent.api.serializers import consent_out, subject_out

    subjects = list(subjects_for(user=user))
    consents = Consent.objects.filter(subject__in=subjects).select_related("subject", "grantee_org").order_by("created")
    return {
        "account": {"id": user.public_id, "email": user.email, "name": user.display_name},
        "subjects": [subject_out(s, private=True) for s in subjects],
        "consents": [consent_out(c) for c in consents],
        "consent_records": [consent_record_27560(c) for c in consents],
        "access_log": [
            {
                "subject": e.subject.public_id,
                "at": rfc3339(e.created),
                "caller": e.caller_org.public_id if e.caller_org else None,
                "query": e.query,
                "decision": e.decision,
            }
            for e in AccessLogEntry.objects.filter(subject__in=subjects).select_related("subject", "caller_org")
            if e.subject is not None  # always: the rows are these subjects'; narrows the nullable key
        ],
    }
