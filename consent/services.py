"""Every write to subjects, representatives, keys, vouches, consents, disputes and the access log.

Each state change that matters happens here, in one transaction with its transparency-log leaf
(appended last — it holds the log's lock until commit — save the history row that records its
index) and its outbox event. Emails to the subject's representatives are queued with
``transaction.on_commit`` and carry ids only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from consent import vocabulary as v
from consent.models import (
    AGENT_DEFAULT_POWERS,
    POWERS,
    AccessLogEntry,
    Consent,
    ConsentEvent,
    Dispute,
    ReleaseReliance,
    Representative,
    Subject,
    SubjectKey,
    SubjectProfile,
    Vouch,
)
from consent.summary import LANGUAGES, consent_summary
from registry import keys
from registry.accounts.models import ApiKey, Organization, User
from registry.accounts.presence import Presence, require_presence
from registry.background import enqueue
from registry.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import b64url_encode, canonical_json, sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.signing import VerificationError, jwk_thumbprint, normalize_public_jwk, sign_compact, verify_compact
from registry.transparency.services import log_append

CONSENT_TERMS_TYPE = "restu.consent/v1"
REVOCATION_TYPE = "restu.consent-revocation/v1"
WITNESS_TYP = "restu-consent-witness+jws"
GUIDELINE_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}@(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
MAX_NOTICE_DAYS = 365
# A permit for a minor never covers these (API.md v1.1, "Minors"); a deny may name them.
MINOR_FORBIDDEN_PURPOSES = ("sexual_content", "political")
# Who relied on a subject, for disputes: permitted answers this recent, and releases naming them.
RELIANCE_DAYS = 365

# Keyed by a subject's status as stored (``Subject.effective_status`` answers a plain str).
AUTHORITY: dict[str, str] = {
    Subject.Status.LIVING: Representative.Role.SELF,
    Subject.Status.MINOR: Representative.Role.GUARDIAN,
    Subject.Status.DECEASED: Representative.Role.ESTATE,
}


def today() -> date:
    """The registry's calendar day (UTC): every date rule uses the same clock."""
    return timezone.now().astimezone(UTC).date()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _statement_digest(statement: dict[str, Any]) -> str:
    return sha256_digest(canonical_json(statement))


def _notify(subject: Subject, kind: str, ref: str) -> None:
    """Email the subject's representatives once the change has committed (ids only)."""
    from consent.tasks import notify_representatives

    subject_id = subject.public_id
    transaction.on_commit(
        lambda: enqueue(notify_representatives.delay, subject_id, kind, ref, what="the representatives' email")
    )


def _touch(subject: Subject) -> None:
    subject.updated = timezone.now()
    Subject.objects.filter(pk=subject.pk).update(updated=subject.updated)


# --- Representatives and authority ------------------------------------------------------------


def representation_in_force(rep: Representative, subject: Subject, day: date) -> bool:
    """Whether ``rep`` carries authority and access on ``day``: not ended, within its dates, and —
    for a guardian — only while the subject is a minor (coming of age ends it by itself)."""
    if not rep.is_active_on(day):
        return False
    return not (rep.role == Representative.Role.GUARDIAN and not subject.is_minor_on(day))


def representative_of(*, user: User, subject: Subject, on: date | None = None) -> Representative | None:
    """The user's representation of the subject in force on ``on`` (the strongest one, if several)."""
    day = on or today()
    if not getattr(user, "is_authenticated", False):
        return None
    reps = [
        r
        for r in Representative.objects.select_related("delegated_by").filter(
            subject=subject, user=user, ended_at__isnull=True
        )
        if representation_in_force(r, subject, day)
    ]
    order: list[str] = [Representative.Role.SELF, Representative.Role.GUARDIAN, Representative.Role.ESTATE]
    reps.sort(key=lambda r: order.index(r.role) if r.role in order else len(order))
    return reps[0] if reps else None


def _require_representative(user: User, subject: Subject) -> Representative:
    rep = representative_of(user=user, subject=subject)
    if rep is None:
        raise NotFound(_("No such subject."))
    return rep


POWER_WORDS = {
    "sign": gettext_noop("sign consents"),
    "revoke": gettext_noop("revoke consents"),
    "manage_keys": gettext_noop("manage the person's signing keys"),
    "manage_representatives": gettext_noop("manage who represents the person"),
    "edit_profile": gettext_noop("edit the person's profile"),
    "read_access_log": gettext_noop("read who checked the person"),
    "erase": gettext_noop("erase the person's data"),
}


def require_power(rep: Representative, power: str) -> None:
    """403 unless ``rep`` holds ``power`` (self, guardian and estate hold every power)."""
    if power not in rep.effective_powers:
        raise NotAllowed(
            _("The person did not give you the power to %(what)s.") % {"what": _(POWER_WORDS.get(power, power))}
        )


def _clean_powers(powers: Any) -> list[str]:
    if powers is None:
        return list(AGENT_DEFAULT_POWERS)
    if not isinstance(powers, (list, tuple)) or not all(isinstance(p, str) for p in powers):
        raise ValidationFailed(_("The powers are not valid."), errors={"powers": [_("A list of powers.")]})
    unknown = sorted(set(powers) - set(POWERS))
    if unknown:
        raise ValidationFailed(
            _("The powers are not valid."),
            errors={"powers": [_("Unknown power: %(power)s.") % {"power": p} for p in unknown]},
        )
    return [p for p in POWERS if p in set(powers)]


def _within_delegation(rep: Representative, consent: Consent) -> bool:
    scope = rep.scope or {}
    try:
        media = v.media_mask(scope.get("media", []))
        activities = v.activity_mask(scope.get("activities", []))
        purposes = v.purpose_mask(scope.get("purposes", []))
    except (KeyError, ValueError, TypeError):
        return False
    return (
        consent.media_mask & ~media == 0
        and consent.activity_mask & ~activities == 0
        and consent.purpose_mask & ~purposes == 0
    )


def authority_check(*, rep: Representative, subject: Subject, consent: Consent | None = None) -> None:
    """Raise NotAllowed unless ``rep`` may sign or revoke for the subject as it stands today.

    A living adult acts for themselves (or through an agent, within what they delegated and
    while it lasts); a minor through a guardian; a deceased person through the estate.
    """
    status = subject.effective_status(today())
    needed = AUTHORITY[status]
    if rep.role == needed:
        return
    if rep.role == Representative.Role.AGENT and status == Subject.Status.LIVING:
        if rep.delegated_by is None or rep.delegated_by.role != Representative.Role.SELF:
            raise NotAllowed(_("This agent was not appointed by the person themselves."))
        if not rep.is_active_on(today()):
            raise NotAllowed(_("Your delegation has ended."))
        if consent is not None and not _within_delegation(rep, consent):
            raise NotAllowed(_("This goes beyond what the person delegated to you."))
        return
    messages: dict[str, str] = {
        Subject.Status.LIVING: _("Only the person (or an agent they appointed) can do this for a living adult."),
        Subject.Status.MINOR: _("Only a guardian can do this for a minor."),
        Subject.Status.DECEASED: _("Only the estate can do this for a deceased person."),
    }
    raise NotAllowed(messages[status])


# --- Subjects ---------------------------------------------------------------------------------


def _assurance_for(subject: Subject) -> str:
    from allauth.account.models import EmailAddress

    # Only a vouch from an organization that is still a verified guild or agency counts.
    standing = Vouch.objects.filter(
        subject=subject,
        revoked_at__isnull=True,
        organization__verified_at__isnull=False,
        organization__kind__in=(Organization.Kind.GUILD, Organization.Kind.AGENCY),
    )
    if standing.exists():
        return Subject.Assurance.VOUCHED
    users = Representative.objects.filter(subject=subject, ended_at__isnull=True).values("user_id")
    if EmailAddress.objects.filter(user_id__in=users, verified=True).exists():
        return Subject.Assurance.EMAIL_VERIFIED
    return Subject.Assurance.SELF_ASSERTED


