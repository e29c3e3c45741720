"""Shapes for webhook endpoints and their delivery log."""

from __future__ import annotations

from rest_framework import serializers

from registry.api.serializers import StrictSerializer
from registry.events.models import DeliveryAttempt, WebhookEndpoint
from registry.events.vocabulary import event_types


class _EventsField(serializers.ListField):
    """A list of subscribable event types, read when the serializer is built: apps register their
    types in ``ready()``, after this module may have been imported."""

    def __init__(self, *, required: bool = True) -> None:
        names = event_types()
        super().__init__(child=serializers.ChoiceField(choices=names), max_length=len(names), required=required)


class WebhookIn(StrictSerializer):
    url = serializers.CharField(max_length=500)
    events = _EventsField()
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    organization = serializers.CharField(max_length=40, required=False)


class WebhookPatchIn(StrictSerializer):
    url = serializers.CharField(max_length=500, required=False)
    events = _EventsField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookOut(serializers.ModelSerializer[WebhookEndpoint]):
    id = serializers.CharField(source="public_id")
    organization = serializers.CharField(source="organization.public_id")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organization",
            "url",
            "events",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "created",
        ]


class WebhookWithSecretOut(WebhookOut):
    secret = serializers.CharField(help_text="The signing secret. Shown once: store it now.")

    class Meta(WebhookOut.Meta):
        fields = [*WebhookOut.Meta.fields, "secret"]


class AttemptOut(serializers.ModelSerializer[DeliveryAttempt]):
    delivery = serializers.CharField(source="delivery.public_id")
    event = serializers.CharField(source="delivery.event.public_id")
    event_type = serializers.CharField(source="delivery.event.type")
    state = serializers.CharField(source="delivery.state")
    created = serializers.DateTimeField(source="at")

    class Meta:
        model = DeliveryAttempt
        fields = [
            "delivery",
            "event",
            "event_type",
            "state",
            "number",
            "created",
            "status_code",
            "error",
            "response_excerpt",
            "duration_ms",
            "manual",
        ]
