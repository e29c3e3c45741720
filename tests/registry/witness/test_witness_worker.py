"""A real Celery worker: a committed append is published, submitted to the policy's witness by
the witness task, cosigned, and served with the cosignature — with nobody calling anything."""

from __future__ import annotations

import os
import secrets

import pytest
from django.core.cache import cache
from django.db import transaction

from registry.api.tasks import PING_PREFIX, ping
from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.transparency.services import log_append
from registry.witness.models import WitnessedCheckpoint
from tests.integration.conftest import wait_for
from tests.registry.witness.reference_witness import ReferenceWitnessServer, verify_cosignature
from tests.registry.witness.test_witness_client import reference, write_policy

pytestmark = pytest.mark.integration


def test_the_worker_gets_each_checkpoint_cosigned_and_it_is_served(make_worker, anon, tmp_path, settings) -> None:
    witness = reference()
    with ReferenceWitnessServer(witness) as server:
        policy = write_policy(tmp_path, settings, [("ref", witness.vkey, server.url)], "quorum ref")
        worker = make_worker(
            REGISTRY_WITNESS_POLICY=str(policy),
            REGISTRY_OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
            REGISTRY_OUTBOUND_ALLOW_HTTP="1",
            REGISTRY_WITNESS_MIN_INTERVAL="0",
        )
        token = secrets.token_hex(8)
        ping.delay(token)
        assert wait_for(lambda: cache.get(PING_PREFIX + token) == "pong", timeout=60), worker.log()[-3000:]
        for _ in range(3):
            with transaction.atomic():
                log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
        assert wait_for(lambda: WitnessedCheckpoint.objects.filter(size__gte=3).exists(), timeout=60), worker.log()[
            -3000:
        ]
    served = anon.get("/api/v1/log/checkpoint").content.decode()
    body, signatures = served.split("\n\n")
    lines = signatures.splitlines(keepends=True)
    assert len(lines) == 2
    verify_cosignature(lines[1], body + "\n", witness.vkey)
