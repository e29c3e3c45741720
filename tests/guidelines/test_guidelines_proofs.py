"""Proofs of control: tokens fetched from a real local server; SSRF refused under production settings."""

from __future__ import annotations

import http.server
import sys
import threading
import types
from collections.abc import Iterator

import pytest

from guidelines import fetch, services
from guidelines.models import ControlProof
from registry.errors import ValidationFailed

FILES: dict[str, bytes] = {}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", self.path.split("to=", 1)[1])
            self.end_headers()
            return
        body = FILES.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    FILES.clear()


def _allow_loopback(settings, allowed: bool) -> None:
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"] if allowed else []
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = allowed


@pytest.fixture
def allow_private(settings) -> None:
    _allow_loopback(settings, True)


@pytest.fixture
def local_project(project, server):
    project.repository_url = f"{server}/open-swap"
    project.save()
    return project


def test_a_repository_proof_is_verified_from_the_published_file(local_project, server, maintainer_api, allow_private):
    base = f"/api/v1/organizations/{local_project.public_id}/proofs"
    created = maintainer_api.post(
        base, {"kind": "repository", "target": f"{server}/open-swap/raw/main/restu.txt"}, format="json"
    )
    assert created.status_code == 201, created.json()
    proof = created.json()
    assert proof["status"] == "pending"
    assert proof["token"].startswith("restu-proof-")
    assert proof["publish_at"] == f"{server}/open-swap/raw/main/restu.txt"

    missing = maintainer_api.post(f"{base}/{proof['id']}/check")
    assert missing.json()["status"] == "failed"
    assert missing.json()["last_error"] == "the server answered HTTP 404"

    FILES["/open-swap/raw/main/restu.txt"] = f"# Restu\n{proof['token']}\n".encode()
    checked = maintainer_api.post(f"{base}/{proof['id']}/check")
    assert checked.status_code == 200
    assert checked.json()["status"] == "verified"
    assert checked.json()["verified_at"] is not None

    FILES["/open-swap/raw/main/restu.txt"] = b"restu-proof-someone-elses-token\n"
    assert maintainer_api.post(f"{base}/{proof['id']}/check").json()["status"] == "failed"


def test_a_domain_proof_asks_for_the_well_known_file_and_uses_the_configured_fetcher(
    project, maintainer_api, settings, monkeypatch
):
    created = maintainer_api.post(
        f"/api/v1/organizations/{project.public_id}/proofs",
        {"kind": "domain", "target": "Open-Swap.example"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    proof = created.json()
    assert proof["publish_at"] == "https://open-swap.example/.well-known/restu.txt"

    # The fetcher is pluggable: a setting names any callable (url) -> bytes.
    seen: list[str] = []
    module = types.ModuleType("restu_test_fetcher")
    module.fetch = lambda url: seen.append(url) or f"{proof['token']}\n".encode()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "restu_test_fetcher", module)
    settings.REGISTRY_PROOF_FETCHER = "restu_test_fetcher.fetch"

    checked = maintainer_api.post(f"/api/v1/organizations/{project.public_id}/proofs/{proof['id']}/check")

    assert checked.json()["status"] == "verified"
    assert seen == ["https://open-swap.example/.well-known/restu.txt"]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/open-swap/x.txt",
        "https://127.0.0.1/open-swap/x.txt",
        "https://10.1.2.3/open-swap/x.txt",
        "https://169.254.169.254/open-swap/latest/meta-data",
        "https://[::1]/open-swap/x.txt",
        "https://[::ffff:127.0.0.1]/open-swap/x.txt",
        "https://localhost/open-swap/x.txt",
    ],
)
def test_a_proof_url_pointing_at_a_private_address_is_refused(project, maintainer_api, target):
    prefix = target.split("/open-swap")[0]
    project.repository_url = f"{prefix}/open-swap"
    project.save()

    response = maintainer_api.post(
        f"/api/v1/organizations/{project.public_id}/proofs", {"kind": "repository", "target": target}, format="json"
    )

    assert response.status_code == 400
    assert "target" in response.json()["errors"]
    assert not ControlProof.objects.exists()


@pytest.mark.parametrize("target", ["localhost", "10.0.0.1", "not a domain", "printer.local"])
def test_bad_domains_are_refused(project, maintainer_api, target):
    response = maintainer_api.post(
        f"/api/v1/organizations/{project.public_id}/proofs", {"kind": "domain", "target": target}, format="json"
    )
    assert response.status_code == 400
    assert not ControlProof.objects.exists()


def test_a_file_outside_the_repository_is_refused(project):
    project.repository_url = "https://git.example.org/open-swap"
    project.save()
    with pytest.raises(ValidationFailed):
        services.control_proof_create(
            organization=project, actor_role="owner", kind="repository", target="https://git.example.org/other/x.txt"
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://0.0.0.0/x",
        "https://localhost/x",
        "http://93.184.215.14/x",  # plain http, even to a public address
        "file:///etc/passwd",
        "ftp://example.org/x",
    ],
)
def test_the_fetcher_refuses_private_addresses_and_other_schemes(url, settings):
    _allow_loopback(settings, False)
    with pytest.raises(fetch.FetchError):
        fetch.fetch_url(url)


def test_the_fetcher_refuses_a_host_name_resolving_to_a_private_address(monkeypatch, settings):
    # Whatever the name, every address it resolves to is checked before connecting.
    import socket

    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(fetch.FetchError) as excinfo:
        fetch.fetch_url("https://rebind.example/restu.txt")
    assert "private" in excinfo.value.reason


def test_a_redirect_to_a_private_address_is_refused(server, settings):
    FILES["/token.txt"] = b"secret"
    # With the allowance on, the local server itself is reachable, and follows the redirect …
    _allow_loopback(settings, True)
    assert fetch.fetch_url(f"{server}/redirect?to={server}/token.txt") == b"secret"
    # … but the check is made at every hop: without it, neither the server nor the target is.
    _allow_loopback(settings, False)
    with pytest.raises(fetch.FetchError):
        fetch.fetch_url(f"{server}/redirect?to=http://169.254.169.254/latest/meta-data/")


def test_a_redirect_hop_is_checked_even_from_an_allowed_first_address(server, settings):
    # Loopback (the test server) is allowed; the private address it redirects to is not.
    _allow_loopback(settings, True)
    with pytest.raises(fetch.FetchError) as excinfo:
        fetch.fetch_url(f"{server}/redirect?to=http://10.0.0.1/")
    assert "private" in excinfo.value.reason


def test_the_fetcher_stops_at_64_kib(server, allow_private):
    FILES["/big.txt"] = b"x" * (64 * 1024 + 1)
    with pytest.raises(fetch.FetchError) as excinfo:
        fetch.fetch_url(f"{server}/big.txt")
    assert "64 KiB" in excinfo.value.reason
    FILES["/ok.txt"] = b"x" * (64 * 1024)
    assert len(fetch.fetch_url(f"{server}/ok.txt")) == 64 * 1024
