"""Fetching a published proof token, through the registry's SSRF-safe outbound client.

Every hop (at most three redirects) is resolved and checked by ``registry.outbound``: private,
loopback, link-local and other non-global addresses are refused unless an operator allows a
network (``REGISTRY_OUTBOUND_ALLOWED_NETWORKS``), plain http only where
``REGISTRY_OUTBOUND_ALLOW_HTTP`` is on. ``REGISTRY_PROOF_FETCHER`` names another callable
``(url) -> bytes``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from registry import outbound

MAX_BYTES = 64 * 1024
TIMEOUT_SECONDS = 5.0
MAX_REDIRECTS = 3
USER_AGENT = "Restu-proof-check/1 (+https://restu.example)"


class FetchError(Exception):
    """The token could not be fetched; ``reason`` is short and safe to show to the project."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def url_refusal(url: str, *, resolve: bool = True, raise_error: bool = False) -> str | None:
    """Why the registry would refuse to fetch ``url``, or None.

    With ``resolve``, a host name that resolves to a forbidden address is refused now; one that
    does not resolve yet is accepted (the project may still be setting it up) and checked again
    at fetch time.
    """
    reason: str | None = None
    try:
        _, host, port, _ = outbound.check_url(url)
        if resolve:
            outbound.resolve_checked(host, port)
    except outbound.OutboundUnresolved:
        reason = None
    except outbound.OutboundRefused as exc:
        reason = str(exc)
    if reason and raise_error:
        raise FetchError(reason)
    return reason


def fetch_url(url: str) -> bytes:
    """GET ``url`` (at most 64 KiB, a few redirects, short timeouts); FetchError on any failure."""
    try:
        response = outbound.request(
            "GET",
            url,
            headers={"User-Agent": USER_AGENT, "Accept": "text/plain"},
            timeout=TIMEOUT_SECONDS,
            max_bytes=MAX_BYTES,
            redirects=MAX_REDIRECTS,
        )
    except outbound.OutboundRefused as exc:
        raise FetchError(str(exc)) from exc
    except outbound.OutboundFailed as exc:
        too_large = "larger than" in str(exc)
        raise FetchError("the file is larger than 64 KiB" if too_large else "could not fetch the URL") from exc
    if response.status != 200:
        raise FetchError(f"the server answered HTTP {response.status}")
    return response.body


def proof_fetcher() -> Callable[[str], bytes]:
    """The configured fetcher (``REGISTRY_PROOF_FETCHER``, a dotted path), read at call time."""
    path = getattr(settings, "REGISTRY_PROOF_FETCHER", "guidelines.fetch.fetch_url")
    fetcher: Callable[[str], bytes] = import_string(path)
    return fetcher
