"""The lean way in for add-checkpoint (registry.witness.wsgi): the same answers as through the
site, with every cosignature checked by reference_witness, but without the site's session,
locale and CSP middleware; every other request still goes through the site's application.

Raw WSGI calls, as a server makes them: Django's test Client has its own handler and would not
pass through the wrapper. Transactional tests, because each request opens and closes its
database connection the way a server worker does."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler

from registry.fast_paths import fast_paths
from registry.witness.models import WitnessedLog
from registry.witness.wsgi import witness_route
from tests.registry.witness.reference_witness import DASH, verify_cosignature
from tests.wsgi_call import Answer
from tests.wsgi_call import call as wsgi_call

URL = "/api/v1/witness/add-checkpoint"
pytestmark = pytest.mark.django_db(transaction=True)


def call(app: Any, method: str, path: str, body: bytes = b"", host: str = "testserver") -> Answer:
    return wsgi_call(app, method, path, body, content_type="text/plain", host=host)


@pytest.fixture
def site() -> WSGIHandler:
    return WSGIHandler()


@pytest.fixture
def app(site: WSGIHandler) -> Any:
    return fast_paths(site, [witness_route()])


def stored() -> tuple[int, bytes] | None:
    row = WitnessedLog.objects.first()
    return (row.size, bytes(row.root)) if row else None


def test_a_checkpoint_is_cosigned_through_the_lean_path_without_the_sites_middleware(
    app, key_file, witnessed_logs_file, other_log
) -> None:
    vkey = call(app, "GET", "/api/v1/witness/key").body.decode().strip()
    first = call(app, "POST", URL, other_log.request(0))
    assert first.status_code == 200, first.body
    assert first.body.decode().startswith(f"{DASH} restu.example/log/witness ")
    verify_cosignature(first.body.decode(), other_log.text(), vkey)
    assert stored() == (5, other_log.tree.root())
    # Machine answers: no language negotiation, no cookie, no page policy; the security
    # headers every answer carries are still there.
    assert "vary" not in first.headers
    assert "set-cookie" not in first.headers
    assert "content-security-policy" not in first.headers
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["cache-control"] == "no-store"

    other_log.grow(3)
    second = call(app, "POST", URL, other_log.request(5))
    assert second.status_code == 200, second.body
    verify_cosignature(second.body.decode(), other_log.text(), vkey)
    assert stored() == (8, other_log.tree.root())


def test_the_lean_path_answers_as_the_site_does_and_stores_nothing_on_bad_input(
    app, site, key_file, witnessed_logs_file, other_log
) -> None:
    assert call(app, "POST", URL, other_log.request(0)).status_code == 200
    other_log.grow(2)
    for target in (app, site):
        stale = call(target, "POST", URL, other_log.request(0))
        assert stale.status_code == 409
        assert stale.headers["content-type"] == "text/x.tlog.size"
        assert stale.body == b"5\n"
        malformed = call(target, "POST", URL, b"old 0\n\nnot a note")
        assert malformed.status_code == 400
        assert malformed.headers["content-type"].startswith("text/plain")
        oversized = call(target, "POST", URL, other_log.request(5).replace(b"\n\n", b"\n" + b"x" * 70_000 + b"\n\n", 1))
        assert oversized.status_code == 413
        assert stored() == (5, other_log.tree.root(5))


def test_a_host_not_allowed_is_refused_on_the_lean_path_and_nothing_is_stored(
    app, key_file, witnessed_logs_file, other_log
) -> None:
    refused = call(app, "POST", URL, other_log.request(0), host="evil.example")
    assert refused.status_code == 400
    assert stored() is None


def test_other_methods_and_paths_go_through_the_site(app, key_file) -> None:
    # GET on add-checkpoint: the site's 405 as a problem document, as before.
    not_allowed = call(app, "GET", URL)
    assert not_allowed.status_code == 405
    assert not_allowed.headers["content-type"].startswith("application/problem+json")
    # Any other address gets the site's middleware (here: language negotiation).
    key = call(app, "GET", "/api/v1/witness/key")
    assert key.status_code == 200
    assert "Accept-Language" in key.headers.get("vary", "")
