"""Emails to a person's representatives, sent as reactions to outbox events.

The change and its event commit together, so a notice waits in the outbox through a broker
outage instead of being dropped. The outbox runs each reaction at least once (a worker lost
mid-task is redelivered, a dispatch can repeat), so each representative told about an event is
recorded, and a repeat tells only those not yet told.

The notices carry ids only, so no personal data travels through the broker or the mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from consent.models import Representative

logger = logging.getLogger(__name__)

TASK_NAME = "consent.notifications.notify_representatives"
# A mail server turning us away now may not later (full mailbox, greylisting, network cut).
_TRANSIENT = (SMTPException, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class Notice:
    """What an event's email says; ``ref`` names the payload key whose id the email quotes."""

    ref: str
    subject: str
    english: str
    indonesian: str


# In both of the registry's languages in one email: we do not know which one each person reads.
NOTICES: dict[str, Notice] = {
    "consent.signed": Notice(
        "consent",
        "A consent was signed",
        "A consent naming a person you represent was signed: {ref}.",
        "Sebuah persetujuan untuk orang yang Anda wakili telah ditandatangani: {ref}.",
    ),
    "consent.revoked": Notice(
        "consent",
        "A consent was revoked",
        "A consent naming a person you represent was revoked: {ref}.",
        "Sebuah persetujuan untuk orang yang Anda wakili telah dicabut: {ref}.",
    ),
    "consent.expired": Notice(
        "consent",
        "A consent expired",
        "A consent naming a person you represent has expired: {ref}.",
        "Sebuah persetujuan untuk orang yang Anda wakili telah kedaluwarsa: {ref}.",
    ),
    "representative.added": Notice(
        "representative",
        "A new representative was added",
        "Someone new now represents a person you represent ({ref}).",
        "Ada perwakilan baru untuk orang yang Anda wakili ({ref}).",
    ),
    "vouch.given": Notice(
        "vouch",
        "Someone vouched for an identity",
        "An organization vouched for the identity of a person you represent ({ref}).",
        "Sebuah organisasi memberikan penjaminan identitas untuk orang yang Anda wakili ({ref}).",
    ),
    "dispute.opened": Notice(
        "dispute",
        "A dispute was opened",
        "Someone raised a dispute about a person you represent ({ref}). Their permits are frozen "
        "until our staff resolve it.",
        "Seseorang mengajukan keberatan tentang orang yang Anda wakili ({ref}). Persetujuannya dibekukan "
        "sampai staf kami menyelesaikannya.",
    ),
}

_FOOTER = "Restu — see your consents and who checked you / lihat persetujuan Anda dan siapa yang memeriksa Anda: /me/\n"


class NotificationSent(models.Model):
    """One representative told about one event (registered by ``ConsentConfig.import_models``)."""

    event = models.ForeignKey("events.OutboxEvent", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "consent"
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="one_notice_per_event_and_person")]

    def __str__(self) -> str:
        return f"event {self.event_id} told to user {self.user_id}"


def notice_body(notice: Notice, ref: str) -> str:
    return f"{notice.english.format(ref=ref)}\n\n{notice.indonesian.format(ref=ref)}\n\n{_FOOTER}"


@shared_task(
    name=TASK_NAME,
    acks_late=True,
    # Those already told are not told again by a retry.
    autoretry_for=_TRANSIENT,
    retry_backoff=60,
    max_retries=8,
)
def notify_representatives(event_id: str) -> int:
    """Email every active representative of the event's subject, once each; returns how many were told now."""
    from registry.events.models import OutboxEvent

    event = OutboxEvent.objects.filter(public_id=event_id).first()
    notice = NOTICES.get(event.type) if event is not None else None
    if event is None or notice is None:
        return 0
    ref, subject_id = event.payload.get(notice.ref), event.payload.get("subject")
    if not isinstance(ref, str) or not isinstance(subject_id, str):
        logger.warning("Event %s names no %s or subject; nobody was emailed.", event_id, notice.ref)
        return 0
    day = timezone.now().date()
    people = {
        rep.user.email: rep.user
        for rep in Representative.objects.select_related("user", "delegated_by").filter(
            subject__public_id=subject_id, ended_at__isnull=True, user__is_active=True
        )
        if rep.is_active_on(day)
    }
    body = notice_body(notice, ref)
    told = 0
    refused: Exception | None = None
    # One message per person, so representatives never see each other's addresses.
    for address in sorted(people):
        try:
            # The record commits only if the mail server took the message: a failed send is retried,
            # and a second worker on the same event waits on the record's unique key, then skips.
            # A duplicate remains possible only if the worker dies between the server's acceptance
            # and the commit; the other order would lose the email instead.
            with transaction.atomic():
                NotificationSent.objects.create(event=event, user=people[address])
                send_mail(f"Restu: {notice.subject}", body, settings.DEFAULT_FROM_EMAIL, [address])
        except IntegrityError:
            continue
        except _TRANSIENT as exc:
            # One refused address does not hold back the others; the retry tells the rest.
            refused = refused or exc
            continue
        told += 1
    if refused is not None:
        raise refused
    return told