def subject_assurance_refresh(*, subject: Subject) -> Subject:
    """Recompute the stored assurance (vouched > email_verified > self_asserted)."""
    level = _assurance_for(subject)
    if level != subject.assurance:
        subject.assurance = level
        subject.updated = timezone.now()
        subject.save(update_fields=["assurance", "updated"])
    return subject


def assurance_refresh_for_organization(*, organization_public_id: str) -> int:
    """Recompute the assurance of every subject an organization vouches for (after its verification
    was withdrawn, or given again); returns how many subjects changed."""
    subject_ids = Vouch.objects.filter(
        organization__public_id=organization_public_id, revoked_at__isnull=True
    ).values_list("subject_id", flat=True)
    changed = 0
    for subject in Subject.objects.filter(pk__in=list(subject_ids)):
        before = subject.assurance
        with transaction.atomic():
            if subject_assurance_refresh(subject=subject).assurance != before:
                changed += 1
    return changed


def subject_create(
    *,
    creator: User,
    display_name: str,
    status: str,
    adult_on: date | None = None,
    deceased_on: date | None = None,
    bio: str = "",
    is_public: bool = False,
) -> Subject:
    """Register a person; the creator becomes their representative (self, guardian or estate)."""
    day = today()
    errors: dict[str, list[str]] = {}
    if status == Subject.Status.MINOR:
        if adult_on is None:
            errors["adult_on"] = [_("Required for a minor: the day they come of age.")]
        elif adult_on <= day:
            errors["adult_on"] = [_("Must be in the future; from that day on they act for themselves.")]
    elif adult_on is not None:
        errors["adult_on"] = [_("Only for a minor.")]
    if status == Subject.Status.DECEASED:
        if deceased_on is None:
            errors["deceased_on"] = [_("Required for a deceased person.")]
        elif deceased_on > day:
            errors["deceased_on"] = [_("Cannot be in the future.")]
    elif deceased_on is not None:
        errors["deceased_on"] = [_("Only for a deceased person.")]
    if status not in Subject.Status.values:
        errors["status"] = [_("Must be living, minor or deceased.")]
    if errors:
        raise ValidationFailed(_("The subject's details are not valid."), errors=errors)
    role = AUTHORITY[status]
    with transaction.atomic():
        if (
            role == Representative.Role.SELF
            and Representative.objects.filter(user=creator, role=role, ended_at__isnull=True).exists()
        ):
            raise Conflict(_("You are already registered as yourself; a person has one subject record."))
        subject = Subject.objects.create(status=status, adult_on=adult_on, deceased_on=deceased_on)
        SubjectProfile.objects.create(subject=subject, display_name=display_name, bio=bio, is_public=is_public)
        Representative.objects.create(subject=subject, user=creator, role=role)
        subject_assurance_refresh(subject=subject)
        event_record(type="subject.created", payload={"subject": subject.public_id})
    return subject


def subject_profile_update(
    *, subject: Subject, actor: User, presence: Presence | None = None, **changes: Any
) -> Subject:
    """Change the subject's name, bio, notes or whether the profile is public (``edit_profile``).

    Changing who may see the profile is sensitive: it needs a fresh proof of presence."""
    rep = _require_representative(actor, subject)
    require_power(rep, "edit_profile")
    allowed = {"display_name", "bio", "notes", "is_public"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(_("Unknown profile fields."), errors={k: [_("Not a profile field.")] for k in unknown})
    current = SubjectProfile.objects.filter(subject=subject).first()
    if "is_public" in changes and bool(changes["is_public"]) != bool(current and current.is_public):
        require_presence(presence, action=_("change who may see this profile"))
    with transaction.atomic():
        profile, _created = SubjectProfile.objects.get_or_create(subject=subject, defaults={"display_name": ""})
        for field, value in changes.items():
            setattr(profile, field, value)
        profile.updated = timezone.now()
        profile.save()
        _touch(subject)
    return subject


def former_guardian_of(*, user: User, subject: Subject, on: date | None = None) -> Representative | None:
    """The user's guardianship of a person who has come of age and holds no record of their own yet:
    from then on a former guardian may do one thing, invite the person's own account as ``self``."""
    day = on or today()
    if not getattr(user, "is_authenticated", False) or subject.status != Subject.Status.MINOR:
        return None
    if subject.is_minor_on(day) or subject.adult_on is None:
        return None
    if Representative.objects.filter(subject=subject, role=Representative.Role.SELF, ended_at__isnull=True).exists():
        return None
    came_of_age = datetime.combine(subject.adult_on, datetime.min.time(), tzinfo=UTC)
    return (
        Representative.objects.filter(subject=subject, user=user, role=Representative.Role.GUARDIAN)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=came_of_age))
        .order_by("-created")
        .first()
    )


def _end_guardians(subject: Subject, now: datetime) -> int:
    guardians = Representative.objects.filter(subject=subject, role=Representative.Role.GUARDIAN, ended_at__isnull=True)
    ids = list(guardians.values_list("public_id", flat=True))
    guardians.update(ended_at=now)
    for public_id in ids:
        event_record(
            type="representative.ended",
            payload={"subject": subject.public_id, "representative": public_id, "reason": "came_of_age"},
        )
    return len(ids)


def guardianships_end_for(*, subject: Subject, on: date | None = None) -> int:
    """End the guardianships of one person if they have come of age (staff, and the sweep)."""
    day = on or today()
    if subject.status != Subject.Status.MINOR or subject.is_minor_on(day) or subject.adult_on is None:
        return 0
    with transaction.atomic():
        ended = _end_guardians(subject, timezone.now())
        subject_assurance_refresh(subject=subject)
    return ended


def guardianships_end_due(*, on: date | None = None) -> int:
    """The daily sweep: end the guardianships of everyone who has come of age (idempotent)."""
    day = on or today()
    due = Subject.objects.filter(
        status=Subject.Status.MINOR,
        adult_on__lte=day,
        representatives__role=Representative.Role.GUARDIAN,
        representatives__ended_at__isnull=True,
    ).distinct()
    return sum(guardianships_end_for(subject=subject, on=day) for subject in due)


@dataclass(frozen=True)
class _Appointment:
    """What adding a representative will grant, once checked (before the person is known)."""

    role: str
    scope: dict[str, list[str]]
    valid_until: date | None
    powers: list[str]
    principal: Representative | None  # an agent's principal (the person's own representation)

    def payload(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "scope": self.scope,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "powers": self.powers,
        }


