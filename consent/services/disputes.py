"""Disputes: opening one about a subject, and staff resolving it."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import AccessLogEntry, Consent, Dispute, ReleaseReliance, Subject
from registry.accounts.models import User
from registry.errors import Conflict, NotAllowed, ValidationFailed
from registry.events.services import event_record

# Who relied on a subject, for disputes: permitted answers this recent, and releases naming them.
RELIANCE_DAYS = 365


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
