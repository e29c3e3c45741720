"""Who is calling, and in which role for a given organization."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from registry.accounts.models import ApiKey, Organization, User
from registry.accounts.selectors import role_in
from registry.errors import NotAllowed, ValidationFailed


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


def authenticated_user(request: Request) -> User:
    """The user a request acts as (an API key's creator for a key), on views behind
    ``IsAuthenticated``; 401 should a view without that permission ever ask for one."""
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


def require_person(request: Request, *, action: str) -> User:
    """The people-only rule, in one place: an API key does machine work for its organization and
    never acts as the person who created it (keys, API keys, members, representatives, a subject's
    private profile, consents' private fields, access logs). 403 for a key, 401 for nobody."""
    if api_key_of(request) is not None:
        raise NotAllowed(f"An API key cannot {action}: only a person, signed in, can.")
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    return request.user


def acting_organization(
    request: Request, public_id: str | None, *, field: str = "organization"
) -> tuple[Organization, str]:
    """The one answer to "which organization acts, with which role", with one status per case.

    - An API key acts for its own organization (``public_id`` may be left out); naming another is 403.
    - A person must name one (400 naming ``field`` when missing); an organization they do not belong
      to, or that does not exist, is 403 alike (organizations are public, so 403 leaks nothing).
    """
    key = api_key_of(request)
    if key is not None:
        if public_id and public_id != key.organization.public_id:
            raise NotAllowed("An API key acts for its own organization only.")
        role = caller_role(request, key.organization)
        if role is None:
            raise NotAllowed("This API key's creator no longer belongs to its organization.")
        return key.organization, role
    if not request.user or not request.user.is_authenticated:
        raise NotAuthenticated()
    if not public_id:
        raise ValidationFailed("Name the organization you act for.", errors={field: ["This field is required."]})
    organization = Organization.objects.filter(public_id=public_id).first()
    role = caller_role(request, organization) if organization is not None else None
    if organization is None or role is None:
        raise NotAllowed("Name an organization you belong to.")
    return organization, role
