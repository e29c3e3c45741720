from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    """The transparency log: leaves, stored subtree hashes, checkpoints."""

    name = "registry.transparency"
    label = "transparency"
    verbose_name = "Transparency log"
