from django.apps import AppConfig


class GuidelinesConfig(AppConfig):
    """Maintainers' usage guidelines and projects' attestations."""

    name = "guidelines"
    verbose_name = "Guidelines and attestations"
