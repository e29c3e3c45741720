"""How API callers prove who they are: Bearer API keys, allauth session tokens, or the browser session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from registry.accounts.models import ApiKey, Membership
from registry.accounts.services import API_KEY_SCHEME, api_key_digest, api_key_touch

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _CreatorRole(TypedDict):
    creator_role: str | None


def _key_with_creator_role(secret: str) -> WithAnnotations[ApiKey, _CreatorRole] | None:
    """The active key with this secret, its organization, creator and the creator's role there
    (``creator_role``, None once they left): one query on every API call instead of two."""
    role = Membership.objects.filter(organization=OuterRef("organization_id"), user=OuterRef("created_by_id"))
    return (
        ApiKey.objects.select_related("organization", "created_by")
        .annotate(creator_role=Subquery(role.values("role")[:1]))
        .filter(digest=api_key_digest(secret), revoked_at__isnull=True)
        .first()
    )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer restu_…``: acts for the key's organization as its creator."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        secret = secret.strip()
        if not secret.startswith(f"{API_KEY_SCHEME}_"):
            raise exceptions.AuthenticationFailed("This is not a Restu API key.")
        key = _key_with_creator_role(secret)
        # The lookup is by digest; compare again in constant time so no timing tells anything.
        if key is None or not constant_time_compare(key.digest, api_key_digest(secret)):
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        user = key.created_by
        if not user.is_active or key.creator_role is None:
            raise exceptions.AuthenticationFailed("The API key's creator no longer belongs to its organization.")
        api_key_touch(api_key=key, resolution_seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
