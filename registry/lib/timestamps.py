"""The one timestamp format of API output: RFC 3339 in UTC with ``Z`` (as DRF renders its fields)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """``2026-12-06T14:05:09.123456Z`` (fractional seconds only when there are any).

    A naive moment is refused: it names no instant, and guessing its zone would shift it."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime names no instant")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)
