from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Outbox events (and, later, webhooks that deliver them)."""

    name = "registry.events"
    label = "events"
    verbose_name = "Events and webhooks"
