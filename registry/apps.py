"""The project package as an app: management commands, checks and templates of the core."""

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class RegistryConfig(AppConfig):
    """Core of the registry; creates the data folder the embedded default needs."""

    name = "registry"
    verbose_name = "Restu registry"

    def ready(self) -> None:
        data_dir: Path = settings.DATA_DIR
        if settings.BROKER_IS_EMBEDDED:
            for folder in ("queue", "processed", "control"):
                (data_dir / "broker" / folder).mkdir(parents=True, exist_ok=True)