def _appointment(
    *,
    subject: Subject,
    actor: User,
    role: str,
    scope: dict[str, list[str]] | None,
    valid_until: date | None,
    powers: list[str] | None,
    presence: Presence | None,
    check_presence: bool = True,
) -> _Appointment:
    """Every rule for adding a representative that does not depend on who is added.

    ``check_presence`` is off only when an invitation is accepted: the inviter proved presence
    when inviting; their authority is checked again then."""

    def present() -> None:
        if check_presence:
            require_presence(presence, action=_("add a representative"))

    day = today()
    appointer = representative_of(user=actor, subject=subject)
    if role == Representative.Role.SELF:
        if former_guardian_of(user=actor, subject=subject) is None:
            if appointer is None:
                raise NotFound(_("No such subject."))
            raise NotAllowed(_("Only a former guardian can hand the record to the person, once they have come of age."))
        if powers is not None:
            raise ValidationFailed(
                _("Only an agent's powers are chosen; a %(role)s holds them all.") % {"role": role},
                errors={"powers": [_("Only for an agent.")]},
            )
        present()
        return _Appointment(role=role, scope={}, valid_until=None, powers=list(POWERS), principal=None)
    if appointer is None:
        raise NotFound(_("No such subject."))
    require_power(appointer, "manage_representatives")
    status = subject.effective_status(day)
    if role == Representative.Role.AGENT:
        if status != Subject.Status.LIVING or appointer.role not in (
            Representative.Role.SELF,
            Representative.Role.AGENT,
        ):
            raise NotAllowed(_("Only a living adult can appoint an agent, for themselves."))
        principal = appointer
        if appointer.role == Representative.Role.AGENT:
            authority_check(rep=appointer, subject=subject)
            principal = appointer.delegated_by  # type: ignore[assignment]  # checked by authority_check
        present()
        powers = _clean_powers(powers)
        scope = _clean_scope(scope or (appointer.scope if appointer.role == Representative.Role.AGENT else {}))
        if valid_until is not None and valid_until < day:
            raise ValidationFailed(
                _("The delegation would end in the past."), errors={"valid_until": [_("In the past.")]}
            )
        if appointer.role == Representative.Role.AGENT:
            _within_appointer(appointer, powers=powers, scope=scope, valid_until=valid_until)
            if valid_until is None:
                valid_until = appointer.valid_until
        return _Appointment(role=role, scope=scope, valid_until=valid_until, powers=powers, principal=principal)
    if role != AUTHORITY.get(status) or role == Representative.Role.SELF:
        raise ValidationFailed(
            _("That role does not fit this person."),
            errors={
                "role": [
                    _("For a %(status)s person you can add: %(roles)s.") % {"status": status, "roles": _addable(status)}
                ]
            },
        )
    if powers is not None:
        raise ValidationFailed(
            _("Only an agent's powers are chosen; a %(role)s holds them all.") % {"role": role},
            errors={"powers": [_("Only for an agent.")]},
        )
    authority_check(rep=appointer, subject=subject)
    present()
    return _Appointment(role=role, scope={}, valid_until=None, powers=list(POWERS), principal=None)


def representative_add(
    *,
    subject: Subject,
    actor: User,
    user: User,
    role: str,
    scope: dict[str, list[str]] | None = None,
    valid_until: date | None = None,
    powers: list[str] | None = None,
    presence: Presence | None = None,
) -> Representative:
    """Add a guardian (to a minor), an estate member (to a deceased person) or an agent (to a living adult).

    An agent is appointed by the person (or by an agent holding ``manage_representatives``, never
    beyond what it holds itself), limited to ``scope`` (media, activities, purposes), ``powers``
    (default sign and revoke) and, if ``valid_until`` is set, until that day. Once a minor has come
    of age, a former guardian may only add the person's own account as ``self``; that hands the
    record over and ends every guardian. Needs a fresh proof of presence. The API invites instead
    (``representative_invite``): nobody gets authority without accepting.
    """
    plan = _appointment(
        subject=subject,
        actor=actor,
        role=role,
        scope=scope,
        valid_until=valid_until,
        powers=powers,
        presence=presence,
    )
    return _appoint(subject, user, plan)


def _appoint(subject: Subject, user: User, plan: _Appointment) -> Representative:
    if plan.role == Representative.Role.SELF:
        return _hand_over(subject=subject, user=user)
    with transaction.atomic():
        if Representative.objects.filter(subject=subject, user=user, role=plan.role, ended_at__isnull=True).exists():
            raise Conflict(_("This person already represents the subject in that role."))
        new = Representative.objects.create(
            subject=subject,
            user=user,
            role=plan.role,
            scope=plan.scope,
            valid_until=plan.valid_until,
            powers=plan.powers,
            delegated_by=plan.principal if plan.role == Representative.Role.AGENT else None,
        )
        subject_assurance_refresh(subject=subject)
        event_record(
            type="representative.added",
            payload={"subject": subject.public_id, "representative": new.public_id, "role": plan.role},
        )
        _notify(subject, "representative.added", new.public_id)
    return new


REPRESENTATIVE_INVITATION = "representative"


def representative_invite(
    *,
    subject: Subject,
    actor: User,
    email: str,
    role: str,
    scope: dict[str, list[str]] | None = None,
    valid_until: date | None = None,
    powers: list[str] | None = None,
    presence: Presence | None = None,
    base_url: str = "",
) -> Any:
    """Invite ``email`` to represent the subject: the same checks as ``representative_add``, the same
    answer whether or not the address has an account (no account is looked up), and no authority
    until the invitee accepts (``POST /api/v1/invitations/{id}/accept`` or the emailed link)."""
    from registry.accounts.services import invitation_create

    plan = _appointment(
        subject=subject,
        actor=actor,
        role=role,
        scope=scope,
        valid_until=valid_until,
        powers=powers,
        presence=presence,
    )
    return invitation_create(
        kind=REPRESENTATIVE_INVITATION,
        email=email,
        created_by=actor,
        target=subject.public_id,
        payload=plan.payload(),
        base_url=base_url,
    )


def subject_hand_over_invite(*, subject: Subject, email: str, staff_user: User, base_url: str = "") -> Any:
    """Registry staff invite the person's own account to take over a record once they have come of
    age (API.md "Coming of age": staff can do what a former guardian can). The person must accept;
    on acceptance every guardian ends, as when a former guardian invites them."""
    from registry.accounts.services import invitation_create

    _require_staff_hand_over(staff_user, subject)
    return invitation_create(
        kind=REPRESENTATIVE_INVITATION,
        email=email,
        created_by=staff_user,
        target=subject.public_id,
        payload={"role": Representative.Role.SELF, "by_staff": True},
        base_url=base_url,
    )


def _require_staff_hand_over(staff_user: User, subject: Subject) -> None:
    if not (staff_user.is_active and staff_user.is_staff):
        raise NotAllowed(_("Only registry staff can hand a record over."))
    if subject.status != Subject.Status.MINOR or subject.adult_on is None or subject.adult_on > today():
        raise Conflict(_("Only the record of a person who has come of age can be handed over to them."))


def representative_invitation_accept(invitation: Any, user: User) -> Representative:
    """Accepting a representative invitation: the inviter's authority is checked again now (an
    invitation dies with it), then the representation starts."""
    subject = Subject.objects.filter(public_id=invitation.target).first()
    inviter = invitation.created_by
    if subject is None or inviter is None or not inviter.is_active:
        raise Conflict(_("This invitation can no longer be accepted; ask for a new one."))
    terms = invitation.payload or {}
    if terms.get("by_staff"):
        try:
            _require_staff_hand_over(inviter, subject)
        except NotAllowed:
            raise Conflict(_("This invitation can no longer be accepted; ask for a new one.")) from None
        return _hand_over(subject=subject, user=user)
    until = terms.get("valid_until")
    role = str(terms.get("role", ""))
    try:
        plan = _appointment(
            subject=subject,
            actor=inviter,
            role=role,
            scope=terms.get("scope") or None,
            valid_until=date.fromisoformat(until) if until else None,
            powers=terms.get("powers") if role == Representative.Role.AGENT else None,
            presence=None,
            check_presence=False,
        )
    except (NotFound, NotAllowed):
        raise Conflict(
            _("The person who invited you can no longer add representatives; ask for a new invitation.")
        ) from None
    return _appoint(subject, user, plan)


def representative_invitation_describe(invitation: Any) -> str:
    role = (invitation.payload or {}).get("role", "")
    return _("to represent a person on Restu as %(role)s (%(subject)s)") % {
        "role": role,
        "subject": invitation.target,
    }


def _within_appointer(
    appointer: Representative, *, powers: list[str], scope: dict[str, list[str]], valid_until: date | None
) -> None:
    """An agent appoints another only within what it holds: powers, scope and dates."""
    beyond = sorted(set(powers) - set(appointer.effective_powers))
    if beyond:
        raise NotAllowed(_("You cannot delegate powers you do not hold: %(powers)s.") % {"powers": ", ".join(beyond)})
    mine, theirs = appointer.scope or {}, scope
    for key, mask in (("media", v.media_mask), ("activities", v.activity_mask), ("purposes", v.purpose_mask)):
        try:
            if mask(theirs.get(key, [])) & ~mask(mine.get(key, [])):
                raise NotAllowed(_("You cannot delegate beyond your own delegation."))
        except (KeyError, ValueError, TypeError):
            raise NotAllowed(_("You cannot delegate beyond your own delegation.")) from None
    if appointer.valid_until is not None and valid_until is not None and valid_until > appointer.valid_until:
        raise NotAllowed(_("You cannot delegate beyond the end of your own delegation."))


