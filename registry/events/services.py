"""The outbox and webhook deliveries (docs/design.md invariants 1 and 5).

Events are written in the transaction of the change they announce. After commit a dispatcher
fans each event out to the subscribed endpoints as Delivery rows; each delivery is attempted
by a task that leases it first, so a worker killed mid-delivery only delays it: the sweep hands
an expired lease to another worker, with the same ``webhook-id``.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from registry import outbound
from registry.accounts.models import ROLE_RANK, Membership, Organization
from registry.background import enqueue
from registry.errors import NotAllowed, NotFound, ValidationFailed
from registry.events.models import Acknowledgement, Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint
from registry.events.vocabulary import event_types, public_event_types

logger = logging.getLogger(__name__)

# Standard Webhooks' suggested schedule: about a day and a half in all, then we give up.
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DISABLE_AFTER = timedelta(days=3)
SECRET_GRACE = timedelta(hours=24)
_DISPATCH_FLAG = "restu:events:dispatch-scheduled"
_TRAILING_FLAG = "restu:events:dispatch-trailing"

# Internal reactions to events: {event type: [Celery task name, …]}. Higher apps register
# here (in AppConfig.ready) so the core never imports them; each task gets the event's id.
_HANDLERS: dict[str, list[str]] = {}


def handler_register(*, event_type: str, task_name: str) -> None:
    """Run ``task_name(event_public_id)`` for every ``event_type`` event, after it commits.

    At least once: a reaction is published again if the broker failed it, a dispatch was cut
    short, or the worker was lost (acks_late), so the task must be idempotent."""
    names = _HANDLERS.setdefault(event_type, [])
    if task_name not in names:
        names.append(task_name)


def handlers_for(event_type: str) -> list[str]:
    return list(_HANDLERS.get(event_type, ()))


def event_record(*, type: str, payload: dict[str, Any], audience: list[str] | None = None) -> OutboxEvent:
    """Write an event in the caller's transaction: it exists exactly when the change commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_record must be called inside the transaction that makes the change")
    event = OutboxEvent.objects.create(type=type, payload=payload, audience=audience or [])
    transaction.on_commit(dispatch_schedule)
    return event


def dispatch_schedule() -> None:
    """Ask a worker to fan out new events soon (debounced; the periodic sweep catches the rest).

    Runs after commit: a cache or broker outage is logged, never raised — the events wait in the
    outbox and the sweep delivers them when the broker is back (docs/design.md invariant 5)."""
    from registry.events.tasks import dispatch_outbox

    def send() -> None:
        if cache.add(_DISPATCH_FLAG, 1, timeout=1):
            dispatch_outbox.delay()
        # A dispatch already asked for this second may have read the outbox before this event
        # committed; without a trailing one the event would wait for the sweep (or for ever where
        # no beat runs). One trailing dispatch per second at most, due when the window closes,
        # so it reads the outbox after every commit that the window suppressed.
        elif cache.add(_TRAILING_FLAG, 1, timeout=1):
            dispatch_outbox.apply_async(countdown=1)

    enqueue(send, what="the outbox dispatch")


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _validate_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(event_types()))
    if unknown:
        raise ValidationFailed("Unknown event types.", errors={"events": [f"Unknown event type: {e}" for e in unknown]})
    if not events:
        raise ValidationFailed("Subscribe to at least one event.", errors={"events": ["Name at least one event."]})
    return sorted(set(events))


def _validate_url(url: str) -> str:
    # A name that does not resolve today is accepted: every delivery checks the address again.
    try:
        outbound.check_reachable(url)
    except outbound.OutboundUnresolved:
        pass
    except outbound.OutboundRefused as exc:
        raise ValidationFailed(str(exc), errors={"url": [str(exc)]}) from None
    return url


def _require_admin(actor_role: str | None) -> None:
    """Webhooks are managed by the organization's admins and owners, whoever asks (page, API, command)."""
    if actor_role is None or ROLE_RANK.get(actor_role, 0) < ROLE_RANK[Membership.Role.ADMIN]:
        raise NotAllowed("Only admins and owners manage webhooks.")


def webhook_create(
    *, organization: Organization, actor_role: str | None, url: str, events: list[str], description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint; its signing secret is returned on the object once.

    ``actor_role`` is the acting person's (or API key's) role in ``organization``: admin or owner.
    """
    _require_admin(actor_role)
    events = _validate_events(events)
    return WebhookEndpoint.objects.create(
        organization=organization,
        url=_validate_url(url),
        events=events,
        description=description,
        secret=_new_secret(),
    )


def webhook_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change URL, events, description, or re-enable a disabled endpoint."""
    if "url" in changes:
        endpoint.url = _validate_url(changes["url"])
    if "events" in changes:
        endpoint.events = _validate_events(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if changes.get("is_active") is True and not endpoint.is_active:
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = (
            True,
            None,
            "",
            None,
        )
    elif changes.get("is_active") is False:
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), "disabled by you"
    endpoint.updated = timezone.now()
    endpoint.save()
    return endpoint


