"""Proof of presence (docs/api.md v1.1): every sensitive action on a subject needs a fresh login or
re-authentication, through the service, so the API, the pages and commands obey the same rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from consent import services
from consent.models import Consent, Representative, SubjectKey, SubjectProfile
from registry.errors import ReauthenticationRequired
from registry.transparency.models import LogEntry
from tests.consent.conftest import PASSWORD, as_service_terms, witness

pytestmark = pytest.mark.django_db
REAUTH = "/problems/reauthentication-required"


def bare(person) -> APIClient:
    """Signed in with a session that holds no authentication record: no proof of presence."""
    client = APIClient()
    client.force_login(person)
    return client


def _is_reauth(response) -> bool:
    return response.status_code == 403 and response.json()["type"].endswith(REAUTH)


def test_a_bare_session_cannot_add_a_subject_key_and_then_sign_and_revoke_with_it(make_subject, signer, terms):
    subject, person = make_subject()
    key = signer()
    api = bare(person)

    added = api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")

    assert _is_reauth(added), added.content
    assert not SubjectKey.objects.filter(subject=subject).exists()
    assert not LogEntry.objects.filter(type="subject_key.added").exists()


def test_the_services_refuse_every_sensitive_action_without_presence(make_subject, make_user, signer):
    subject, person = make_subject()
    stale = witness()
    stale = type(stale)(authenticated_at=timezone.now() - timedelta(minutes=6), second_factor=False, method="password")
    other = make_user()
    for presence in (None, stale):
        with pytest.raises(ReauthenticationRequired):
            services.subject_key_add(subject=subject, actor=person, public_jwk=signer().jwk, presence=presence)
        with pytest.raises(ReauthenticationRequired):
            services.representative_add(subject=subject, actor=person, user=other, role="agent", presence=presence)
        with pytest.raises(ReauthenticationRequired):
            services.subject_profile_update(subject=subject, actor=person, is_public=True, presence=presence)
        with pytest.raises(ReauthenticationRequired):
            services.person_erase(user=person, presence=presence)
    key = services.subject_key_add(subject=subject, actor=person, public_jwk=signer().jwk, presence=witness())
    agent = services.representative_add(subject=subject, actor=person, user=other, role="agent", presence=witness())
    with pytest.raises(ReauthenticationRequired):
        services.subject_key_retire(key=key, actor=person, presence=None)
    with pytest.raises(ReauthenticationRequired):
        services.representative_end(representative=agent, actor=person, presence=None)
    assert SubjectKey.objects.get(pk=key.pk).retired_at is None
    assert Representative.objects.get(pk=agent.pk).ended_at is None
    assert SubjectProfile.objects.get(subject=subject).is_public is False
    assert person.is_active


def test_editing_the_name_needs_no_presence_but_making_the_profile_public_does(make_subject):
    subject, person = make_subject()
    services.subject_profile_update(subject=subject, actor=person, display_name="Sari P.", presence=None)
    assert SubjectProfile.objects.get(subject=subject).display_name == "Sari P."


def test_revoking_without_presence_is_the_reauthentication_problem(make_subject, terms):
    subject, person = make_subject()
    draft = services.consent_create(subject=subject, actor=person, terms=as_service_terms(terms(subject)))
    with pytest.raises(ReauthenticationRequired):
        services.consent_sign(consent=draft, actor=person, method="witnessed", witness=None)
    consent = services.consent_sign(consent=draft, actor=person, method="witnessed", witness=witness())
    with pytest.raises(ReauthenticationRequired):
        services.consent_revoke(consent=consent, actor=person, witness=None)
    assert Consent.objects.get(pk=consent.pk).status == "active"


def test_the_api_answers_the_reauthentication_problem_for_each_sensitive_action(make_subject, make_user, signer):
    subject, person = make_subject()
    other = make_user()
    api = bare(person)
    base = f"/api/v1/subjects/{subject.public_id}"
    assert _is_reauth(api.post(f"{base}/representatives", {"email": other.email, "role": "agent"}, format="json"))
    assert _is_reauth(api.patch(base, {"is_public": True}, format="json"))
    assert not Representative.objects.filter(user=other).exists()
    assert SubjectProfile.objects.get(subject=subject).is_public is False


def test_a_fresh_reauthentication_allows_the_sensitive_actions(make_subject, make_user, signer, fresh_client):
    subject, person = make_subject()
    api = fresh_client(person)
    key = signer()
    added = api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")
    assert added.status_code == 201, added.content
    retired = api.delete(f"/api/v1/subjects/{subject.public_id}/keys/{key.kid}")
    assert retired.status_code == 200, retired.content


def test_the_revoke_page_sends_the_person_through_reauthentication_and_keeps_the_reason(make_subject, terms):
    subject, person = make_subject()
    draft = services.consent_create(subject=subject, actor=person, terms=as_service_terms(terms(subject)))
    consent = services.consent_sign(consent=draft, actor=person, method="witnessed", witness=witness())
    browser = Client()
    browser.force_login(person)
    page = f"/me/consents/{consent.public_id}/revoke/"

    response = browser.post(page, {"reason": "I changed my mind about the film"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/?next=")
    assert Consent.objects.get(pk=consent.pk).status == "active"
    back = browser.post(response["Location"], {"password": PASSWORD})
    assert back["Location"] == page
    assert "I changed my mind about the film" in browser.get(page).content.decode()


def test_the_erase_page_asks_for_reauthentication_first(make_subject):
    subject, person = make_subject()
    browser = Client()
    browser.force_login(person)

    response = browser.post("/me/erase/", {"confirm": "erase"})

    assert response["Location"].startswith("/accounts/reauthenticate/?next=")
    person.refresh_from_db()
    assert person.is_active
    assert SubjectProfile.objects.filter(subject=subject).exists()
    back = browser.post(response["Location"], {"password": PASSWORD})
    assert back["Location"] == "/me/erase/"
    assert browser.post("/me/erase/", {"confirm": "erase"})["Location"] == "/"
    person.refresh_from_db()
    assert not person.is_active


def _review_digest(browser, consent) -> str:
    import re

    page = browser.get(f"/me/consents/{consent.public_id}/").content.decode()
    return re.search(r'name="notice_digest" value="([^"]+)"', page).group(1)


def test_after_reauthentication_the_signature_is_finished_without_a_second_press(make_subject, terms):
    subject, person = make_subject()
    draft = services.consent_create(subject=subject, actor=person, terms=as_service_terms(terms(subject)))
    browser = Client()
    browser.force_login(person)
    digest = _review_digest(browser, draft)

    asked = browser.post(f"/me/consents/{draft.public_id}/sign/", {"method": "witnessed", "notice_digest": digest})
    assert asked["Location"].startswith("/accounts/reauthenticate/?next=")
    assert Consent.objects.get(pk=draft.pk).status == "draft"
    back = browser.post(asked["Location"], {"password": PASSWORD})
    assert back["Location"] == f"/me/consents/{draft.public_id}/"

    done = browser.get(back["Location"])

    assert done.status_code == 302
    assert done["Location"] == "/me/"
    signed = Consent.objects.get(pk=draft.pk)
    assert signed.status == "active"
    assert signed.notice_digest == digest


def test_a_draft_changed_while_reauthenticating_is_not_signed(make_subject, terms):
    subject, person = make_subject()
    draft = services.consent_create(subject=subject, actor=person, terms=as_service_terms(terms(subject)))
    browser = Client()
    browser.force_login(person)
    digest = _review_digest(browser, draft)
    asked = browser.post(f"/me/consents/{draft.public_id}/sign/", {"method": "witnessed", "notice_digest": digest})
    services.consent_update(consent=draft, actor=person, changes={"territories": ["ID", "MY"]})
    browser.post(asked["Location"], {"password": PASSWORD})

    page = browser.get(f"/me/consents/{draft.public_id}/")

    assert page.status_code == 200  # shown again, with the new summary, to be read and signed anew
    assert Consent.objects.get(pk=draft.pk).status == "draft"


def test_a_key_holder_proves_presence_with_a_signature_by_an_active_key(make_subject, signer):
    from registry.lib.canonical import canonical_json

    subject, person = make_subject()
    first, second, stranger = signer(), signer(), signer()
    services.subject_key_add(subject=subject, actor=person, public_jwk=first.jwk, presence=witness())
    api = bare(person)
    statement = services.subject_key_add_statement(subject, second.kid)
    url = f"/api/v1/subjects/{subject.public_id}/keys"

    forged = api.post(
        url, {"public_jwk": second.jwk, "signature": stranger.sign(canonical_json(statement))}, format="json"
    )
    assert forged.status_code == 400
    assert not SubjectKey.objects.filter(kid=second.kid).exists()
    other_statement = services.subject_key_add_statement(subject, stranger.kid)
    replayed = api.post(
        url, {"public_jwk": second.jwk, "signature": first.sign(canonical_json(other_statement))}, format="json"
    )
    assert replayed.status_code == 400

    added = api.post(url, {"public_jwk": second.jwk, "signature": first.sign(canonical_json(statement))}, format="json")
    assert added.status_code == 201, added.content
    key = SubjectKey.objects.get(subject=subject, kid=first.kid)
    retire = services.subject_key_retire_statement(key)
    services.subject_key_retire(key=key, actor=person, signature=second.sign(canonical_json(retire)))
    assert SubjectKey.objects.get(pk=key.pk).retired_at is not None