def _hand_over(*, subject: Subject, user: User) -> Representative:
    """A person who has come of age takes their record over (added by a former guardian): every
    guardian ends, and the person acts for themselves from then on."""
    with transaction.atomic():
        if Representative.objects.filter(subject=subject, user=user, role=Representative.Role.GUARDIAN).exists():
            raise NotAllowed(_("A guardian cannot take the person's own place; invite the person's own account."))
        if Representative.objects.filter(user=user, role=Representative.Role.SELF, ended_at__isnull=True).exists():
            raise Conflict(_("That account already holds a record of its own."))
        now = timezone.now()
        new = Representative.objects.create(
            subject=subject, user=user, role=Representative.Role.SELF, powers=list(POWERS)
        )
        _end_guardians(subject, now)
        Subject.objects.filter(pk=subject.pk).update(status=Subject.Status.LIVING, updated=now)
        subject.status = Subject.Status.LIVING
        subject_assurance_refresh(subject=subject)
        event_record(
            type="representative.added",
            payload={"subject": subject.public_id, "representative": new.public_id, "role": new.role},
        )
        _notify(subject, "representative.added", new.public_id)
    return new


def _addable(status: str) -> str:
    return {"living": "agent", "minor": "guardian", "deceased": "estate"}[status]


def _clean_scope(scope: dict[str, Any]) -> dict[str, list[str]]:
    media = scope.get("media", [v.LIKENESS])
    activities = scope.get("activities", list(v.ACTIVITY_KEYS))
    purposes = scope.get("purposes", [v.ANY])
    errors = {}
    errors.update(_check_media(media, "scope.media"))
    errors.update(_check_activities(activities, "scope.activities"))
    errors.update(_check_purposes(purposes, "scope.purposes"))
    if errors:
        raise ValidationFailed(_("The delegation is not valid."), errors=errors)
    return {"media": sorted(set(media)), "activities": sorted(set(activities)), "purposes": sorted(set(purposes))}


def representative_end(
    *, representative: Representative, actor: User, presence: Presence | None = None
) -> Representative:
    """End a representation: one's own, or an agent one appointed (``manage_representatives``).
    Ending a principal ends its agents. Needs a fresh proof of presence."""
    if representative.ended_at is not None:
        return representative
    actor_rep = representative_of(user=actor, subject=representative.subject)
    if actor_rep is None:
        raise NotFound(_("No such representative."))
    own = representative.user_id == actor.pk
    if not own:
        require_power(actor_rep, "manage_representatives")
        principal = actor_rep if actor_rep.role != Representative.Role.AGENT else actor_rep.delegated_by
        appointed = (
            representative.role == Representative.Role.AGENT
            and principal is not None
            and representative.delegated_by_id == principal.pk
            and (
                actor_rep.role != Representative.Role.AGENT
                or set(representative.effective_powers) <= set(actor_rep.effective_powers)
            )
        )
        if not appointed:
            raise NotAllowed(_("You can end only your own representation or an agent you appointed."))
    require_presence(presence, action=_("end a representation"))
    with transaction.atomic():
        now = timezone.now()
        Representative.objects.filter(pk=representative.pk).update(ended_at=now)
        Representative.objects.filter(delegated_by=representative, ended_at__isnull=True).update(ended_at=now)
        representative.ended_at = now
        subject_assurance_refresh(subject=representative.subject)
        event_record(
            type="representative.ended",
            payload={"subject": representative.subject.public_id, "representative": representative.public_id},
        )
    return representative


# --- Subject keys -----------------------------------------------------------------------------


def subject_key_statement(key: SubjectKey) -> dict[str, Any]:
    return {
        "type": "restu.subject-key/v1",
        "id": key.public_id,
        "subject": key.subject.public_id,
        "kid": key.kid,
        "jwk": key.public_jwk,
    }


def subject_key_add_statement(subject: Subject, kid: str) -> dict[str, Any]:
    """What one of the subject's active keys signs (compact JWS) to add another key without a
    re-authentication: the proof of presence a key holder carries."""
    return {
        "type": "restu.subject-key-add/v1",
        "registry": settings.REGISTRY_ISSUER,
        "subject": subject.public_id,
        "kid": kid,
    }


def subject_key_retire_statement(key: SubjectKey) -> dict[str, Any]:
    """What one of the subject's active keys signs to retire ``key`` without a re-authentication."""
    return {
        "type": "restu.subject-key-retire/v1",
        "registry": settings.REGISTRY_ISSUER,
        "subject": key.subject.public_id,
        "kid": key.kid,
    }


def subject_key_add(
    *,
    subject: Subject,
    actor: User,
    public_jwk: Any,
    presence: Presence | None = None,
    signature: str | None = None,
) -> SubjectKey:
    """Register an Ed25519 public key the subject signs with; its kid is the RFC 7638 thumbprint.

    A key signs and revokes consents, so adding one needs ``manage_keys`` and a proof of presence:
    a fresh re-authentication, or ``signature``, a JWS by one of the subject's active keys over
    ``subject_key_add_statement``. A key added without one can never exist."""
    rep = _require_representative(actor, subject)
    require_power(rep, "manage_keys")
    authority_check(rep=rep, subject=subject)
    if signature is None:
        require_presence(presence, action=_("add a signing key"))
    try:
        jwk = normalize_public_jwk(public_jwk)
    except ValueError as exc:
        raise ValidationFailed(_("That is not an Ed25519 public JWK."), errors={"public_jwk": [str(exc)]}) from None
    if signature is not None:
        statement = subject_key_add_statement(subject, jwk_thumbprint(jwk))
        _verify_subject_signature(subject, signature, canonical_json(statement))
    kid = jwk_thumbprint(jwk)
    with transaction.atomic():
        if SubjectKey.objects.filter(subject=subject, kid=kid).exists():
            raise Conflict(_("This key is already registered for the subject (keys are never reused)."))
        key = SubjectKey.objects.create(subject=subject, kid=kid, public_jwk={**jwk, "kid": kid}, added_by=rep)
        digest = _statement_digest(subject_key_statement(key))
        event_record(type="subject_key.added", payload={"subject": subject.public_id, "kid": kid, "digest": digest})
        log_append(type="subject_key.added", ref=key.public_id, digest=digest)
    return key


def subject_key_retire(
    *, key: SubjectKey, actor: User, presence: Presence | None = None, signature: str | None = None
) -> SubjectKey:
    """Retire a key: it signs nothing new, and signatures it made stay verifiable (``manage_keys``;
    a fresh re-authentication, or a JWS by an active key over ``subject_key_retire_statement``)."""
    rep = _require_representative(actor, key.subject)
    require_power(rep, "manage_keys")
    authority_check(rep=rep, subject=key.subject)
    if signature is None:
        require_presence(presence, action=_("retire a signing key"))
    else:
        _verify_subject_signature(key.subject, signature, canonical_json(subject_key_retire_statement(key)))
    # Locked and read again: a concurrent retirement, or a failed attempt that changed only the
    # caller's copy, must neither log twice nor skip the log.
    with transaction.atomic():
        locked = SubjectKey.objects.select_for_update(of=("self",)).select_related("subject").get(pk=key.pk)
        if locked.retired_at is not None:
            return locked
        locked.retired_at = timezone.now()
        locked.save(update_fields=["retired_at"])
        digest = _statement_digest({**subject_key_statement(locked), "retired_at": _stamp(locked.retired_at)})
        event_record(
            type="subject_key.retired",
            payload={"subject": locked.subject.public_id, "kid": locked.kid, "digest": digest},
        )
        log_append(type="subject_key.retired", ref=locked.public_id, digest=digest)
    return locked