def webhook_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one still signs (beside the new) for 24 hours, so receivers can switch."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + SECRET_GRACE
    endpoint.secret = _new_secret()
    endpoint.updated = timezone.now()
    endpoint.save(update_fields=["previous_secret", "previous_secret_until", "secret", "updated"])
    return endpoint


def webhook_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log; events already recorded stay in the outbox."""
    endpoint.delete()


def _subscribers(event: OutboxEvent) -> list[WebhookEndpoint]:
    """Subscribed, active endpoints that may see the event: anyone for public records, otherwise
    only the organizations in its audience (an event with no audience goes to nobody)."""
    endpoints = WebhookEndpoint.objects.filter(is_active=True).select_related("organization")
    if event.type not in public_event_types():
        if not event.audience:
            return []
        endpoints = endpoints.filter(organization__public_id__in=event.audience)
    return [endpoint for endpoint in endpoints if event.type in endpoint.events]


def outbox_dispatch(
    *, limit: int = 500, publish: Callable[[str, str], object] | None = None
) -> tuple[list[int], list[tuple[str, str]]]:
    """Fan out undispatched events: deliveries to attempt, and (task, event id) reactions to run.

    With ``publish`` (the dispatcher's ``send_task``), an event's reactions are published while
    this transaction holds the event, and it is marked dispatched only once every one of them was:
    if a publish fails (the broker went away), that event and the ones after it stay in the
    outbox, and the next dispatch or sweep publishes their reactions again — at least once, so
    every registered handler must be idempotent. The reactions returned were all published.
    Without ``publish`` the caller runs the returned reactions itself (tests do).
    """
    created: list[int] = []
    reactions: list[tuple[str, str]] = []
    with transaction.atomic():
        events = OutboxEvent.objects.filter(dispatched_at__isnull=True).order_by("created", "id")
        if connection.features.has_select_for_update_skip_locked:
            # Another dispatcher (or the sweep) skips the events this one holds, so a reaction is
            # published once; NO KEY lets a reaction already running insert rows that point at
            # the event (e.g. NotificationSent) without waiting for this transaction.
            events = events.select_for_update(skip_locked=True, no_key=connection.features.has_select_for_no_key_update)
        # On SQLite the transaction takes the write lock when it begins (transaction_mode
        # IMMEDIATE in settings), so dispatchers run one after the other and read what the
        # previous one committed.
        for event in list(events[:limit]):
            mine = [(task, event.public_id) for task in handlers_for(event.type)]
            if publish is not None:
                try:
                    for task, event_id in mine:
                        publish(task, event_id)
                except Exception:  # kombu, redis and amqp raise unrelated types when the broker is away
                    logger.error(
                        "Could not publish the reactions to %s; the next dispatch or sweep will.",
                        event.public_id,
                        exc_info=True,
                    )
                    break
            reactions.extend(mine)
            for endpoint in _subscribers(event):
                delivery, new = Delivery.objects.get_or_create(event=event, endpoint=endpoint)
                if new:
                    created.append(delivery.pk)
            event.dispatched_at = timezone.now()
            event.save(update_fields=["dispatched_at"])
    return created, reactions


def deliveries_due(*, now: Any = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt is due and that no live worker holds."""
    moment = now or timezone.now()
    return list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=moment)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=moment))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _lease(delivery_id: int, *, manual: bool) -> bool:
    now = timezone.now()
    claim = Delivery.objects.filter(pk=delivery_id).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    if not manual:
        claim = claim.filter(state=Delivery.State.PENDING)
    return claim.update(lease_until=now + timedelta(seconds=settings.REGISTRY_WEBHOOK_LEASE_SECONDS)) == 1


