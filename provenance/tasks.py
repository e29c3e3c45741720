"""Background work: checking a large file off the request path."""

from __future__ import annotations

import logging

from celery import shared_task

from provenance import services, uploads

logger = logging.getLogger(__name__)


@shared_task(name="provenance.tasks.provenance_check_file", soft_time_limit=120, time_limit=150)
def provenance_check_file(check_id: str, path: str, sha256: str) -> None:
    """Check the uploaded file at ``path`` and store the result under ``check_id``; always delete it."""
    if not uploads.owns(path):
        logger.error("Provenance check %s: refusing a path outside the upload folder.", check_id)
        services.provenance_check_finish(check_id=check_id, sha256=sha256, result=None)
        return
    result = None
    try:
        result = services.provenance_check(path=path, sha256=sha256)
    except Exception:
        logger.exception("Provenance check %s failed.", check_id)
    finally:
        uploads.discard(path)
        services.provenance_check_finish(check_id=check_id, sha256=sha256, result=result)


# Longer than any check may take (the task's hard limit is 150 s), so only abandoned files match.
ABANDONED_AFTER_SECONDS = 3600


@shared_task(name="provenance.tasks.sweep_uploads")
def sweep_uploads() -> int:
    """Delete uploads a lost worker never checked (the broker lost the task, the worker died)."""
    return uploads.sweep(older_than_seconds=ABANDONED_AFTER_SECONDS)
