"""``GET /health``: is the database answering, and can we reach the broker?"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

logger = logging.getLogger(__name__)


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any driver error means "not ok"; the reason goes to the log, not the caller
        logger.warning("Health check: database unavailable", exc_info=True)
        return "unavailable"
    return "ok"


def check_broker() -> str:
    if settings.BROKER_IS_EMBEDDED:
        queue = settings.DATA_DIR / "broker" / "queue"
        return "embedded" if queue.is_dir() else "unavailable"
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # kombu raises several unrelated types for an unreachable broker
        logger.warning("Health check: broker unavailable", exc_info=True)
        return "unavailable"
    return "ok"


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker()}
    healthy = all(value in ("ok", "embedded") for value in checks.values())
    # Alerts need an operator but do not make this server unavailable (witnessing: docs/witnessing.md).
    from registry.witness.selectors import witness_alerts

    alerts = witness_alerts() if checks["database"] == "ok" else []
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks, "alerts": alerts},
        status=200 if healthy else 503,
    )
