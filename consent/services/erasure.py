"""Erasure: removing a subject's (or a person's) data, keeping the signed history verifiable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import Consent, Dispute, Representative, Subject, SubjectProfile
from registry.accounts.models import User
from registry.accounts.presence import Presence, require_presence
from registry.events.services import event_record

from .representatives import _require_representative, require_power
from .revocation import _revoke


@dataclass(frozen=True)
class Erasure:
    """What ``person_erase`` removed, and what it kept."""

    profiles: int
    statements: int
    representations: int
    revoked: int = 0
    consents_scrubbed: int = 0
    subjects: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        return {
            "erased": {
                "profiles": self.profiles,
                "statements": self.statements,
                "consents_scrubbed": self.consents_scrubbed,
                "account": "name, email addresses, second factors, memberships, sign-in",
            },
            "revoked": self.revoked,
            "representations_ended": self.representations,
            "subjects": list(self.subjects),
            "kept": {
                "what": "public ids, statuses, digests and log leaves",
                "why": "so that every receipt and every log proof issued before still verifies",
            },
        }


_ERASED_CONDITION_TEXT = ("notes", "compensation_ref")


def _scrubbed_terms(terms: dict[str, Any]) -> dict[str, Any]:
    conditions = dict(terms.get("conditions") or {})
    for key in _ERASED_CONDITION_TEXT:
        if key in conditions:
            conditions[key] = ""
    return {**terms, "intended_use": "", "conditions": conditions, "court_approval_ref": None}


def _detached(jws: str) -> str:
    """A compact JWS without its payload (RFC 7515 appendix F): it still verifies against the terms
    if someone holds them, and no longer carries them."""
    parts = jws.split(".")
    return f"{parts[0]}..{parts[2]}" if len(parts) == 3 else ""


def _erase_subject(subject: Subject, rep: Representative) -> tuple[int, int]:
    """Revoke the subject's active permits (logged, grantees told), then remove their personal data.

    Denies stay in force: they protect the person. Returns (permits revoked, consents scrubbed)."""
    now = timezone.now()
    revoked = 0
    for consent in Consent.objects.select_related("subject", "grantee_org").filter(
        subject=subject, effect=Consent.Effect.PERMIT, status=Consent.Status.ACTIVE
    ):
        # Erasure takes effect at once, whatever notice the permit promised.
        _revoke(consent, rep, reason="", revocation_signature="", now=now, effective=now)
        revoked += 1
    # Permits already revoked with notice still pending end now too.
    Consent.objects.filter(
        subject=subject,
        effect=Consent.Effect.PERMIT,
        status=Consent.Status.REVOKED,
        revocation_effective_at__gt=now,
    ).update(revocation_effective_at=now, updated=now)
    scrubbed = 0
    with transaction.atomic():
        for consent in Consent.objects.select_for_update().filter(subject=subject):
            conditions = dict(consent.conditions or {})
            for key in _ERASED_CONDITION_TEXT:
                if key in conditions:
                    conditions[key] = ""
            consent.intended_use, consent.conditions, consent.court_approval_ref = "", conditions, None
            consent.terms = _scrubbed_terms(consent.terms or {})
            consent.notice_summary, consent.revocation_reason = "", ""
            if consent.method == Consent.Method.SUBJECT_KEY and consent.signature:
                consent.signature = _detached(consent.signature)
            consent.erased_at = now
            consent.save(
                update_fields=[
                    "intended_use",
                    "conditions",
                    "court_approval_ref",
                    "terms",
                    "notice_summary",
                    "revocation_reason",
                    "signature",
                    "erased_at",
                ]
            )
            scrubbed += 1
        SubjectProfile.objects.filter(subject=subject).delete()
        # Every dispute about the person: what others wrote about them, and what staff answered.
        Dispute.objects.filter(subject=subject).update(statement="", resolution="")
        Subject.objects.filter(pk=subject.pk).update(adult_on=None, deceased_on=None, updated=now)
        event_record(type="subject.erased", payload={"subject": subject.public_id})
    return revoked, scrubbed


def subject_erase(*, subject: Subject, actor: User, presence: Presence | None = None) -> Erasure:
    """A representative holding ``erase`` erases the subject's personal data (fresh proof of presence)."""
    rep = _require_representative(actor, subject)
    require_power(rep, "erase")
    require_presence(presence, action=_("erase this person's data"))
    revoked, scrubbed = _erase_subject(subject, rep)
    return Erasure(
        profiles=1,
        statements=0,
        representations=0,
        revoked=revoked,
        consents_scrubbed=scrubbed,
        subjects=(subject.public_id,),
    )


def person_erase(*, user: User, presence: Presence | None = None, operator: bool = False) -> Erasure:
    """Erase a person: their subjects' data, what they wrote, and their account.

    The subjects erased are the ones they are (``self``), or the last one acting for (and holding
    ``erase``). For each, every active permit is revoked first (logged, grantees notified), then
    names, profiles, subject dates, intended-use texts, notes, conditions' free text, shown
    summaries and court references are removed; then their dispute statements and revocation
    reasons, their email addresses, second factors, social logins, stored API responses, and the
    account itself. Public ids, statuses, digests and log leaves stay, so every receipt and log
    proof still verifies. The person proves presence; ``operator`` is for the staff command run on
    a verified erasure request.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    if not operator:
        require_presence(presence, action=_("erase your data"))
    revoked = scrubbed = profiles = 0
    erased: list[str] = []
    reps = list(
        Representative.objects.select_related("subject", "delegated_by").filter(user=user, ended_at__isnull=True)
    )
    for rep in reps:
        subject = rep.subject
        others = Representative.objects.filter(subject=subject, ended_at__isnull=True).exclude(user=user)
        if (rep.role == Representative.Role.SELF or not others.exists()) and "erase" in rep.effective_powers:
            profiles += SubjectProfile.objects.filter(subject=subject).count()
            r, c = _erase_subject(subject, rep)
            revoked, scrubbed = revoked + r, scrubbed + c
            erased.append(subject.public_id)
    with transaction.atomic():
        statements = Dispute.objects.filter(opened_by=user).exclude(statement="").update(statement="")
        Dispute.objects.filter(resolved_by=user).exclude(resolution="").update(resolution="")
        Consent.objects.filter(revoked_by__user=user).exclude(revocation_reason="").update(revocation_reason="")
        now = timezone.now()
        ended = Representative.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
        Representative.objects.filter(delegated_by__user=user, ended_at__isnull=True).update(ended_at=now)
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        _erase_elsewhere(user)
        user.memberships.all().delete()
        user.email = f"erased-{user.public_id}@erased.invalid"
        user.display_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        event_record(type="person.erased", payload={"user": user.public_id})
    return Erasure(
        profiles=profiles,
        statements=statements,
        representations=ended,
        revoked=revoked,
        consents_scrubbed=scrubbed,
        subjects=tuple(erased),
    )


def _erase_elsewhere(user: User) -> None:
    """What other apps keep about the person: social logins and stored API answers (which repeat
    what they sent: names, notes, intended uses)."""
    from django.apps import apps

    if apps.is_installed("allauth.socialaccount"):
        from allauth.socialaccount.models import SocialAccount

        SocialAccount.objects.filter(user=user).delete()
    try:
        from registry.api.models import IdempotencyRecord
    except ImportError:  # pragma: no cover - the API app is always installed
        return
    IdempotencyRecord.objects.filter(caller=f"user:{user.pk}").delete()
