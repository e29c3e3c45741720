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
from django.utils import timezone

from registry.errors import ReauthenticationRequired

# Methods that prove the person is at the keyboard now. A login counts like a re-authentication:
# both ask for the password (or a code, or a second factor) there and then.
_PROVING_METHODS = {"password", "mfa", "code", "password_reset", "socialaccount", "signup"}


@dataclass(frozen=True)
class Presence:
    """When the signer last proved who they are, and whether a second factor was part of it."""

    authenticated_at: datetime
    second_factor: bool
    method: str


def record_signup(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_signed_up`` receiver: a sign-up counts as an authentication (the person just chose
    their password there and then), as docs/api.md v1.1 says. allauth records a record for a password
    login, a re-authentication or a code, but none for a sign-up, so we add one, the same way."""
    from allauth.account.internal.flows.login import record_authentication

    if request is not None and getattr(request, "session", None) is not None:
        record_authentication(request, user, method="signup")


def presence_window() -> timedelta:
    return timedelta(seconds=getattr(settings, "ACCOUNT_REAUTHENTICATION_TIMEOUT", 300))


def presence_from_session(session: Any, user: Any) -> Presence | None:
    """The newest authentication record of ``user`` in ``session``, or None if there is none."""
    if session is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    records = [
        r
        for r in get_authentication_records(SimpleNamespace(session=session), user)
        if r.get("method") in _PROVING_METHODS and isinstance(r.get("at"), (int, float))
    ]
    if not records:
        return None
    newest = max(records, key=lambda r: r["at"])
    at = datetime.fromtimestamp(newest["at"], UTC)
    window_start = at - presence_window()
    second = any(r["method"] == "mfa" and datetime.fromtimestamp(r["at"], UTC) >= window_start for r in records)
    return Presence(authenticated_at=at, second_factor=second, method=newest["method"])


def presence_from_request(request: Any) -> Presence | None:
    """The witness evidence of an API or page request (browser session, or the headless session token)."""
    from django.contrib.sessions.backends.base import SessionBase

    auth = getattr(request, "auth", None)
    session = auth if isinstance(auth, SessionBase) else getattr(request, "session", None)
    return presence_from_session(session, getattr(request, "user", None))


def presence_is_fresh(presence: Presence | None) -> bool:
    """Whether ``presence`` proves the person was at the keyboard within the window."""
    return presence is not None and timezone.now() - presence.authenticated_at <= presence_window()


def require_presence(presence: Presence | None, *, action: str) -> Presence:
    """The one rule for sensitive actions: a fresh proof of presence, or ReauthenticationRequired.

    ``action`` names what the person tried, in the words the answer shows them.
    """
    if presence is None or not presence_is_fresh(presence):
        raise ReauthenticationRequired(
            f"Please confirm it is you before you {action}: sign in again (password or second factor), "
            "then retry within 5 minutes."
        )
    return presence
