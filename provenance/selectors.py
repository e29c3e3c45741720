"""Reads for provenance checks: the cited consent, the access-log row a receipt stands for, a queued check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache

from consent.models import AccessLogEntry, Consent, Release
from registry.accounts.models import Membership
from registry.errors import NotFound

CHECK_STATUS_TTL_SECONDS = 3600


@dataclass(frozen=True)
class ConsentNow:
    """What a check needs of a cited consent: its status now and the terms training-mining is held to."""

    status: str
    effect: str
    activity_mask: int
    purpose_mask: int


def consent_of(*, consent: str, subject: str) -> ConsentNow | None:
    """The consent ``consent`` of subject ``subject`` (None if it does not exist or is not theirs)."""
    # Four columns in one indexed lookup: the whole row (terms, notices, signatures) is not needed.
    rows = Consent.objects.filter(public_id=consent, subject__public_id=subject).values_list(
        "status", "effect", "activity_mask", "purpose_mask"
    )[:1]
    return next((ConsentNow(*row) for row in rows), None)


def access_entry_for(
    *, receipt_ids: list[str], consent: str, subject: str, issued_before: datetime
) -> AccessLogEntry | None:
    """The latest access-log row written under one of ``receipt_ids`` (a receipt's ``jti``, or a
    release's id) that cites ``consent`` for ``subject``, no later than the receipt was issued."""
    ids = [receipt_id for receipt_id in receipt_ids if receipt_id]
    if not ids:
        return None
    return (
        AccessLogEntry.objects.filter(
            receipt_id__in=ids,
            consent__public_id=consent,
            subject__public_id=subject,
            created__lte=issued_before,
        )
        .order_by("-created", "-pk")
        .first()
    )


def check_status_key(check_id: str) -> str:
    return f"provenance:check:{check_id}"


def check_status(*, check_id: str) -> dict[str, Any]:
    """A queued check's status document; NotFound once unknown or expired."""
    found = cache.get(check_status_key(check_id))
    if not isinstance(found, dict):
        raise NotFound("No such check (results are kept for an hour).")
    return found


def release_for_caller(*, public_id: str, organization_id: int | None, user_id: int | None) -> Release:
    """A release of one of the caller's organizations (an API key: its own only); NotFound otherwise."""
    organizations: list[int] = []
    if organization_id is not None:
        organizations = [organization_id]
    elif user_id is not None:
        organizations = list(Membership.objects.filter(user_id=user_id).values_list("organization_id", flat=True))
    release = (
        Release.objects.select_related("organization")
        .filter(public_id=public_id, organization_id__in=organizations)
        .first()
    )
    if release is None:
        raise NotFound("No such release.")
    return release
