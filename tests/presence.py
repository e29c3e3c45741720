"""A fresh proof of presence, as a person who signed in moments ago brings to a sensitive action."""

from __future__ import annotations

from django.utils import timezone

from registry.accounts.presence import Presence


def fresh_presence() -> Presence:
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
