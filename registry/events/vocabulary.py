"""The event types organizations can subscribe to."""

EVENT_TYPES = (
    "consent.signed",
    "consent.revoked",
    "consent.expired",
    "release.status_changed",
    "attestation.stored",
    "attestation.revoked",
    "guideline.published",
    "guideline.retired",
    "subject.disputed",
    "webhook.test",
)
