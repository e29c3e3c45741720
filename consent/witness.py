"""Evidence that a person re-authenticated recently, read from allauth's session records.

allauth appends a record to the session for every authentication step (a password login, a
re-authentication, a second factor); each holds the method and the time. A witnessed signature
relies on the newest of them; a ``mfa`` record in the same window means a second factor was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from allauth.account.authentication import get_authentication_records
from django.conf import settings

# Methods that prove the person is at the keyboard now. A login counts like a re-authentication:
# both ask for the password (or a code, or a second factor) there and then.
_PROVING_METHODS = {"password", "mfa", "code", "password_reset", "socialaccount"}


@dataclass(frozen=True)
class Witness:
    """When the signer last proved who they are, and whether a second factor was part of it."""

    authenticated_at: datetime
    second_factor: bool
    method: str


def witness_window() -> timedelta:
    return timedelta(seconds=getattr(settings, "ACCOUNT_REAUTHENTICATION_TIMEOUT", 300))


def witness_from_session(session: Any, user: Any) -> Witness | None:
    """The newest authentication record of ``user`` in ``session``, or None if there is none."""
    if session is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    records = [
        r
        for r in get_authentication_records(SimpleNamespace(session=session), user)  # type: ignore[arg-type]
        if r.get("method") in _PROVING_METHODS and isinstance(r.get("at"), (int, float))
    ]
    if not records:
        return None
    newest = max(records, key=lambda r: r["at"])
    at = datetime.fromtimestamp(newest["at"], UTC)
    window_start = at - witness_window()
    second = any(r["method"] == "mfa" and datetime.fromtimestamp(r["at"], UTC) >= window_start for r in records)
    return Witness(authenticated_at=at, second_factor=second, method=newest["method"])


def witness_from_request(request: Any) -> Witness | None:
    """The witness evidence of an API or page request (browser session, or the headless session token)."""
    from django.contrib.sessions.backends.base import SessionBase

    auth = getattr(request, "auth", None)
    session = auth if isinstance(auth, SessionBase) else getattr(request, "session", None)
    return witness_from_session(session, getattr(request, "user", None))
