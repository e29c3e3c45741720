"""Errors that services raise; the API turns each into a problem document (registry.api.problems)."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; ``status`` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

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
