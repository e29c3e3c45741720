"""Outbox rows: one per event, written with the change, delivered after commit."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from registry.lib.ids import new_public_id


class OutboxEvent(models.Model):
    """An event such as ``consent.revoked``; ``payload`` holds public ids, never personal data."""

    public_id = models.CharField(max_length=40, unique=True, editable=False)
    type = models.CharField(max_length=60, db_index=True)
    payload = models.JSONField()
    # Organizations the event concerns (e.g. grantees of a revoked consent); empty = public.
    audience = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.public_id:
            self.public_id = new_public_id("evt")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
