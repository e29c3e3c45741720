"""Outbound HTTP to addresses that users give us (webhooks, proof files), safe against SSRF.

The host is resolved once, every address is checked, and the connection goes to a checked
address (with the original host for TLS and ``Host``), so a DNS answer that changes between
the check and the connection cannot smuggle a request to an internal service. Private,
loopback, link-local and other special addresses are refused unless they fall in
``REGISTRY_OUTBOUND_ALLOWED_NETWORKS`` (tests, and an operator's own private deployment).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings


class OutboundRefused(ValueError):
    """The URL may not be contacted (scheme, host or address not allowed)."""


class OutboundUnresolved(OutboundRefused):
    """The host name does not resolve (now)."""


class OutboundFailed(OSError):
    """The request was allowed but did not complete (timeout, refused, too large, bad TLS)."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net) for net in getattr(settings, "REGISTRY_OUTBOUND_ALLOWED_NETWORKS", [])]


def _allow_http() -> bool:
    return bool(getattr(settings, "REGISTRY_OUTBOUND_ALLOW_HTTP", False))


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 transition mechanisms wrap an IPv4 address in an IPv6 one that ``ipaddress`` calls global:
# ``2002:7f00:1::`` is 6to4 for 127.0.0.1, and a relay (6to4, NAT64, Teredo) on the path carries the
# request there. Refused whatever they wrap, unless an operator allows the network. (network, what)
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


def refusal(address: Address, allowed: list[Network] | None = None) -> str | None:
    """Why ``address`` may not be contacted, or None when it may (the one rule for every outbound call)."""
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


def check_url(url: str) -> tuple[str, str, int, str]:
    """Validate the shape of a URL we may call; returns (scheme, host, port, path-with-query)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused("The URL is malformed.") from exc
    scheme = parts.scheme.lower()
    allowed = {"https", "http"} if _allow_http() else {"https"}
    if scheme not in allowed:
        raise OutboundRefused("Only https:// URLs are allowed." if "http" not in allowed else "Use http(s)://.")
    if not parts.hostname or parts.username or parts.password:
        raise OutboundRefused("The URL needs a host name and must not carry a user name or password.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve_checked(host: str, port: int) -> str:
    """An address for ``host`` that we may connect to; refuses if any answer is forbidden."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OutboundUnresolved(f"The host name {host!r} does not resolve.") from exc
        candidates = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not candidates:
        raise OutboundUnresolved(f"The host name {host!r} does not resolve.")
    allowed = _allowed_networks()
    for address in candidates:
        why = refusal(address, allowed)
        if why:
            raise OutboundRefused(f"The address {address} cannot be used: {why}.")
    return str(candidates[0])


def check_reachable(url: str) -> None:
    """Refuse (``OutboundRefused``) a URL we may not call, or whose host has an address we may not
    reach; ``OutboundUnresolved`` when the name does not resolve now."""
    _, host, port, _ = check_url(url)
    resolve_checked(host, port)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    max_bytes: int = 64 * 1024,
    redirects: int = 0,
) -> OutboundResponse:
    """One HTTP request to a user-given URL, with every hop checked; reads at most ``max_bytes``."""
    for _hop in range(redirects + 1):
        scheme, host, port, path = check_url(url)
        address = resolve_checked(host, port)
        cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = cls(host, port, address, timeout)
        try:
            connection.request(method, path, body=body, headers={"User-Agent": "Restu/1", **(headers or {})})
            response = connection.getresponse()
            data = response.read(max_bytes + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise OutboundFailed(f"The request failed: {exc.__class__.__name__}: {exc}") from exc
        finally:
            connection.close()
        if len(data) > max_bytes:
            raise OutboundFailed(f"The response is larger than {max_bytes} bytes.")
        location = response.getheader("Location")
        if response.status in (301, 302, 303, 307, 308) and location and _hop < redirects:
            url = urljoin(url, location)
            continue
        return OutboundResponse(response.status, dict(response.getheaders()), data, url)
    raise OutboundFailed("Too many redirects.")
