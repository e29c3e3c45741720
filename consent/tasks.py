"""Background work: the expiry sweep (Celery beat), release re-checks and the access log's upkeep.

Emails to a subject's representatives are outbox reactions: ``consent.notifications``."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from consent.services import consents_expire_due

logger = logging.getLogger(__name__)


@shared_task(name="consent.tasks.expire_consents")
def expire_consents() -> int:
    """Mark consents past their end date (or their minor's coming of age) expired (idempotent)."""
    return consents_expire_due()


@shared_task(name="consent.tasks.recheck_releases", acks_late=True)
def recheck_releases(event_id: str) -> int:
    """Re-check the releases relying on what an event names (idempotent: a re-check is a pure re-run)."""
    from consent.services.releases import releases_recheck_for
    from registry.events.models import OutboxEvent

    event = OutboxEvent.objects.filter(public_id=event_id).first()
    if event is None:
        return 0
    refs = [str(value) for key, value in event.payload.items() if key in ("consent", "subject", "attestation")]
    return len(releases_recheck_for(refs=refs))


@shared_task(name="consent.tasks.assurance_refresh_for_organization", acks_late=True)
def assurance_refresh_for_organization(event_id: str) -> int:
    """After staff withdraw (or give) an organization's verification, recompute the assurance of every
    subject it vouches for: ``vouched`` stands only while a vouch from a verified one does."""
    from consent.services import assurance_refresh_for_organization as refresh
    from registry.events.models import OutboxEvent

    event = OutboxEvent.objects.filter(public_id=event_id).first()
    organization = event.payload.get("organization") if event is not None else None
    if not isinstance(organization, str):
        return 0
    return refresh(organization_public_id=organization)


@shared_task(name="consent.tasks.purge_checks_naming_nobody")
def purge_checks_naming_nobody() -> int:
    """Forget checks that named no person once they are older than the retention setting.

    They are logged only so that a made-up id costs the same work as a hidden person (no timing
    oracle) and so that an enumeration shows up for a while; nobody's access log holds them.
    """
    from datetime import timedelta

    from consent.models import AccessLogEntry

    cutoff = timezone.now() - timedelta(days=settings.REGISTRY_UNNAMED_CHECK_RETENTION_DAYS)
    deleted, _ = AccessLogEntry.objects.filter(subject__isnull=True, created__lt=cutoff).delete()
    return deleted


@shared_task(name="consent.tasks.access_log_maintain")
def access_log_maintain() -> dict[str, object]:
    """Prepare the access log's coming months and apply its retention (idempotent; daily is plenty).

    On PostgreSQL: creates this month's partition and the next ones ahead of time (a check never
    waits on DDL; one that lands before its month exists goes to DEFAULT and moves on the next run),
    then drops the months past ``REGISTRY_ACCESS_LOG_RETENTION_MONTHS``. On SQLite: deletes the rows
    past it. With the default (0) nothing is ever forgotten.
    """
    from consent.services.access_log import access_log_partitions_ensure, access_log_retention_apply

    created = access_log_partitions_ensure()
    retention = access_log_retention_apply()
    if created or retention.dropped or retention.deleted:
        logger.info(
            "Access log: created %s, dropped %s, deleted %d rows before %s",
            created,
            retention.dropped,
            retention.deleted,
            retention.cutoff,
        )
    return {"created": created, "dropped": retention.dropped, "deleted": retention.deleted}