# --- Vouches ----------------------------------------------------------------------------------


def vouch_statement(vouch: Vouch) -> dict[str, Any]:
    return {
        "type": "restu.vouch/v1",
        "id": vouch.public_id,
        "subject": vouch.subject.public_id,
        "organization": vouch.organization.public_id,
        "given_at": _stamp(vouch.created),
    }


def vouch_give(
    *,
    subject: Subject,
    organization: Organization | None,
    actor_role: str | None,
    user: User,
    api_key: ApiKey | None = None,
) -> Vouch:
    """A guild or agency verified by registry staff vouches for the subject's identity (any member
    of it may); any other organization is refused (403) and nothing is written. ``actor_role`` is
    None for an organization that does not exist (None) or that the caller is not a member of."""
    if actor_role is None or organization is None:
        raise ValidationFailed(
            _("You are not a member of that organization."), errors={"organization": [_("Unknown organization.")]}
        )
    if not organization.may_vouch:
        raise NotAllowed(_("Only a guild or an agency verified by Restu's staff can vouch for someone."))
    with transaction.atomic():
        if Vouch.objects.filter(subject=subject, organization=organization, revoked_at__isnull=True).exists():
            raise Conflict(_("This organization already vouches for the subject."))
        vouch = Vouch.objects.create(subject=subject, organization=organization, given_by=user, given_by_key=api_key)
        subject_assurance_refresh(subject=subject)
        digest = _statement_digest(vouch_statement(vouch))
        event_record(
            type="vouch.given",
            payload={"vouch": vouch.public_id, "subject": subject.public_id, "organization": organization.public_id},
        )
        _notify(subject, "vouch.given", vouch.public_id)
        log_append(type="vouch.given", ref=vouch.public_id, digest=digest)
    return vouch


def vouch_revoke(*, vouch: Vouch, actor_role: str | None) -> Vouch:
    """The vouching organization withdraws its vouch; the subject's assurance drops accordingly."""
    if actor_role is None:
        raise NotFound(_("No such vouch."))
    with transaction.atomic():  # locked and read again, as for a key's retirement
        locked = (
            Vouch.objects.select_for_update(of=("self",)).select_related("subject", "organization").get(pk=vouch.pk)
        )
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        subject_assurance_refresh(subject=locked.subject)
        digest = _statement_digest({**vouch_statement(locked), "revoked_at": _stamp(locked.revoked_at)})
        event_record(
            type="vouch.revoked",
            payload={"vouch": locked.public_id, "subject": locked.subject.public_id},
        )
        log_append(type="vouch.revoked", ref=locked.public_id, digest=digest)
    return locked


# --- Consent terms ----------------------------------------------------------------------------


def _check_media(media: Any, field: str = "media") -> dict[str, list[str]]:
    if not isinstance(media, list) or not media:
        return {field: [_("Name at least one of face, voice, body — or likeness for all of them.")]}
    unknown = [m for m in media if m not in (*v.MEDIA_KEYS, v.LIKENESS)]
    return {field: [_("Unknown medium: %(medium)s.") % {"medium": m} for m in unknown]} if unknown else {}


def _check_activities(activities: Any, field: str = "activities") -> dict[str, list[str]]:
    if not isinstance(activities, list) or not activities:
        return {field: [_("Name at least one activity.")]}
    unknown = [a for a in activities if a not in v.ACTIVITY_KEYS]
    return {field: [_("Unknown activity: %(activity)s.") % {"activity": a} for a in unknown]} if unknown else {}


def _check_purposes(purposes: Any, field: str = "purposes") -> dict[str, list[str]]:
    if not isinstance(purposes, list) or not purposes:
        return {field: [_("Name at least one purpose, or * for every purpose that is not sensitive.")]}
    problems = []
    for p in purposes:
        if not isinstance(p, str):
            problems.append(_("Each purpose is a word from the vocabulary."))
        elif "*" in p and p != v.ANY:
            # "sexual_*", "*sensitive" and the like: a wildcard must never reach a sensitive purpose.
            problems.append(
                _(
                    "%(purpose)s: a wildcard cannot cover sensitive purposes; "
                    "name political or sexual_content one by one."
                )
                % {"purpose": p}
            )
        elif p != v.ANY and p not in v.PURPOSE_KEYS:
            problems.append(_("Unknown purpose: %(purpose)s.") % {"purpose": p})
    return {field: problems} if problems else {}


def _check_minor_purposes(purposes: Any) -> dict[str, list[str]]:
    """A permit for a minor never covers a sexual or political purpose (a deny may name them)."""
    named = [p for p in MINOR_FORBIDDEN_PURPOSES if isinstance(purposes, (list, tuple)) and p in purposes]
    if not named:
        return {}
    return {"purposes": [_("A permit for a minor can never include %(purpose)s.") % {"purpose": p} for p in named]}


def _minor_permit_forbidden(consent: Consent) -> dict[str, list[str]]:
    """The same rule on a stored consent: its purposes and its purpose mask."""
    if consent.effect != Consent.Effect.PERMIT or consent.subject.status != Subject.Status.MINOR:
        return {}
    named = set(consent.purposes or []) | {
        p for p in MINOR_FORBIDDEN_PURPOSES if consent.purpose_mask & v.bit(v.PURPOSE_KEYS, p)
    }
    return _check_minor_purposes(sorted(named))


def _check_territories(territories: Any) -> dict[str, list[str]]:
    import pycountry

    if not isinstance(territories, list) or not territories:
        return {"territories": [_("Name at least one country (ISO 3166-1 alpha-2), or * for everywhere.")]}
    if v.ANY in territories:
        return {} if territories == [v.ANY] else {"territories": ["* means everywhere: use it alone."]}
    unknown = [
        t
        for t in territories
        if not isinstance(t, str) or len(t) != 2 or not t.isupper() or pycountry.countries.get(alpha_2=t) is None
    ]
    return {"territories": [_("Unknown country code: %(code)s.") % {"code": t} for t in unknown]} if unknown else {}


@dataclass
class Terms:
    """A consent's terms after validation, ready to be stored and canonicalized."""

    effect: str
    grantee: str
    grantee_org: Organization | None
    production: str | None
    media: list[str]
    activities: list[str]
    purposes: list[str]
    territories: list[str]
    valid_from: date
    valid_until: date | None
    intended_use: str
    conditions: dict[str, Any]
    revocation_policy: str
    revocation_notice_days: int
    representation: str
    court_approval_ref: str | None
    guideline_ref: str | None
    guideline_digest: str | None


CONDITION_DEFAULTS: dict[str, Any] = {
    "attribution_required": False,
    "approval_required": False,
    "disclosure_label_required": False,
    "compensation_ref": "",
    "notes": "",
}


def _guideline_digest(ref: str) -> str:
    """The digest of a published guideline version; ValidationFailed for anything else."""
    try:
        from guidelines.selectors import guideline_version_get_published
    except ImportError:
        # Without the guidelines app we cannot confirm the version is published: refuse.
        raise ValidationFailed(
            _("Guidelines cannot be checked right now."),
            errors={"guideline": [_("Not a published guideline version.")]},
        ) from None
    try:
        version = guideline_version_get_published(ref=ref)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.detail, errors={"guideline": (exc.errors or {}).get("guideline", [exc.detail])}
        ) from None
    except NotFound as exc:
        raise ValidationFailed(exc.detail, errors={"guideline": [_("Not a published guideline version.")]}) from None
    return str(version.digest)


