"""Recording outbox events (DESIGN.md invariants 1 and 5)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from registry.events.models import OutboxEvent


def event_record(*, type: str, payload: dict[str, Any], audience: list[str] | None = None) -> OutboxEvent:  # noqa: A002
    """Write an event in the caller's transaction: it exists exactly when the change commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_record must be called inside the transaction that makes the change")
    return OutboxEvent.objects.create(type=type, payload=payload, audience=audience or [])
