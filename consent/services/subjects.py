"""Subjects: registering a person, their profile and assurance, guardianships ending at coming of age."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import Representative, Subject, SubjectProfile, Vouch
from registry.accounts.models import Organization, User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, ValidationFailed
from registry.events.services import event_record

from . import _common
from ._common import _touch
from .representatives import AUTHORITY, _require_representative, require_power


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
    day = _common.today()
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
    day = on or _common.today()
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
    day = on or _common.today()
    if subject.status != Subject.Status.MINOR or subject.is_minor_on(day) or subject.adult_on is None:
        return 0
    with transaction.atomic():
        ended = _end_guardians(subject, timezone.now())
        subject_assurance_refresh(subject=subject)
    return ended


def guardianships_end_due(*, on: date | None = None) -> int:
    """The daily sweep: end the guardianships of everyone who has come of age (idempotent)."""
    day = on or _common.today()
    due = Subject.objects.filter(
        status=Subject.Status.MINOR,
        adult_on__lte=day,
        representatives__role=Representative.Role.GUARDIAN,
        representatives__ended_at__isnull=True,
    ).distinct()
    return sum(guardianships_end_for(subject=subject, on=day) for subject in due)
