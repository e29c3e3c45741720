"""The API's JSON body for a consent, as ``POST /api/v1/consents`` takes it, for tests to vary."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def consent_terms(subject: Any, grantee: str = "*", **changes: Any) -> dict[str, Any]:
    """A permit for a feature film in Indonesia for a year from today; ``changes`` override fields."""
    today = timezone.now().date()
    body: dict[str, Any] = {
        "subject": subject.public_id,
        "effect": "permit",
        "grantee": grantee,
        "production": None,
        "media": ["face"],
        "activities": ["generate"],
        "purposes": ["film_tv"],
        "intended_use": "New scenes for a feature film shot in Jakarta",
        "territories": ["ID"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "conditions": {"attribution_required": True},
        "revocation": {"policy": "anytime"},
        "representation": "none",
        "court_approval_ref": None,
        "guideline": None,
    }
    body.update(changes)
    return body