def _validate_terms(subject: Subject, data: dict[str, Any]) -> Terms:
    errors: dict[str, list[str]] = {}
    effect = data.get("effect")
    if effect not in Consent.Effect.values:
        errors["effect"] = [_("Must be permit or deny.")]
    grantee = data.get("grantee")
    grantee_org = None
    if grantee != v.ANY:
        grantee_org = Organization.objects.filter(public_id=grantee).first() if isinstance(grantee, str) else None
        if grantee_org is None:
            errors["grantee"] = [_("An organization id (org_…) or * for anyone.")]
    # Raw request values, of any type until the _check_* below accept them (lists of words).
    media: Any = data.get("media")
    activities: Any = data.get("activities") or list(v.DEFAULT_ACTIVITIES)
    purposes: Any = data.get("purposes")
    territories: Any = data.get("territories")
    errors.update(_check_media(media))
    errors.update(_check_activities(activities))
    errors.update(_check_purposes(purposes))
    if effect == Consent.Effect.PERMIT and subject.status == Subject.Status.MINOR:
        errors.update(_check_minor_purposes(purposes))
    errors.update(_check_territories(territories))
    valid_from = data.get("valid_from") or today()
    valid_until = data.get("valid_until")
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = [_("Must not be before valid_from.")]
    if subject.status == Subject.Status.MINOR and subject.adult_on is not None:
        # A consent for a minor ends no later than the day they come of age.
        if valid_until is None:
            valid_until = subject.adult_on
        elif valid_until > subject.adult_on:
            errors["valid_until"] = [
                _("A consent for a minor ends by the day they come of age (%(day)s).") % {"day": subject.adult_on}
            ]
        if valid_from >= subject.adult_on:
            errors["valid_from"] = [_("The person is an adult by then; they decide for themselves.")]
    conditions = {**CONDITION_DEFAULTS, **(data.get("conditions") or {})}
    unknown_conditions = set(conditions) - set(CONDITION_DEFAULTS)
    if unknown_conditions:
        errors["conditions"] = [
            _("Unknown condition: %(condition)s.") % {"condition": c} for c in sorted(unknown_conditions)
        ]
    revocation = data.get("revocation") or {"policy": "anytime"}
    policy = revocation.get("policy", "anytime")
    notice_days = revocation.get("notice_days", 0) if policy == "notice" else 0
    if policy not in Consent.RevocationPolicy.values:
        errors["revocation.policy"] = [_("Must be anytime or notice.")]
    elif policy == "notice" and not (
        isinstance(notice_days, int) and not isinstance(notice_days, bool) and 1 <= notice_days <= MAX_NOTICE_DAYS
    ):
        errors["revocation.notice_days"] = [
            _("Between 1 and %(days)s days for a notice policy.") % {"days": MAX_NOTICE_DAYS}
        ]
    representation = data.get("representation") or Consent.Representation.NONE
    if representation not in Consent.Representation.values:
        errors["representation"] = [_("Must be counsel, union or none.")]
    intended_use = (data.get("intended_use") or "").strip()
    if effect == Consent.Effect.PERMIT and len(intended_use) < 10:
        errors["intended_use"] = [_("Describe the intended use in a few words (at least 10 characters).")]
    guideline_ref = data.get("guideline")
    guideline_digest = None
    if guideline_ref is not None and not (isinstance(guideline_ref, str) and GUIDELINE_REF.match(guideline_ref)):
        errors["guideline"] = [_("A guideline reference looks like slug@1.2.0.")]
    if errors:
        raise ValidationFailed(_("The consent's terms are not valid."), errors=errors)
    if guideline_ref is not None:
        guideline_digest = _guideline_digest(guideline_ref)
    return Terms(
        effect=str(effect),
        grantee=str(grantee),
        grantee_org=grantee_org,
        production=data.get("production") or None,
        media=sorted(set(media)),
        activities=sorted(set(activities)),
        purposes=sorted(set(purposes)),
        territories=sorted(set(territories)),
        valid_from=valid_from,
        valid_until=valid_until,
        intended_use=intended_use,
        conditions=conditions,
        revocation_policy=policy,
        revocation_notice_days=notice_days,
        representation=representation,
        court_approval_ref=data.get("court_approval_ref") or None,
        guideline_ref=guideline_ref,
        guideline_digest=guideline_digest,
    )


def consent_terms_document(consent: Consent) -> dict[str, Any]:
    """The canonical terms: exactly what gets signed. No names or other personal data."""
    return {
        "type": CONSENT_TERMS_TYPE,
        "registry": settings.REGISTRY_ISSUER,
        "id": consent.public_id,
        "subject": consent.subject.public_id,
        "effect": consent.effect,
        "grantee": consent.grantee,
        "production": consent.production,
        "media": consent.media,
        "activities": consent.activities,
        "purposes": consent.purposes,
        "territories": consent.territories,
        "valid_from": consent.valid_from.isoformat(),
        "valid_until": consent.valid_until.isoformat() if consent.valid_until else None,
        "intended_use": consent.intended_use,
        "conditions": consent.conditions,
        "revocation": {"policy": consent.revocation_policy, "notice_days": consent.revocation_notice_days},
        "representation": consent.representation,
        "court_approval_ref": consent.court_approval_ref,
        "guideline": (
            {"ref": consent.guideline_ref, "digest": consent.guideline_digest} if consent.guideline_ref else None
        ),
    }


def consent_signing_input(consent: Consent) -> str:
    """base64url of the canonical terms: the exact bytes a subject key signs."""
    return b64url_encode(canonical_json(consent.terms))


def revocation_statement(consent: Consent) -> dict[str, Any]:
    """What a subject key signs to revoke: the consent and the digest of its terms."""
    return {
        "type": REVOCATION_TYPE,
        "registry": settings.REGISTRY_ISSUER,
        "consent": consent.public_id,
        "digest": consent.digest,
    }


def revocation_signing_input(consent: Consent) -> str:
    return b64url_encode(canonical_json(revocation_statement(consent)))


def _apply_terms(consent: Consent, terms: Terms) -> None:
    for field, value in terms.__dict__.items():
        setattr(consent, field, value)
    consent.media_mask = v.media_mask(terms.media)
    consent.activity_mask = v.activity_mask(terms.activities)
    consent.purpose_mask = v.purpose_mask(terms.purposes)
    consent.territory_codes = v.ANY if terms.territories == [v.ANY] else "|" + "|".join(terms.territories) + "|"
    consent.terms = consent_terms_document(consent)
    consent.digest = sha256_digest(canonical_json(consent.terms))


def consent_create(*, subject: Subject, actor: User, terms: dict[str, Any]) -> Consent:
    """Write a draft consent (permit or deny) for a subject the actor represents."""
    rep = _require_representative(actor, subject)
    require_power(rep, "sign")
    validated = _validate_terms(subject, terms)
    consent = Consent(subject=subject, created_by=rep, public_id=new_public_id(Consent.PREFIX))
    _apply_terms(consent, validated)
    with transaction.atomic():
        consent.save()
        ConsentEvent.objects.create(consent=consent, type=ConsentEvent.Type.CREATED, actor=rep, digest=consent.digest)
    return consent


def consent_update(*, consent: Consent, actor: User, changes: dict[str, Any]) -> Consent:
    """Change a draft's terms; a signed consent never changes (409): make a new one instead."""
    rep = _require_representative(actor, consent.subject)
    require_power(rep, "sign")
    if consent.status != Consent.Status.DRAFT:
        raise Conflict(_("A signed consent cannot be changed; revoke it and create a new one."))
    current = {
        "effect": consent.effect,
        "grantee": consent.grantee,
        "production": consent.production,
        "media": consent.media,
        "activities": consent.activities,
        "purposes": consent.purposes,
        "territories": consent.territories,
        "valid_from": consent.valid_from,
        "valid_until": consent.valid_until,
        "intended_use": consent.intended_use,
        "conditions": consent.conditions,
        "revocation": {"policy": consent.revocation_policy, "notice_days": consent.revocation_notice_days},
        "representation": consent.representation,
        "court_approval_ref": consent.court_approval_ref,
        "guideline": consent.guideline_ref,
    }
    validated = _validate_terms(consent.subject, {**current, **changes})
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != Consent.Status.DRAFT:
            raise Conflict(_("A signed consent cannot be changed; revoke it and create a new one."))
        _apply_terms(consent, validated)
        consent.updated = timezone.now()
        consent.save()
        ConsentEvent.objects.create(consent=consent, type=ConsentEvent.Type.UPDATED, actor=rep, digest=consent.digest)
    return consent


