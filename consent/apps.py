from django.apps import AppConfig


class ConsentConfig(AppConfig):
    """People's consent to the use of their likeness, and studios' checks against it."""

    name = "consent"
    verbose_name = "Consent and verification"

    def import_models(self) -> None:
        super().import_models()
        # The record of notices sent lives beside the task that sends them; importing it here
        # registers its model with the others (and the task with the worker).
        from consent import notifications  # noqa: F401

    def ready(self) -> None:
        from consent import notifications, services
        from registry.accounts.services import invitation_kind_register
        from registry.events.services import handler_register
        from registry.events.vocabulary import event_type_register
        from registry.transparency.services import leaf_type_register

        # What this app appends to the log and sends as events (nothing else is accepted).
        leaf_type_register(
            "consent.signed",
            "consent.revoked",
            "consent.expired",
            "vouch.given",
            "vouch.revoked",
            "subject_key.added",
            "subject_key.retired",
        )
        for event_type in ("consent.signed", "consent.revoked", "consent.expired", "release.status_changed"):
            event_type_register(event_type)

        # Sent to the organizations that relied on a subject (a permitted answer in the last year,
        # or a release naming them) when a dispute about the subject is opened or resolved.
        event_type_register("subject.disputed")
        event_type_register("subject.dispute_resolved")

        # People become representatives by accepting an invitation (docs/api.md v1.1: no account oracle).
        invitation_kind_register(
            services.REPRESENTATIVE_INVITATION,
            accept=services.representative_invitation_accept,
            describe=services.representative_invitation_describe,
        )

        # Releases that rely on a consent, a subject or an attestation are re-checked when it changes.
        for event_type in (
            "consent.signed",
            "consent.revoked",
            "consent.expired",
            "dispute.opened",
            "dispute.resolved",
            "attestation.revoked",
            "attestation.stored",
        ):
            handler_register(event_type=event_type, task_name="consent.tasks.recheck_releases")
        # ``vouched`` lasts only while the vouching organization stays verified.
        for event_type in ("organization.verification_withdrawn", "organization.verified"):
            handler_register(event_type=event_type, task_name="consent.tasks.assurance_refresh_for_organization")
        # Representatives are emailed from the outbox, so a broker outage delays a notice, never drops it.
        for event_type in notifications.NOTICES:
            handler_register(event_type=event_type, task_name=notifications.TASK_NAME)
