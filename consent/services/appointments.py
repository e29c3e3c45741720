"""Adding representatives (directly or by invitation), handing a record over, ending a representation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import vocabulary as v
from consent.models import POWERS, Representative, Subject
from registry.accounts.models import User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.events.services import event_record

from . import _common
from .representatives import AUTHORITY, _clean_powers, authority_check, representative_of, require_power
from .subjects import _end_guardians, former_guardian_of, subject_assurance_refresh
from .terms import _check_activities, _check_media, _check_purposes


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

    day = _common.today()
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
    age (docs/api.md "Coming of age": staff can do what a former guardian can). The person must accept;
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
    if subject.status != Subject.Status.MINOR or subject.adult_on is None or subject.adult_on > _common.today():
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
