"""Outbox events, webhook endpoints, and every delivery and attempt."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from registry.models import PublicIdModel


class OutboxEvent(PublicIdModel):
    """An event such as ``consent.revoked``; ``payload`` holds public ids, never personal data."""

    PREFIX = "evt"
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


class WebhookEndpoint(PublicIdModel):
    """Where an organization wants events delivered, signed per Standard Webhooks."""

    PREFIX = "whk"
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    # The HMAC key must be usable to sign, so it is stored as is (like every webhook sender).
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.organization} → {self.url}"


class Delivery(PublicIdModel):
    """One event for one endpoint; retried until it succeeds or we give up."""

    PREFIX = "dlv"

    class State(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A worker holds a delivery until this time; if it dies, the sweep hands it to another.
    lease_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt: when, what came back, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    manual = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"


class Acknowledgement(models.Model):
    """An organization confirming it received and acted on an event (e.g. a consent revocation)."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="acknowledgements")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    by_user = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    by_key = models.ForeignKey("accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "organization"], name="one_ack_per_organization")]

    def __str__(self) -> str:
        return f"{self.organization_id} acknowledged {self.event_id}"
