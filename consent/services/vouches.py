"""Vouches: an organization vouching for a subject, and withdrawing it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import Subject, Vouch
from registry.accounts.models import ApiKey, Organization, User
from registry.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.events.services import event_record
from registry.transparency.services import log_append

from ._common import _stamp, _statement_digest
from .subjects import subject_assurance_refresh


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
