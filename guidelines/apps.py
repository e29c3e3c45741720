from django.apps import AppConfig


class GuidelinesConfig(AppConfig):
    """Maintainers' usage guidelines and projects' attestations."""

    name = "guidelines"
    verbose_name = "Guidelines and attestations"

    def ready(self) -> None:
        from registry.events.vocabulary import event_type_register
        from registry.transparency.services import leaf_type_register

        # What this app appends to the log and sends as events (about public records: every
        # subscriber receives them).
        leaf_type_register(
            "guideline.published",
            "guideline.retired",
            "attestation.stored",
            "attestation.revoked",
            "project_key.added",
            "project_key.retired",
        )
        for event_type in ("attestation.stored", "attestation.revoked", "guideline.published", "guideline.retired"):
            event_type_register(event_type, public=True)
