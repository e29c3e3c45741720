"""Errors that services raise; the API turns each into a problem document (registry.api.problems)."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; ``status`` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"
    # The last segment of the problem ``type`` URI, for errors a client must tell apart by type
    # (None: derived from the status).
    problem_type: str | None = None

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class ValidationFailed(DomainError):
    """The input breaks a rule; ``errors`` says which field and why."""

    status = 400
    title = "Validation failed"


class NotAllowed(DomainError):
    """Authenticated, but this caller may not do this."""

    status = 403
    title = "Forbidden"


class ReauthenticationRequired(NotAllowed):
    """A sensitive action without a fresh proof of presence (a login, sign-up or re-authentication
    within the window, or a signature by one of the subject's keys); apps and pages prompt on its type."""

    title = "Re-authentication required"
    problem_type = "reauthentication-required"


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The object's state does not allow this (already signed, last owner, …)."""

    status = 409
    title = "Conflict"


class Unprocessable(DomainError):
    """Well-formed, but cannot be processed as sent (e.g. an Idempotency-Key reused with another body)."""

    status = 422
    title = "Unprocessable content"
