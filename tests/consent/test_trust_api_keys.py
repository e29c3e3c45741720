"""API keys do machine work only (docs/api.md v1.1): never a subject's private profile, an access log or
who acknowledged a revocation as their creator's person, and never subject keys or representatives."""

from __future__ import annotations

import pytest

from consent import services
from consent.models import SubjectKey
from tests.consent.conftest import as_service_terms, witness

pytestmark = pytest.mark.django_db


def test_an_organizations_key_does_not_read_its_creators_private_subject(make_subject, user, key_client, terms):
    subject, _ = make_subject(user=user)
    services.subject_profile_update(subject=subject, actor=user, notes="Agent: call Budi first", presence=witness())
    draft = services.consent_create(subject=subject, actor=user, terms=as_service_terms(terms(subject)))
    consent = services.consent_sign(consent=draft, actor=user, method="witnessed", witness=witness())
    api, _ = key_client()
    base = f"/api/v1/subjects/{subject.public_id}"

    for path in (base, f"{base}/keys", f"{base}/access-log", f"/api/v1/consents/{consent.public_id}/acknowledgements"):
        response = api.get(path)
        assert response.status_code == 403, (path, response.status_code, response.content[:300])
        assert b"Budi" not in response.content


def test_an_organizations_key_never_manages_its_creators_subject_keys(make_subject, user, key_client, signer):
    subject, _ = make_subject(user=user)
    api, _ = key_client()
    response = api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": signer().jwk}, format="json")
    assert response.status_code == 403
    assert not SubjectKey.objects.exists()
