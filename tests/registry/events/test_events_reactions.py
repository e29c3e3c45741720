"""The apps' reactions to outbox events reach the broker at least once: a publish that fails leaves
the event in the outbox for the next dispatch or sweep, and a dispatch that succeeds publishes each
reaction once, even with several dispatchers running at the same time."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from kombu.exceptions import OperationalError

from registry.celery import app
from registry.events import services, tasks
from registry.events.models import OutboxEvent

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused at once
REACT = "tests.events.react"
ALSO = "tests.events.also_react"
_BROKER_SETTINGS = ("broker_url", "broker_write_url", "task_publish_retry", "broker_transport_options")


def _forget_connections() -> None:
    # As in tests/consent/test_consent_outages.py: the next publish connects to whatever broker_url says now.
    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def _broker(**conf: object) -> Iterator[None]:
    before = {name: app.conf[name] for name in _BROKER_SETTINGS}
    app.conf.update(**conf)
    _forget_connections()
    try:
        yield
    finally:
        app.conf.update(before)
        _forget_connections()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Callable[[], list[tuple[str, list[object]]]]]:
    """A real (filesystem) broker of this test's own, so no other test's worker takes its messages;
    yields what has been published to it so far, as (task name, args)."""
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "store_processed": False,
        "control_folder": str(tmp_path / "control"),  # kombu's default is ./control, in the checkout
    }

    def published() -> list[tuple[str, list[object]]]:
        messages = []
        for path in sorted(folder.glob("*.msg")):
            message = json.loads(path.read_text())
            body = message["body"]
            if message["properties"].get("body_encoding") == "base64":
                body = base64.b64decode(body).decode()
            messages.append((message["headers"]["task"], json.loads(body)[0]))
        return [(task, args) for task, args in messages if task in (REACT, ALSO)]

    with _broker(broker_url="filesystem://", broker_write_url="filesystem://", broker_transport_options=options):
        yield published


@contextlib.contextmanager
def broker_unreachable() -> Iterator[None]:
    with _broker(
        broker_url=UNREACHABLE, broker_write_url=UNREACHABLE, task_publish_retry=False, broker_transport_options={}
    ):
        assert app.connection_for_write().as_uri().endswith("127.0.0.1:1/0")
        yield


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The registry of reactions is process-wide: this test's reactions leave with it.
    monkeypatch.setattr(services, "_HANDLERS", {})
    services.handler_register(event_type="webhook.test", task_name=REACT)
    services.handler_register(event_type="webhook.test", task_name=ALSO)


def _record(type_: str = "webhook.test") -> OutboxEvent:
    with transaction.atomic():
        return services.event_record(type=type_, payload={"consent": "con_x"})


@pytest.mark.django_db
def test_a_reaction_whose_publish_failed_is_published_by_the_next_sweep(broker, handlers, caplog):
    event = _record()

    # The broker goes away as the dispatcher publishes the reactions …
    with broker_unreachable(), contextlib.suppress(OperationalError):
        tasks.dispatch_outbox()
    assert broker() == []
    assert "the next dispatch or sweep will" in caplog.text

    # … and the sweep, once the broker is back, publishes both reactions, once.
    tasks.sweep()
    assert sorted(broker()) == [(ALSO, [event.public_id]), (REACT, [event.public_id])]
    event.refresh_from_db()
    assert event.dispatched_at is not None
    tasks.sweep()
    tasks.dispatch_outbox()
    assert len(broker()) == 2


@pytest.mark.django_db
def test_a_dispatch_publishes_each_reaction_once(broker, handlers):
    first, second = _record(), _record()
    _record("guideline.published")  # nobody reacts to this one

    tasks.dispatch_outbox()
    tasks.dispatch_outbox()
    tasks.sweep()
    assert sorted(broker()) == sorted((task, [event.public_id]) for event in (first, second) for task in (REACT, ALSO))
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_and_the_sweep_at_once_publish_each_reaction_once(broker, handlers):
    recorded = [_record() for _ in range(30)]
    start = threading.Barrier(3)
    failures: list[BaseException] = []

    def run(job: Callable[[], int]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(job,)) for job in (tasks.dispatch_outbox, tasks.dispatch_outbox, tasks.sweep)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(broker()) == sorted((task, [event.public_id]) for event in recorded for task in (REACT, ALSO))
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
