"""Fixtures for guidelines: a project with a maintainer, a published guideline, a signing key, statements."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from guidelines import services
from guidelines.models import Guideline, GuidelineVersion, ProjectKey
from registry.accounts.models import Organization, User
from registry.lib.signing import dsse_sign, generate_private_key, public_jwk
from tests.guidelines.presence import present

PAYLOAD_TYPE = "application/vnd.in-toto+json"
DIGEST = "sha256:" + "ab" * 32
PASSWORD = "correct horse battery"  # make_user's default

CONTENT: dict[str, Any] = {
    "version": "1.0.0",
    "language": "en",
    "body": "# Using this tool\n\nOnly with the consent of every person shown.\n",
    "clauses": [
        {
            "key": "consent-of-everyone",
            "kind": "must",
            "text": "Get the consent of every person whose face you use.",
            "evidence": ["consent_token_check"],
        },
        {
            "key": "label-output",
            "kind": "must",
            "text": "Label synthetic output as synthetic.",
            "evidence": ["visible_watermark", "c2pa_manifest"],
        },
        {"key": "no-minors", "kind": "must_not", "text": "Never use it on children."},
    ],
    "translations": {
        "id": {
            "body": "# Memakai alat ini\n\nHanya dengan persetujuan setiap orang yang tampil.\n",
            "clauses": {
                "consent-of-everyone": "Dapatkan persetujuan setiap orang yang wajahnya Anda pakai.",
                "label-output": "Tandai keluaran sintetis sebagai sintetis.",
                "no-minors": "Jangan pernah memakainya pada anak di bawah umur.",
            },
        }
    },
}


def content(**changes: Any) -> dict[str, Any]:
    """A deep copy of the sample version content with some fields changed."""
    return {**copy.deepcopy(CONTENT), **changes}


@pytest.fixture(name="content")
def content_fixture() -> Callable[..., dict[str, Any]]:
    return content


@pytest.fixture
def maintainer(make_user: Callable[..., User]) -> User:
    return make_user("maintainer@example.org")


@pytest.fixture
def project(maintainer: User, make_org: Callable[..., Organization]) -> Organization:
    return make_org(maintainer, kind="project", slug="open-swap")


@pytest.fixture
def maintainer_api(maintainer: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(maintainer)


@pytest.fixture
def guideline(project: Organization) -> Guideline:
    return services.guideline_create(
        organization=project, actor_role="owner", slug="fair-swap", title="Fair swap", summary="How to use it."
    )


@pytest.fixture
def draft(guideline: Guideline, maintainer: User) -> GuidelineVersion:
    return services.guideline_version_create(guideline=guideline, actor_role="owner", actor=maintainer, **content())


@pytest.fixture
def published(draft: GuidelineVersion) -> GuidelineVersion:
    return services.guideline_version_publish(version=draft, actor_role="owner")


@pytest.fixture
def private_key() -> Ed25519PrivateKey:
    return generate_private_key()


@pytest.fixture
def project_key(project: Organization, maintainer: User, private_key: Ed25519PrivateKey) -> ProjectKey:
    jwk = public_jwk(private_key)
    del jwk["kid"]
    return services.project_key_add(
        organization=project, actor_role="owner", actor=maintainer, public_jwk=jwk, presence=present()
    )


@pytest.fixture
def fresh_maintainer_api(maintainer: User) -> APIClient:
    """The maintainer's session right after confirming the password on allauth's page."""
    client = APIClient()
    client.force_login(maintainer)
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD}, format="multipart")
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.fixture(name="statement")
def statement_fixture() -> Callable[..., dict[str, Any]]:
    return statement


@pytest.fixture(name="sign")
def sign_fixture() -> Callable[..., dict[str, Any]]:
    return sign


def statement(**predicate: Any) -> dict[str, Any]:
    body = {
        "guideline": "fair-swap@1.0.0",
        "clauses": {"consent-of-everyone": "met", "label-output": "met", "no-minors": "met"},
        "safeguards": ["visible_watermark"],
        "release": {"version": "2.3.0", "url": "https://example.org/releases/2.3.0"},
    }
    body.update(predicate)
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "open-swap-2.3.0.tar.gz", "digest": {"sha256": DIGEST.removeprefix("sha256:")}}],
        "predicateType": "https://restu.example/attestation/guideline-conformance/v1",
        "predicate": body,
    }


def sign(doc: dict[str, Any], key: Ed25519PrivateKey, kid: str, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    return dsse_sign(payload_type, json.dumps(doc).encode(), key, kid)
