"""Helpers the consent services share: the registry's day, timestamps, digests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone

from consent.models import Subject
from registry.lib.canonical import canonical_json, sha256_digest


def today() -> date:
    """The registry's calendar day (UTC): every date rule uses the same clock."""
    return timezone.now().astimezone(UTC).date()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _statement_digest(statement: dict[str, Any]) -> str:
    return sha256_digest(canonical_json(statement))


def _touch(subject: Subject) -> None:
    subject.updated = timezone.now()
    Subject.objects.filter(pk=subject.pk).update(updated=subject.updated)
