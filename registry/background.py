"""Handing work to Celery without letting a broker outage break a request that already committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def enqueue(send: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> bool:
    """Call ``send`` (e.g. ``task.delay``); on any broker or cache error log it and carry on.

    Used from ``transaction.on_commit`` hooks: the change is already committed, so failing the
    request would only hide success from the caller. What the task would have done is caught up
    by the periodic sweeps (outbox dispatch, checkpoint publication) once the broker is back.
    """
    try:
        send(*args, **kwargs)
    except Exception:  # kombu, redis and amqp raise unrelated types when the broker is away
        logger.error("Could not hand %s to the worker; the periodic sweep will catch up.", what or send, exc_info=True)
        return False
    return True