# --- Signing ----------------------------------------------------------------------------------


def _subject_jwks(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [dict(k.public_jwk) for k in SubjectKey.objects.filter(subject=subject, retired_at__isnull=True)]}


def _verify_subject_signature(subject: Subject, signature: str | None, expected: bytes) -> str:
    if not signature:
        raise ValidationFailed(_("A signature is required."), errors={"signature": [_("A compact JWS.")]})
    try:
        verified = verify_compact(signature, _subject_jwks(subject))
    except VerificationError as exc:
        raise ValidationFailed(
            _("The signature does not verify against the subject's active keys."),
            errors={"signature": [exc.reason]},
        ) from None
    if verified.payload != expected:
        raise ValidationFailed(
            _("The signature is over other bytes than this record's signing input."),
            errors={"signature": ["payload differs from the signing input"]},
        )
    return verified.kid


def consent_sign(
    *,
    consent: Consent,
    actor: User,
    method: str,
    signature: str | None = None,
    witness: Presence | None = None,
    language: str = "en",
    notice_digest: str | None = None,
) -> Consent:
    """Sign a draft: by a subject key (a JWS over the signing input) or witnessed by the registry.

    Freezes the terms, stores the plain-language summary the signer was shown and its digest,
    appends ``consent.signed`` to the log and records the event, all in one transaction.
    """
    subject = consent.subject
    rep = _require_representative(actor, subject)
    if consent.status != Consent.Status.DRAFT:
        raise Conflict(_("This consent is already signed."))
    require_power(rep, "sign")
    authority_check(rep=rep, subject=subject, consent=consent)
    forbidden = _minor_permit_forbidden(consent)
    if forbidden:
        raise ValidationFailed(_("This permit cannot be signed for a minor."), errors=forbidden)
    if consent.effect == Consent.Effect.PERMIT and subject.disputed:
        raise Conflict(_("A dispute about this person is open; new permits wait until staff resolve it."))
    if consent.valid_until is not None and consent.valid_until < today():
        raise Conflict(_("This consent would already have ended; change its dates first."))
    if subject.status == Subject.Status.MINOR and not subject.is_minor_on(today()):
        raise NotAllowed(_("The person has come of age; only they can give consent now."))
    language = language if language in LANGUAGES else "en"
    summary = consent_summary(consent, language)
    shown_digest = sha256_digest(summary.encode("utf-8"))
    if notice_digest is not None and notice_digest != shown_digest:
        raise Conflict(_("The summary you saw is out of date; read it again before signing."))
    now = timezone.now()
    second_factor: bool | None = None
    if method == Consent.Method.SUBJECT_KEY:
        kid = _verify_subject_signature(subject, signature, canonical_json(consent.terms))
        stored_signature = str(signature)
    elif method == Consent.Method.WITNESSED:
        evidence = require_presence(witness, action=_("sign this consent"))
        second_factor = evidence.second_factor
        registry_key = keys.keyring().active(keys.RECEIPT)
        kid = registry_key.kid
        countersignature = {
            "type": "restu.consent-witness/v1",
            "iss": settings.REGISTRY_ISSUER,
            "consent": consent.public_id,
            "subject": subject.public_id,
            "digest": consent.digest,
            "notice_digest": shown_digest,
            "signer": rep.public_id,
            "role": rep.role,
            "authenticated_at": _stamp(evidence.authenticated_at),
            "second_factor": evidence.second_factor,
            "signed_at": _stamp(now),
        }
        stored_signature = sign_compact(
            canonical_json(countersignature), registry_key.private_key, registry_key.kid, typ=WITNESS_TYP
        )
    else:
        raise ValidationFailed(_("Unknown signing method."), errors={"method": ["subject_key or witnessed."]})
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != Consent.Status.DRAFT or locked.digest != consent.digest:
            raise Conflict(_("This consent changed or was signed meanwhile."))
        consent.status = Consent.Status.ACTIVE
        consent.signed_at, consent.signed_by, consent.method = now, rep, method
        consent.signature, consent.signer_kid, consent.second_factor = stored_signature, kid, second_factor
        consent.notice_summary, consent.notice_language, consent.notice_digest = summary, language, shown_digest
        consent.updated = now
        consent.save()
        event_record(
            type="consent.signed",
            payload={"consent": consent.public_id, "subject": subject.public_id, "digest": consent.digest},
            audience=[consent.grantee_org.public_id] if consent.grantee_org else None,
        )
        _notify(subject, "consent.signed", consent.public_id)
        entry = log_append(type="consent.signed", ref=consent.public_id, digest=consent.digest, at=now)
        # The one write after the leaf: the history row records the leaf's index, which exists only
        # now. A single small insert, so the log's lock is held barely longer.
        ConsentEvent.objects.create(
            consent=consent,
            type=ConsentEvent.Type.SIGNED,
            at=now,
            actor=rep,
            digest=consent.digest,
            log_index=entry.index,
        )
    return consent


# --- Revocation and expiry -------------------------------------------------------------------


def _relying_organizations(consent: Consent) -> list[str]:
    """The named grantee and every organization that got a ``permitted`` answer relying on it."""
    checked = AccessLogEntry.objects.filter(consent=consent, decision="permitted", caller_org__isnull=False)
    orgs = set(checked.values_list("caller_org__public_id", flat=True))
    if consent.grantee_org is not None:
        orgs.add(consent.grantee_org.public_id)
    return sorted(orgs)


def consent_revoke(
    *,
    consent: Consent,
    actor: User,
    reason: str = "",
    method: str = Consent.Method.WITNESSED,
    signature: str | None = None,
    witness: Presence | None = None,
) -> Consent:
    """Revoke an active consent: at once (policy ``anytime``) or after the notice period.

    Authenticated as strictly as signing: a fresh re-authentication, or a subject-key JWS over
    the revocation statement. Logged (``consent.revoked``) and evented for the grantee.
    """
    subject = consent.subject
    rep = _require_representative(actor, subject)
    if consent.status != Consent.Status.ACTIVE:
        raise Conflict(_("Only an active consent can be revoked; this one is %(status)s.") % {"status": consent.status})
    require_power(rep, "revoke")
    authority_check(rep=rep, subject=subject, consent=consent)
    revocation_signature = ""
    if method == Consent.Method.SUBJECT_KEY:
        _verify_subject_signature(subject, signature, canonical_json(revocation_statement(consent)))
        revocation_signature = str(signature)
    elif method == Consent.Method.WITNESSED:
        require_presence(witness, action=_("revoke this consent"))
    else:
        raise ValidationFailed(_("Unknown method."), errors={"method": [_("subject_key or witnessed.")]})
    now = timezone.now()
    effective = now
    if consent.effect == Consent.Effect.PERMIT and consent.revocation_policy == Consent.RevocationPolicy.NOTICE:
        effective = now + timedelta(days=consent.revocation_notice_days)
    return _revoke(consent, rep, reason=reason, revocation_signature=revocation_signature, now=now, effective=effective)


