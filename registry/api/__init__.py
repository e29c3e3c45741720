"""API conventions shared by every endpoint: problems, pagination, idempotency, auth, throttles."""
