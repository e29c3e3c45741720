"""Webhooks through the real broker and worker, including a worker killed mid-delivery."""

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from registry.accounts import services as accounts
from registry.accounts.models import User
from registry.events import services
from registry.events.models import Delivery
from registry.events.tasks import sweep

from ..registry.events.conftest import Receiver
from .conftest import wait_for

pytestmark = pytest.mark.integration

WORKER_ENV = {
    "REGISTRY_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
    "REGISTRY_OUTBOUND_ALLOW_HTTP": "1",
    "REGISTRY_WEBHOOK_LEASE_SECONDS": "3",
    "REGISTRY_WEBHOOK_TIMEOUT": "30",
}


@pytest.fixture
def endpoint(settings, transactional_db):
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    with Receiver() as receiver:
        owner = User.objects.create_user("studio@example.org", "x" * 12)
        org = accounts.organization_create(creator=owner, name="Studio", slug="studio", kind="studio")
        hook = services.webhook_create(
            organization=org, actor_role="owner", url=receiver.url, events=["consent.revoked"]
        )
        yield hook, receiver


def test_worker_killed_mid_delivery_loses_nothing(endpoint, make_worker):
    hook, receiver = endpoint
    receiver.delay = 6.0  # the first attempt hangs at the receiver while we kill the worker
    first = make_worker(**WORKER_ENV)
    with transaction.atomic():
        event = services.event_record(
            type="consent.revoked", payload={"consent": "con_k"}, audience=[hook.organization.public_id]
        )
    assert wait_for(lambda: len(receiver.requests) == 1), first.log()[-3000:]
    first.kill()
    receiver.delay = 0.0
    second = make_worker(**WORKER_ENV)
    # The sweep (beat runs it every few seconds in production) re-sends once the lease has run out.
    assert wait_for(lambda: (sweep.delay(), len(receiver.requests) >= 2)[1], interval=2.0), second.log()[-3000:]
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {event.public_id}
    last = receiver.requests[-1]
    headers = {k.lower(): v for k, v in last["headers"].items()}
    assert Webhook(hook.secret).verify(last["body"], headers)["data"] == {"consent": "con_k"}
    assert wait_for(lambda: Delivery.objects.get(event=event).state == "succeeded"), second.log()[-3000:]
