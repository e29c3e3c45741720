"""Fixtures for accounts: people who just proved they are at the keyboard, and verified emails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone
from rest_framework.test import APIClient

from registry.accounts.models import User
from registry.accounts.presence import Presence

PASSWORD = "correct horse battery"  # tests/conftest.py's make_user default


def presence_now() -> Presence:
    """A password re-authentication a moment ago, as a service's ``presence`` argument."""
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


@pytest.fixture
def fresh_client() -> Callable[[User], APIClient]:
    """A client signed in through the session that has just re-authenticated with allauth."""

    def make(person: User) -> APIClient:
        client = APIClient()
        client.force_login(person)
        response = client.post("/accounts/reauthenticate/", {"password": PASSWORD}, format="multipart")
        assert response.status_code == 302, response.content[:500]
        return client

    return make


@pytest.fixture
def fresh_api(user: User, fresh_client: Callable[[User], APIClient]) -> APIClient:
    """The owner of ``org``, re-authenticated a moment ago."""
    return fresh_client(user)


@pytest.fixture
def verified() -> Callable[[User], User]:
    """Mark the person's account email as verified (as allauth does after the emailed link)."""

    def make(person: User) -> User:
        EmailAddress.objects.update_or_create(
            user=person, email=person.email, defaults={"verified": True, "primary": True}
        )
        return person

    return make


@pytest.fixture
def key_client(org, user) -> Callable[..., tuple[APIClient, str]]:
    """A client with an API key its creator made right after proving presence (the only way)."""
    from registry.accounts import services

    def make(organization=org, creator=user) -> tuple[APIClient, str]:
        issued = services.api_key_create(
            organization=organization, creator=creator, actor_role="owner", name="ci", presence=presence_now()
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
        return client, issued.secret

    return make
