"""Outbound requests to user-given URLs can never reach private addresses with production settings."""

import socket

import pytest
from django.db import transaction

from registry import outbound
from registry.errors import ValidationFailed
from registry.events import services
from registry.events.models import DeliveryAttempt, WebhookEndpoint


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


# --- IPv6 transition addresses that wrap an IPv4 address (issue 13) -----------------------------
# Each embeds 127.0.0.1, 10.0.0.1 or 169.254.169.254; a relay or gateway on the path would carry
# the request to that IPv4 address, so the address check must refuse the wrapper itself.

TRANSITION_ADDRESSES = [
    # 6to4, 2002:V4ADDR::/48 (RFC 3056)
    "2002:7f00:1::1",
    "2002:a00:1::",
    "2002:a9fe:a9fe::1",
    # Teredo, 2001:0::/32 with the client's address inverted in the last 32 bits (RFC 4380)
    "2001:0:4136:e378:8000:63bf:80ff:fffe",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    "2001:0:4136:e378:8000:63bf:5601:5601",
    # NAT64 well-known prefix (RFC 6052) and local-use prefix (RFC 8215)
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::7f00:1",
    "64:ff9b:1:2::a9fe:a9fe",
    # IPv4-mapped (the embedded address is what is reached)
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    # IPv4-compatible (deprecated, RFC 4291)
    "::127.0.0.1",
    "::10.0.0.1",
    "::169.254.169.254",
    # SIIT IPv4-translated (RFC 2765)
    "::ffff:0:7f00:1",
    "::ffff:0:a9fe:a9fe",
]

# Transition prefixes are refused whatever they wrap: a public IPv4 address inside 6to4 is
# still reached through a relay nobody chose.
TRANSITION_WRAPPING_PUBLIC = ["2002:808:808::1", "64:ff9b::808:808", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]


@pytest.mark.django_db
@pytest.mark.parametrize("address", TRANSITION_ADDRESSES + TRANSITION_WRAPPING_PUBLIC)
def test_webhook_urls_on_transition_addresses_are_refused(api, org, production, address):
    response = api.post(
        "/api/v1/webhooks",
        {"url": f"https://[{address}]/hook", "events": ["consent.revoked"], "organization": org.public_id},
        format="json",
    )
    assert response.status_code == 400, (address, response.content[:200])
    assert "url" in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_host_name_that_resolves_to_a_6to4_loopback_is_refused(org, production, monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "sneaky.example.org":
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2002:7f00:1::1", port, 0, 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(ValidationFailed) as refused:
        services.webhook_create(
            organization=org, actor_role="owner", url="https://sneaky.example.org/hook", events=["consent.revoked"]
        )
    assert "url" in refused.value.errors


@pytest.mark.django_db
def test_a_stored_endpoint_on_a_transition_address_gets_no_delivery(org, production):
    # A row written before the check existed: every delivery checks the address again.
    endpoint = WebhookEndpoint.objects.create(
        organization=org,
        url="https://[2002:a9fe:a9fe::1]/latest/meta-data",
        events=["consent.revoked"],
        secret="whsec_x",
    )
    with transaction.atomic():
        services.event_record(type="consent.revoked", payload={"consent": "con_x"}, audience=[org.public_id])
    [delivery_id] = services.outbox_dispatch()[0]
    assert services.delivery_attempt(delivery_id=delivery_id) == "failed"
    attempt = DeliveryAttempt.objects.get(delivery__endpoint=endpoint)
    assert attempt.status_code is None
    assert "6to4" in attempt.error


@pytest.mark.django_db
def test_an_operator_may_allow_a_transition_network_explicitly(org, settings):
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = False
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["2002:7f00:1::/48"]
    endpoint = services.webhook_create(
        organization=org, actor_role="owner", url="https://[2002:7f00:1::1]/hook", events=["consent.revoked"]
    )
    assert endpoint.url == "https://[2002:7f00:1::1]/hook"
    # Allowing one 6to4 network opens only that one; allowing 127.0.0.0/8 opens no wrapper of it.
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["2002:7f00:1::/48", "127.0.0.0/8"]
    for address in ("2002:a00:1::1", "64:ff9b::7f00:1", "2001:0:4136:e378:8000:63bf:80ff:fffe"):
        with pytest.raises(ValidationFailed):
            services.webhook_create(
                organization=org, actor_role="owner", url=f"https://[{address}]/hook", events=["consent.revoked"]
            )


@pytest.mark.django_db
def test_public_addresses_are_still_accepted(org, production):
    for url in ("https://[2606:4700:4700::1111]/hook", "https://[::ffff:8.8.8.8]/hook", "https://8.8.8.8/hook"):
        assert services.webhook_create(organization=org, actor_role="owner", url=url, events=["consent.revoked"])


@pytest.mark.parametrize(
    "address",
    ["2002:7f00:1::", "2002:a00:1::", "64:ff9b::a9fe:a9fe", "2001:0:7f00:1::", "::ffff:127.0.0.1", "::127.0.0.1"],
)
def test_proof_fetches_refuse_transition_addresses_too(settings, address):
    # One rule for every outbound call: a project's proof-of-control URL goes through the same
    # check as a webhook, so a 6to4 address wrapping loopback cannot reach the registry's own host.
    from registry import outbound

    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(outbound.OutboundRefused):
        outbound.resolve_checked(address, 443)
