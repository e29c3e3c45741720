"""A task really travels through the broker to a separate worker process."""

import secrets

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from registry.api.tasks import PING_PREFIX, ping

from .conftest import wait_for

pytestmark = pytest.mark.integration


def test_worker_executes_a_task_sent_through_the_broker(celery_worker):
    token = secrets.token_hex(8)
    with transaction.atomic():
        transaction.on_commit(lambda: ping.delay(token))
    arrived = wait_for(lambda: cache.get(PING_PREFIX + token) == "pong")
    assert arrived, f"worker did not run the task; broker={settings.CELERY_BROKER_URL}\n{celery_worker.log()[-3000:]}"
    assert celery_worker.process.poll() is None


def test_task_enqueued_in_a_rolled_back_transaction_never_runs(celery_worker):
    token = secrets.token_hex(8)
    control = secrets.token_hex(8)
    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(lambda: ping.delay(token))
        raise RuntimeError("rolled back")
    ping.delay(control)
    assert wait_for(lambda: cache.get(PING_PREFIX + control) == "pong"), celery_worker.log()[-3000:]
    assert cache.get(PING_PREFIX + token) is None
