"""How API callers prove who they are: Bearer API keys, allauth session tokens, or the browser session."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from registry.accounts.models import ApiKey
from registry.accounts.selectors import api_key_by_secret, role_in
from registry.accounts.services import API_KEY_SCHEME, api_key_digest, api_key_touch


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
        key = api_key_by_secret(secret)
        # The lookup is by digest; compare again in constant time so no timing tells anything.
        if key is None or not constant_time_compare(key.digest, api_key_digest(secret)):
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        user = key.created_by
        if not user.is_active or role_in(user=user, organization=key.organization) is None:
            raise exceptions.AuthenticationFailed("The API key's creator no longer belongs to its organization.")
        api_key_touch(api_key=key, resolution_seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
        return user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
