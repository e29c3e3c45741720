"""A proof of presence for service calls in tests: the person confirmed their password just now."""

from __future__ import annotations

from django.utils import timezone

from registry.accounts.presence import Presence


def present() -> Presence:
    """A password confirmed just now: what registering or retiring a signing key needs."""
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
