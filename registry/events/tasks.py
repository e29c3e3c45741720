"""Delivering the outbox: fan-out, attempts, and the sweep that catches anything missed."""

from __future__ import annotations

from celery import current_app, shared_task

from registry.events import services


@shared_task(name="registry.events.tasks.dispatch_outbox")
def dispatch_outbox() -> int:
    """Fan out new events, then attempt their deliveries and run the apps' reactions."""
    created, reactions = services.outbox_dispatch()
    for delivery_id in created:
        deliver.delay(delivery_id)
    for task_name, event_id in reactions:
        current_app.send_task(task_name, args=[event_id])
    return len(created)


@shared_task(name="registry.events.tasks.deliver")
def deliver(delivery_id: int, manual: bool = False) -> str:
    """Attempt one delivery (idempotent: a delivery already done or leased is skipped)."""
    return services.delivery_attempt(delivery_id=delivery_id, manual=manual)


@shared_task(name="registry.events.tasks.sweep")
def sweep() -> int:
    """Periodic: dispatch missed events and retry due or abandoned deliveries."""
    dispatch_outbox()
    due = services.deliveries_due()
    for delivery_id in due:
        deliver.delay(delivery_id)
    return len(due)
