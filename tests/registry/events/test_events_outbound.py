"""Outbound requests to user-given URLs can never reach private addresses with production settings."""

import pytest

from registry import outbound


@pytest.fixture
def production(settings):
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = []
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = False


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(production, url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.request("POST", url, body=b"{}")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",
        "ftp://example.org/x",
        "file:///etc/passwd",
        "https://user:pw@example.org/",
        "https://",
        "not a url",
    ],
)
def test_only_https_urls_without_credentials_are_accepted(production, url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


def test_a_redirect_to_a_private_address_is_refused(receiver):
    # The loopback test server is allowed; it redirects to the cloud metadata address, which is not.
    with pytest.raises(outbound.OutboundRefused):
        outbound.request("GET", receiver.url, redirects=1, timeout=2)


def test_allowed_networks_open_only_themselves(settings, receiver):
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    with pytest.raises(outbound.OutboundRefused):
        outbound.request("POST", receiver.url, body=b"{}")
