"""Helpers the consent services share: the registry's day, timestamps, digests, notifying representatives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from consent.models import Subject
from registry.background import enqueue
from registry.lib.canonical import canonical_json, sha256_digest


def today() -> date:
    """The registry's calendar day (UTC): every date rule uses the same clock."""
    return timezone.now().astimezone(UTC).date()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _statement_digest(statement: dict[str, Any]) -> str:
    return sha256_digest(canonical_json(statement))


def _notify(subject: Subject, kind: str, ref: str) -> None:
    """Email the subject's representatives once the change has committed (ids only)."""
    from consent.tasks import notify_representatives

    subject_id = subject.public_id
    transaction.on_commit(
        lambda: enqueue(notify_representatives.delay, subject_id, kind, ref, what="the representatives' email")
    )


def _touch(subject: Subject) -> None:
    subject.updated = timezone.now()
    Subject.objects.filter(pk=subject.pk).update(updated=subject.updated)
