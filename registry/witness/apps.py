from django.apps import AppConfig


class WitnessConfig(AppConfig):
    """Witnessing: cosignatures on the registry's checkpoints, and the registry as a witness."""

    name = "registry.witness"
    label = "witness"
    verbose_name = "Witnessed log"
