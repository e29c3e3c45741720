"""A committed append makes the real worker publish a signed checkpoint within seconds."""

from __future__ import annotations

import os
import secrets
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from restu_verify import verify_checkpoint
from restu_verify.merkle import root_from_leaf_hashes, verify_consistency

from registry.api.tasks import PING_PREFIX, ping
from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id

from .conftest import wait_for

pytestmark = pytest.mark.integration

# "A few seconds": the publishing delay plus a margin for the worker's own latency.
WITHIN = settings.REGISTRY_CHECKPOINT_DELAY + 8.0


def _worker_ready(worker) -> None:  # type: ignore[no-untyped-def]
    token = secrets.token_hex(8)
    ping.delay(token)
    assert wait_for(lambda: cache.get(PING_PREFIX + token) == "pong", timeout=60), worker.log()[-3000:]


def _append(count: int) -> None:
    from registry.transparency.services import log_append

    for _ in range(count):
        with transaction.atomic():  # committed: transactional_db, so on_commit really fires
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))


def _latest_covering(size: int):  # type: ignore[no-untyped-def]
    from registry.transparency.models import Checkpoint

    return Checkpoint.objects.filter(size__gte=size).order_by("-size").first()


def test_a_committed_append_gets_a_signed_checkpoint_within_seconds(celery_worker, anon):
    from registry.transparency.models import Checkpoint, LogEntry

    _worker_ready(celery_worker)
    vkey = anon.get("/api/v1/log/key").content.decode().strip()

    _append(5)
    started = time.monotonic()
    assert wait_for(lambda: _latest_covering(5) is not None, timeout=WITHIN, interval=0.1), (
        f"no checkpoint within {WITHIN} s\n{celery_worker.log()[-3000:]}"
    )
    elapsed = time.monotonic() - started
    first = _latest_covering(5)
    hashes = [bytes(h) for h in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    parsed = verify_checkpoint(first.note, vkey)  # signed by the key the log serves
    assert parsed.size == first.size == 5
    assert parsed.root == root_from_leaf_hashes(hashes)
    assert elapsed >= settings.REGISTRY_CHECKPOINT_DELAY - 0.5  # batched, not one per append

    served = anon.get("/api/v1/log/checkpoint")
    assert served.status_code == 200
    assert served.content.decode() == first.note

    # More appends: a newer checkpoint, consistent with the first.
    _append(6)
    assert wait_for(lambda: _latest_covering(11) is not None, timeout=WITHIN, interval=0.1), celery_worker.log()[-3000:]
    second = verify_checkpoint(anon.get("/api/v1/log/checkpoint").content.decode(), vkey)
    assert second.size == 11
    import base64

    body = anon.get("/api/v1/log/proof/consistency?first=5&second=11").json()
    proof = [base64.b64decode(h) for h in body["proof"]]
    assert verify_consistency(5, 11, proof, parsed.root, second.root)
    # One checkpoint per burst, not per leaf.
    assert Checkpoint.objects.count() <= 3
    assert celery_worker.process.poll() is None
