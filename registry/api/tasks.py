"""Periodic upkeep of API conventions."""

from celery import shared_task
from django.core.cache import cache

from registry.api.idempotency import purge_expired
from registry.api.throttling import purge_expired_counters

PING_PREFIX = "restu:ping:"


@shared_task(name="registry.api.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key records older than 24 hours."""
    return purge_expired()


@shared_task(name="registry.api.tasks.purge_throttle_counters")
def purge_throttle_counters() -> int:
    """Forget closed throttle windows (the embedded default counts them in the database)."""
    return purge_expired_counters()


@shared_task(name="registry.api.tasks.ping")
def ping(token: str) -> str:
    """Leave the token in the shared cache: proves a worker consumed a message from the broker."""
    cache.set(PING_PREFIX + token, "pong", timeout=600)
    return token
