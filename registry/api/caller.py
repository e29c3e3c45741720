"""Who is calling, and in which role for a given organization."""

from __future__ import annotations

from rest_framework.request import Request

from registry.accounts.models import ApiKey, Organization
from registry.accounts.selectors import role_in


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def caller_role(request: Request, organization: Organization) -> str | None:
    """The caller's role in ``organization``: a key only ever acts for its own organization."""
    key = api_key_of(request)
    if key is not None and key.organization_id != organization.pk:
        return None
    if not request.user or not request.user.is_authenticated:
        return None
    return role_in(user=request.user, organization=organization)


def caller_identity(request: Request) -> str:
    """A stable string naming the caller, for per-caller records such as idempotency keys."""
    key = api_key_of(request)
    if key is not None:
        return f"key:{key.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return "anon"
