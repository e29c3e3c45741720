"""Representatives and authority: who represents a subject on a day, their powers, whether they may act."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from consent import vocabulary as v
from consent.models import AGENT_DEFAULT_POWERS, POWERS, Consent, Representative, Subject
from registry.accounts.models import User
from registry.errors import NotAllowed, NotFound, ValidationFailed

from . import _common

# Keyed by a subject's status as stored (``Subject.effective_status`` answers a plain str).
AUTHORITY: dict[str, str] = {
    Subject.Status.LIVING: Representative.Role.SELF,
    Subject.Status.MINOR: Representative.Role.GUARDIAN,
    Subject.Status.DECEASED: Representative.Role.ESTATE,
}


def representation_in_force(rep: Representative, subject: Subject, day: date) -> bool:
    """Whether ``rep`` carries authority and access on ``day``: not ended, within its dates, and —
    for a guardian — only while the subject is a minor (coming of age ends it by itself)."""
    if not rep.is_active_on(day):
        return False
    return not (rep.role == Representative.Role.GUARDIAN and not subject.is_minor_on(day))


def representative_of(*, user: User, subject: Subject, on: date | None = None) -> Representative | None:
    """The user's representation of the subject in force on ``on`` (the strongest one, if several)."""
    day = on or _common.today()
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
    status = subject.effective_status(_common.today())
    needed = AUTHORITY[status]
    if rep.role == needed:
        return
    if rep.role == Representative.Role.AGENT and status == Subject.Status.LIVING:
        if rep.delegated_by is None or rep.delegated_by.role != Representative.Role.SELF:
            raise NotAllowed(_("This agent was not appointed by the person themselves."))
        if not rep.is_active_on(_common.today()):
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
