"""Fixtures for the consent tests: subjects in each status, signing keys, fresh re-authentication."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.utils import timezone
from rest_framework.test import APIClient

from consent import services
from consent.models import Subject
from registry.accounts.models import Organization, User
from tests.consent.terms import consent_terms

PASSWORD = "correct horse battery"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """An Ed25519 key held by the person, used through `cryptography` only (independent of the server)."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
        # RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
        members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": self.jwk["x"]}, separators=(",", ":"))
        self.kid = b64url(hashlib.sha256(members.encode()).digest())

    def sign(self, payload: bytes, kid: str | None = None) -> str:
        header = b64url(json.dumps({"alg": "Ed25519", "kid": kid or self.kid}).encode())
        body = b64url(payload)
        signature = self.private.sign(f"{header}.{body}".encode())
        return f"{header}.{body}.{b64url(signature)}"


@pytest.fixture
def make_org(make_org: Callable[..., Organization]) -> Callable[..., Organization]:
    """As the suite's ``make_org``; a guild or agency is verified by staff unless ``verified=False``
    (only a verified one may vouch), and ``verified=True`` verifies any kind."""

    def make(owner: User, kind: str = "studio", slug: str | None = None, verified: bool | None = None) -> Organization:
        organization = make_org(owner, kind=kind, slug=slug)
        if verified is None:
            verified = kind in ("guild", "agency")
        if verified:
            Organization.objects.filter(pk=organization.pk).update(verified_at=timezone.now())
            organization.refresh_from_db()
        return organization

    return make


@pytest.fixture
def signer() -> Callable[[], Signer]:
    return Signer


def today() -> date:
    return timezone.now().date()


@pytest.fixture
def make_subject(make_user: Callable[..., User]) -> Callable[..., tuple[Subject, User]]:
    def make(status: str = "living", user: User | None = None, name: str = "Sari Pemeran") -> tuple[Subject, User]:
        person = user or make_user()
        extra: dict[str, Any] = {}
        if status == "minor":
            extra["adult_on"] = today() + timedelta(days=3 * 365)
        if status == "deceased":
            extra["deceased_on"] = today() - timedelta(days=30)
        subject = services.subject_create(creator=person, display_name=name, status=status, **extra)
        return subject, person

    return make


@pytest.fixture
def terms() -> Callable[..., dict[str, Any]]:
    """``terms(subject, **overrides)``: the API body of a consent open to every grantee."""
    return consent_terms


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


def accept_invitation(person: User, invitation_id: str) -> Any:
    """``person`` accepts an invitation sent to their (now verified) address, through the API."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=person, email=person.email, defaults={"verified": True, "primary": True})
    client = APIClient()
    client.force_authenticate(person)
    return client.post(f"/api/v1/invitations/{invitation_id}/accept", {}, format="json")


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process (emails land in django.core.mail.outbox)."""
    from registry.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def witness() -> Any:
    """A fresh password re-authentication, as the witnessed signing path needs."""
    from registry.accounts.presence import Presence

    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def as_service_terms(body: dict[str, Any]) -> dict[str, Any]:
    """The API's JSON terms as the service takes them (dates as dates)."""
    return {**body, **{k: date.fromisoformat(body[k]) for k in ("valid_from", "valid_until") if body.get(k)}}


@pytest.fixture
def signed(make_subject: Callable[..., Any], terms: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """A subject with one signed (active) consent: (subject, person, consent)."""

    def make(status: str = "living", **overrides: Any) -> tuple[Any, Any, Any]:
        subject, person = make_subject(status)
        body = as_service_terms(terms(subject, **overrides))
        draft = services.consent_create(subject=subject, actor=person, terms=body)
        consent = services.consent_sign(consent=draft, actor=person, method="witnessed", witness=witness())
        return subject, person, consent

    return make


@pytest.fixture
def studio(org: Any, key_client: Callable[..., Any]) -> tuple[Any, APIClient]:
    """The ``org`` studio and an API client acting for it with a Bearer key."""
    client, _ = key_client()
    return org, client
