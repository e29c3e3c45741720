from django.apps import AppConfig


class ApiConfig(AppConfig):
    """API conventions; owns the idempotency records and the shared cache table."""

    name = "registry.api"
    label = "api"
    verbose_name = "API conventions"