def webhook_body(event: OutboxEvent) -> str:
    """The JSON body every endpoint receives for an event."""
    return json.dumps(
        {"type": event.type, "timestamp": event.created.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": event.payload},
        separators=(",", ":"),
        sort_keys=True,
    )


def webhook_headers(endpoint: WebhookEndpoint, event: OutboxEvent, body: str) -> dict[str, str]:
    """Standard Webhooks headers; during a secret rotation both signatures are sent."""
    now = timezone.now()
    signatures = [Webhook(endpoint.secret).sign(event.public_id, now, body)]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        signatures.append(Webhook(endpoint.previous_secret).sign(event.public_id, now, body))
    return {
        "webhook-id": event.public_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
        "Content-Type": "application/json",
    }


def delivery_attempt(*, delivery_id: int, manual: bool = False) -> str:
    """Attempt one delivery if we can lease it; records the attempt and plans any retry."""
    if not _lease(delivery_id, manual=manual):
        return "skipped"
    delivery = Delivery.objects.select_related("event", "endpoint", "endpoint__organization").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.is_active and not manual:
        Delivery.objects.filter(pk=delivery_id).update(lease_until=None)
        return "endpoint disabled"
    body = webhook_body(event)
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    excerpt = ""
    try:
        # The addresses again, with the transition prefixes registry.outbound does not know yet;
        # outbound.request then resolves, checks and pins the address it connects to.
        outbound.check_reachable(endpoint.url)
        response = outbound.request(
            "POST",
            endpoint.url,
            body=body.encode(),
            headers=webhook_headers(endpoint, event, body),
            timeout=settings.REGISTRY_WEBHOOK_TIMEOUT,
            max_bytes=16 * 1024,
        )
        status_code = response.status
        excerpt = response.body[:1000].decode("utf-8", "replace")
    except (outbound.OutboundRefused, outbound.OutboundFailed) as exc:
        error = str(exc)[:300]
    elapsed = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt,
            duration_ms=elapsed,
            manual=manual,
        )
        delivery.lease_until = None
        if ok:
            delivery.state, delivery.succeeded_at = Delivery.State.SUCCEEDED, timezone.now()
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        elif delivery.state == Delivery.State.PENDING:
            retries_done = delivery.attempts - 1
            if retries_done < len(RETRY_SCHEDULE):
                delivery.next_attempt_at = timezone.now() + timedelta(seconds=RETRY_SCHEDULE[retries_done])
            else:
                delivery.state = Delivery.State.FAILED
            _note_failure(endpoint)
        delivery.save()
    return "succeeded" if ok else "failed"


def _note_failure(endpoint: WebhookEndpoint) -> None:
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    endpoint.refresh_from_db(fields=["failing_since", "is_active"])
    if endpoint.is_active and endpoint.failing_since and now - endpoint.failing_since >= DISABLE_AFTER:
        endpoint.is_active, endpoint.disabled_at = False, now
        endpoint.disabled_reason = "every delivery failed for three days"
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
        transaction.on_commit(lambda: _email_disabled(endpoint.pk))


def _email_disabled(endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("organization").get(pk=endpoint_id)
    admins = Membership.objects.filter(
        organization=endpoint.organization, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
    ).values_list("user__email", flat=True)
    # In both of the registry's languages, as the notices to representatives are: we do not know
    # which one each admin reads.
    send_mail(
        subject=f"Restu: webhook {endpoint.url} was disabled / dinonaktifkan",
        message=(
            f"Every delivery to {endpoint.url} for {endpoint.organization.name} failed for three days, so we "
            "stopped sending to it. Fix the receiver, then re-enable the webhook in your organization's "
            "webhook settings; you can redeliver missed events from the delivery log.\n\n"
            f"Semua pengiriman ke {endpoint.url} untuk {endpoint.organization.name} gagal selama tiga hari, "
            "jadi kami berhenti mengirim ke alamat itu. Perbaiki penerimanya, lalu aktifkan kembali webhook "
            "di pengaturan webhook organisasi Anda; peristiwa yang terlewat dapat dikirim ulang dari log "
            "pengiriman."
        ),
        from_email=None,
        recipient_list=list(admins),
        fail_silently=True,
    )


def delivery_redeliver(*, delivery: Delivery) -> None:
    """Send a delivery again now, whatever its state (the receiver asked for it)."""
    from registry.events.tasks import deliver

    Delivery.objects.filter(pk=delivery.pk).update(lease_until=None)
    transaction.on_commit(lambda: deliver.delay(delivery.pk, True))


ACKNOWLEDGEABLE = frozenset({"consent.revoked", "consent.expired"})


def event_acknowledge(
    *, public_id: str, organization: Organization, user: Any = None, api_key: Any = None, note: str = ""
) -> Acknowledgement:
    """An organization in the event's audience confirms it; anyone else gets 404 (no oracle)."""
    event = OutboxEvent.objects.filter(public_id=public_id, type__in=ACKNOWLEDGEABLE).first()
    if event is None or organization.public_id not in (event.audience or []):
        raise NotFound("No such event for your organization.")
    acknowledgement, _ = Acknowledgement.objects.get_or_create(
        event=event,
        organization=organization,
        defaults={
            "by_user": user if user is not None and user.is_authenticated else None,
            "by_key": api_key,
            "note": note,
        },
    )
    return acknowledgement


def acknowledgements_for(*, key: str, value: str) -> list[Acknowledgement]:
    """Acknowledgements of events whose payload names ``key = value`` (e.g. a consent id)."""
    return list(
        Acknowledgement.objects.select_related("organization", "event")
        .filter(**{f"event__payload__{key}": value})
        .order_by("created")
    )
