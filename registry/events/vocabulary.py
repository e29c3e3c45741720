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

# Events about public records go to every subscriber; all others only to their audience.
PUBLIC_EVENT_TYPES = frozenset(
    {"attestation.stored", "attestation.revoked", "guideline.published", "guideline.retired"}
)
