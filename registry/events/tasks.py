"""Delivering the outbox: fan-out, attempts, and the sweep that catches anything missed."""

from __future__ import annotations

from celery import current_app, shared_task

from registry.events import services


@shared_task(name="registry.events.tasks.dispatch_outbox")
def dispatch_outbox() -> int:
    """Fan out new events, publish the apps' reactions, then attempt the deliveries.

    An event counts as dispatched only once its reactions reached the broker (at least once:
    a failed publish leaves the event for the next dispatch or sweep). A delivery that cannot be
    handed to a worker now is a pending row, which the sweep attempts when it is due."""
    created, _ = services.outbox_dispatch(
        publish=lambda task_name, event_id: current_app.send_task(task_name, args=[event_id])
    )
    for delivery_id in created:
        deliver.delay(delivery_id)
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