def _revoke(
    consent: Consent,
    rep: Representative,
    *,
    reason: str,
    revocation_signature: str,
    now: datetime,
    effective: datetime,
) -> Consent:
    """The revocation itself, once who and how were checked: logged and evented for the grantee."""
    subject = consent.subject
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != Consent.Status.ACTIVE:
            raise Conflict(_("This consent was revoked or expired meanwhile."))
        consent.status = Consent.Status.REVOKED
        consent.revoked_at, consent.revocation_effective_at, consent.revoked_by = now, effective, rep
        consent.revocation_reason, consent.revocation_signature = reason, revocation_signature
        consent.updated = now
        consent.save()
        digest = _statement_digest(
            {**revocation_statement(consent), "revoked_at": _stamp(now), "effective_at": _stamp(effective)}
        )
        event_record(
            type="consent.revoked",
            payload={
                "consent": consent.public_id,
                "subject": subject.public_id,
                "digest": consent.digest,
                "effective_at": _stamp(effective),
            },
            audience=_relying_organizations(consent),
        )
        _notify(subject, "consent.revoked", consent.public_id)
        entry = log_append(type="consent.revoked", ref=consent.public_id, digest=digest, at=now)
        ConsentEvent.objects.create(
            consent=consent, type=ConsentEvent.Type.REVOKED, at=now, actor=rep, digest=digest, log_index=entry.index
        )
    return consent


def consent_expire(*, consent: Consent, on: date | None = None) -> Consent | None:
    """Mark an active consent expired if its end date (or the minor's coming of age) has passed."""
    day = on or today()
    with transaction.atomic():
        locked = Consent.objects.select_for_update().select_related("subject").filter(pk=consent.pk).first()
        if locked is None or locked.status != Consent.Status.ACTIVE:
            return None
        ended_by_date = locked.valid_until is not None and locked.valid_until < day
        subject = locked.subject
        ended_by_age = (
            subject.adult_on is not None and subject.status == Subject.Status.MINOR and day >= subject.adult_on
        )
        if not (ended_by_date or ended_by_age):
            return None
        now = timezone.now()
        locked.status, locked.expired_at, locked.updated = Consent.Status.EXPIRED, now, now
        locked.save(update_fields=["status", "expired_at", "updated"])
        digest = _statement_digest(
            {
                "type": "restu.consent-expiry/v1",
                "consent": locked.public_id,
                "digest": locked.digest,
                "expired_on": day.isoformat(),
            }
        )
        event_record(
            type="consent.expired",
            payload={"consent": locked.public_id, "subject": subject.public_id, "digest": locked.digest},
            audience=_relying_organizations(locked),
        )
        _notify(subject, "consent.expired", locked.public_id)
        entry = log_append(type="consent.expired", ref=locked.public_id, digest=digest, at=now)
        ConsentEvent.objects.create(
            consent=locked, type=ConsentEvent.Type.EXPIRED, at=now, digest=digest, log_index=entry.index
        )
    return locked


def consents_expire_due(*, on: date | None = None) -> int:
    """The beat sweep: expire every active consent past its end date or its minor's coming of age."""
    day = on or today()
    due = Consent.objects.filter(status=Consent.Status.ACTIVE).filter(
        Q(valid_until__lt=day) | Q(subject__status=Subject.Status.MINOR, subject__adult_on__lte=day)
    )
    # One transaction per consent: each holds the log lock only for its own leaf.
    expired = sum(1 for consent in due.only("pk") if consent_expire(consent=consent, on=day) is not None)
    # The same day ends the guardianships of everyone who came of age (their access had already
    # ended by date: representative_of checks it on every request).
    guardianships_end_due(on=day)
    return expired


# --- Disputes ---------------------------------------------------------------------------------


def organizations_relying_on(subject: Subject) -> list[str]:
    """Organizations that got a ``permitted`` answer for the subject in the last RELIANCE_DAYS days,
    or hold a release that names them: the ones a dispute about the subject must reach."""
    since = timezone.now() - timedelta(days=RELIANCE_DAYS)
    answered = AccessLogEntry.objects.filter(
        subject=subject, decision="permitted", created__gte=since, caller_org__isnull=False
    ).values_list("caller_org__public_id", flat=True)
    releasing = ReleaseReliance.objects.filter(ref=subject.public_id).values_list(
        "release__organization__public_id", flat=True
    )
    return sorted({*answered, *releasing} - {None})


def dispute_open(
    *, subject: Subject, opened_by: User, kind: str, statement: str = "", consent: Consent | None = None
) -> Dispute:
    """Anyone signed in may dispute a subject; its permits freeze until staff resolve it, and every
    organization that relied on the subject is told (``subject.disputed``)."""
    if kind not in Dispute.Kind.values:
        raise ValidationFailed(_("Unknown kind of dispute."), errors={"kind": [_("not_me or impersonation.")]})
    if consent is not None and consent.subject_id != subject.pk:
        raise ValidationFailed(
            _("That consent is not about this subject."), errors={"consent": [_("Not this subject's.")]}
        )
    with transaction.atomic():
        dispute = Dispute.objects.create(
            subject=subject, opened_by=opened_by, kind=kind, statement=statement, consent=consent
        )
        Subject.objects.filter(pk=subject.pk).update(disputed=True, updated=timezone.now())
        subject.disputed = True
        event_record(type="dispute.opened", payload={"dispute": dispute.public_id, "subject": subject.public_id})
        relying = organizations_relying_on(subject)
        if relying:
            event_record(
                type="subject.disputed",
                payload={"subject": subject.public_id, "dispute": dispute.public_id, "kind": kind},
                audience=relying,
            )
        _notify(subject, "dispute.opened", dispute.public_id)
    return dispute


def dispute_resolve(*, dispute: Dispute, staff_user: User, resolution: str) -> Dispute:
    """Staff close a dispute; the subject's permits thaw once no dispute is left open, and the
    organizations that relied on the subject are told (``subject.dispute_resolved``)."""
    if not staff_user.is_staff:
        raise NotAllowed(_("Only staff resolve disputes."))
    if dispute.status != Dispute.Status.OPEN:
        raise Conflict(_("This dispute is already resolved."))
    with transaction.atomic():
        dispute.status, dispute.resolved_at = Dispute.Status.RESOLVED, timezone.now()
        dispute.resolved_by, dispute.resolution = staff_user, resolution
        dispute.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        still_open = Dispute.objects.filter(subject=dispute.subject, status=Dispute.Status.OPEN).exists()
        Subject.objects.filter(pk=dispute.subject_id).update(disputed=still_open, updated=timezone.now())
        event_record(
            type="dispute.resolved", payload={"dispute": dispute.public_id, "subject": dispute.subject.public_id}
        )
        relying = organizations_relying_on(dispute.subject)
        if relying:
            event_record(
                type="subject.dispute_resolved",
                payload={
                    "subject": dispute.subject.public_id,
                    "dispute": dispute.public_id,
                    "still_disputed": still_open,
                },
                audience=relying,
            )
    return dispute


# --- The access log ---------------------------------------------------------------------------


def access_log_record(
    *,
    subject: Subject,
    query: dict[str, Any],
    decision: str,
    kind: str = AccessLogEntry.Kind.VERIFICATION,
    caller_org: Organization | None = None,
    caller_user: User | None = None,
    caller_key: ApiKey | None = None,
    consent: Consent | None = None,
    receipt_id: str = "",
) -> AccessLogEntry:
    """Note that someone checked the subject (for the verification, token and release services)."""
    return AccessLogEntry.objects.create(
        subject=subject,
        kind=kind,
        caller_org=caller_org,
        caller_user=caller_user if caller_user and caller_user.is_authenticated else None,
        caller_key=caller_key,
        query=query,
        decision=decision,
        consent=consent,
        receipt_id=receipt_id,
    )


def access_log_read(*, subject: Subject, actor: User) -> QuerySet[AccessLogEntry]:
    """Who checked the subject (``read_access_log``): the entries, newest last."""
    rep = _require_representative(actor, subject)
    require_power(rep, "read_access_log")
    return AccessLogEntry.objects.filter(subject=subject).select_related(
        "caller_org", "consent", "caller_key", "caller_user"
    )


# --- Erasure ----------------------------------------------------------------------------------


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
