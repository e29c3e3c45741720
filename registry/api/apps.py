from django.apps import AppConfig


class ApiConfig(AppConfig):
    """API conventions; owns the idempotency records and the shared cache table."""

    name = "registry.api"
    label = "api"
    verbose_name = "API conventions"

    def ready(self) -> None:
        from registry.api import schema  # noqa: F401 — registers the OpenAPI auth extensions
