"""Which addresses a webhook may be delivered to: the outbound check, with IPv6 transition prefixes.

``registry.outbound`` refuses private, loopback, link-local and other special addresses. IPv6
transition mechanisms wrap an IPv4 address in an IPv6 one that Python's ``ipaddress`` calls
global: ``2002:7f00:1::`` is 6to4 for 127.0.0.1, and a 6to4 relay (or a NAT64 gateway, or a
Teredo server) on the path carries the request to that IPv4 address. These prefixes are refused
whatever they wrap, unless an operator lists the network in ``REGISTRY_OUTBOUND_ALLOWED_NETWORKS``.
An IPv4-mapped address (``::ffff:a.b.c.d``) is judged by the IPv4 address it maps.

Every webhook URL is checked when it is registered or changed and again before each delivery.
The rules are self-contained so ``registry.outbound`` (used for proof files too) can adopt them.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

from registry import outbound

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# (network, what it is). Each either embeds an IPv4 address or sends traffic through a relay.
TRANSITION_NETWORKS: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), name)
    for cidr, name in (
        ("2002::/16", "6to4 (RFC 3056)"),
        ("2001::/32", "Teredo (RFC 4380)"),
        ("64:ff9b::/96", "NAT64 well-known prefix (RFC 6052)"),
        ("64:ff9b:1::/48", "NAT64 local-use prefix (RFC 8215)"),
        ("::/96", "IPv4-compatible (RFC 4291, deprecated)"),
        ("::ffff:0:0:0/96", "SIIT IPv4-translated (RFC 2765)"),
        ("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
        ("192.0.0.0/24", "IETF protocol assignments, NAT64 discovery (RFC 6890, RFC 7050)"),
        ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
        ("5f00::/16", "SRv6 segment identifiers (RFC 9602)"),
        ("3fff::/20", "documentation (RFC 9637)"),
    )
)


def _allowed_networks() -> list[Network]:
    return [ipaddress.ip_network(net) for net in getattr(settings, "REGISTRY_OUTBOUND_ALLOWED_NETWORKS", [])]


def refusal(address: Address, allowed: list[Network] | None = None) -> str | None:
    """Why ``address`` may not be contacted, or None when it may."""
    allowed = _allowed_networks() if allowed is None else allowed
    if any(address.version == net.version and address in net for net in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        inner = refusal(address.ipv4_mapped, allowed)
        return f"it maps {address.ipv4_mapped}: {inner}" if inner else None
    for network, name in TRANSITION_NETWORKS:
        if address.version == network.version and address in network:
            return f"it is in {network}, {name}"
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return "it is private, loopback, link-local or reserved"
    return None


def _addresses(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise outbound.OutboundUnresolved(f"The host name {host!r} does not resolve.") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise outbound.OutboundUnresolved(f"The host name {host!r} does not resolve.")
    return addresses


def check_webhook_url(url: str) -> None:
    """Refuse (``OutboundRefused``) a URL we may not call, or whose host has an address we may not
    reach; ``OutboundUnresolved`` when the name does not resolve now."""
    _, host, port, _ = outbound.check_url(url)
    allowed = _allowed_networks()
    for address in _addresses(host, port):
        why = refusal(address, allowed)
        if why:
            raise outbound.OutboundRefused(f"The address {address} cannot be used: {why}.")
