"""Fetching a published proof token without turning the registry into a proxy into private networks.

Every connection, including each redirect hop, resolves the host itself, refuses the whole
answer if any address is private, loopback, link-local or otherwise not global, and then
connects to an address it checked (never resolving again, so DNS rebinding cannot swap in
another address between the check and the connection). No proxy from the environment is used.

``REGISTRY_FETCH_ALLOW_PRIVATE`` (default False) lifts the address and https rules, for local
development and tests only. ``REGISTRY_PROOF_FETCHER`` names another callable ``(url) -> bytes``.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

MAX_BYTES = 64 * 1024
TIMEOUT_SECONDS = 5.0
DEADLINE_SECONDS = 15.0
MAX_REDIRECTS = 3
USER_AGENT = "Restu-proof-check/1 (+https://restu.example)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The token could not be fetched; ``reason`` is short and safe to show to the project."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def private_allowed() -> bool:
    return bool(getattr(settings, "REGISTRY_FETCH_ALLOW_PRIVATE", False))


def address_allowed(address: IPAddress) -> bool:
    """Whether the registry may connect to ``address``: only globally routable unicast."""
    if private_allowed():
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_global and not address.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def _resolve_checked(host: str, port: int) -> list[tuple[Any, ...]]:
    """Resolve ``host``; refuse if any of its addresses is not allowed (an attacker picks the order)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("the host name does not resolve") from exc
    if not infos:
        raise FetchError("the host name does not resolve")
    for info in infos:
        address = _literal(str(info[4][0]))
        if address is None or not address_allowed(address):
            raise FetchError("the host resolves to a private or reserved address")
    return infos


def _connect_checked(host: str, port: int, timeout: float) -> socket.socket:
    last: OSError | None = None
    for family, socktype, proto, _, sockaddr in _resolve_checked(host, port):
        sock = socket.socket(family, socktype, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise FetchError("could not connect to the host") from last


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = _connect_checked(self.host, self.port, self.timeout)  # type: ignore[arg-type]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        sock = _connect_checked(self.host, self.port, self.timeout)  # type: ignore[arg-type]
        # Certificate and host name are checked against the name, though we connected by address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PinnedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PinnedHTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        url_refusal(newurl, resolve=False, raise_error=True)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def url_refusal(url: str, *, resolve: bool = True, raise_error: bool = False) -> str | None:
    """Why the registry would refuse to fetch ``url``, or None.

    With ``resolve``, a host name that resolves to a forbidden address is refused now; one that
    does not resolve yet is accepted (the project may still be setting it up) and checked again
    at fetch time.
    """
    reason: str | None = None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port, reason = None, None, "not a valid URL"
    if parts is not None:
        allowed_schemes = {"https", "http"} if private_allowed() else {"https"}
        host = parts.hostname or ""
        if parts.scheme not in allowed_schemes:
            reason = "the URL must use https"
        elif not host:
            reason = "the URL has no host"
        elif parts.username or parts.password:
            reason = "the URL must not carry a user name or password"
        else:
            literal = _literal(host)
            if literal is not None:
                if not address_allowed(literal):
                    reason = "the URL points at a private or reserved address"
            elif host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
                if not private_allowed():
                    reason = "the URL points at a private or reserved address"
            elif resolve:
                try:
                    _resolve_checked(host, port or 443)
                except FetchError as exc:
                    if "private" in exc.reason:
                        reason = "the URL points at a private or reserved address"
    if reason and raise_error:
        raise FetchError(reason)
    return reason


def fetch_url(url: str) -> bytes:
    """GET ``url`` (at most 64 KiB, a few redirects, short timeouts); FetchError on any failure."""
    url_refusal(url, resolve=False, raise_error=True)
    opener = urllib.request.OpenerDirector()
    for handler in (
        _HTTPHandler(),
        _HTTPSHandler(context=ssl.create_default_context()),
        _RedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/plain"})  # noqa: S310
    deadline = time.monotonic() + DEADLINE_SECONDS
    chunks: list[bytes] = []
    size = 0
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            while chunk := response.read(8192):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchError("the file is larger than 64 KiB")
                if time.monotonic() > deadline:
                    raise FetchError("the server was too slow")
                chunks.append(chunk)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"the server answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        raise FetchError("could not fetch the URL") from exc
    return b"".join(chunks)


def proof_fetcher() -> Callable[[str], bytes]:
    """The configured fetcher (``REGISTRY_PROOF_FETCHER``, a dotted path), read at call time."""
    path = getattr(settings, "REGISTRY_PROOF_FETCHER", "guidelines.fetch.fetch_url")
    return import_string(path)  # type: ignore[no-any-return]
