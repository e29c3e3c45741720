"""A person signed in through allauth's app API, as a real client is: a session token whose login
counts as a fresh proof of presence (needed to create API keys)."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from registry.accounts.models import Organization, User


def signed_in(person: User, password: str = "correct horse battery") -> APIClient:
    login = Client().post(
        "/_allauth/app/v1/auth/login", {"email": person.email, "password": password}, content_type="application/json"
    )
    assert login.status_code == 200, login.content[:300]
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=login.json()["meta"]["session_token"])
    return client


def issued_key(person: User, organization: Organization, password: str = "correct horse battery") -> str:
    """A new API key of ``organization``, created over the API by ``person`` (an admin or owner)."""
    response = signed_in(person, password).post(
        "/api/v1/api-keys", {"organization": organization.public_id, "name": "tests"}, format="json"
    )
    assert response.status_code == 201, response.content[:300]
    return response.json()["key"]


def key_client(person: User, organization: Organization) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued_key(person, organization)}")
    return client
