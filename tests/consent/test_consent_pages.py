"""The performer pages, with Django's test client: onboarding, wizard, review, sign, revoke, export, erase."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from consent.models import Consent, Subject, SubjectProfile
from registry.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def browser(make_user) -> tuple[Client, User]:
    person = make_user()
    client = Client()
    client.force_login(person)
    return client, person


def _wizard(client: Client, subject: Subject, **override):
    today = timezone.now().date()
    data = {
        "effect": "permit",
        "grantee": "*",
        "media": ["face"],
        "activities": ["generate"],
        "purposes": ["film_tv"],
        "intended_use": "A feature film shot in Jakarta",
        "territories": ["ID"],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=100)).isoformat(),
        "revocation_policy": "anytime",
        "representation": "none",
    }
    data.update(override)
    return client.post(f"/subjects/{subject.public_id}/consents/new/", data)


def test_pages_need_a_signed_in_person(client):
    assert client.get("/me/").status_code == 302


def test_the_performer_journey_from_onboarding_to_revocation(browser):
    client, _ = browser
    response = client.post("/me/start/", {"status": "living", "display_name": "Sari Pemeran"})
    subject = Subject.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/subjects/{subject.public_id}/consents/new/"
    assert client.get(response["Location"]).status_code == 200

    created = _wizard(client, subject)
    consent = Consent.objects.get()
    assert created["Location"] == f"/me/consents/{consent.public_id}/"
    review = client.get(created["Location"])
    page = review.content.decode()
    assert "Anyone may generate new material of your face for film and TV, in Indonesia" in page
    digest = re.search(r'name="notice_digest" value="([^"]+)"', page).group(1)

    # Not re-authenticated yet: the sign button leads through allauth's reauthentication.
    sign = client.post(f"/me/consents/{consent.public_id}/sign/", {"method": "witnessed", "notice_digest": digest})
    assert sign["Location"].startswith("/accounts/reauthenticate/?next=")
    back = client.post(sign["Location"], {"password": PASSWORD})
    assert back["Location"] == f"/me/consents/{consent.public_id}/"
    sign = client.post(f"/me/consents/{consent.public_id}/sign/", {"method": "witnessed", "notice_digest": digest})
    assert sign["Location"] == "/me/"
    consent.refresh_from_db()
    assert consent.status == "active"
    assert consent.notice_digest == digest

    listing = client.get("/me/").content.decode()
    assert "In force" in listing
    assert "Sari Pemeran" in listing

    assert client.get(f"/me/consents/{consent.public_id}/revoke/").status_code == 200
    revoked = client.post(f"/me/consents/{consent.public_id}/revoke/", {"reason": "I changed my mind"})
    assert revoked["Location"] == "/me/"
    assert Consent.objects.get().status == "revoked"
    history = client.get(f"/me/consents/{consent.public_id}/history/").content.decode()
    assert "Signed" in history
    assert "Revoked" in history


def test_the_wizard_shows_errors_instead_of_saving(browser):
    client, _ = browser
    client.post("/me/start/", {"status": "living", "display_name": "Sari"})
    subject = Subject.objects.get()
    response = _wizard(client, subject, valid_until="2000-01-01", purposes=[])
    assert response.status_code == 200
    assert "Choose at least one purpose." in response.content.decode()
    assert Consent.objects.count() == 0


def test_onboarding_for_a_child_needs_their_coming_of_age(browser):
    client, _ = browser
    response = client.post("/me/start/", {"status": "minor", "display_name": "Adik"})
    assert response.status_code == 200
    assert Subject.objects.count() == 0
    adult_on = (timezone.now().date() + timedelta(days=400)).isoformat()
    ok = client.post("/me/start/", {"status": "minor", "display_name": "Adik", "adult_on": adult_on})
    assert ok.status_code == 302
    assert Subject.objects.get().status == "minor"


def test_pages_of_someone_elses_consent_are_404(browser, make_subject, terms, client_for):
    client, _ = browser
    subject, owner = make_subject()
    draft = client_for(owner).post("/api/v1/consents", terms(subject), format="json").json()
    for path in (
        f"/me/consents/{draft['id']}/",
        f"/me/consents/{draft['id']}/history/",
        f"/subjects/{subject.public_id}/access-log/",
        f"/subjects/{subject.public_id}/consents/new/",
    ):
        assert client.get(path).status_code == 404, path


def test_indonesian_pages_use_the_glossary_words(browser):
    client, _ = browser
    client.post("/i18n/setlang/", {"language": "id"})
    page = client.get("/me/").content.decode()
    assert "Persetujuan saya" in page


def test_export_gives_my_data_as_json_with_27560_records(browser, fresh_client):
    client, person = browser
    client.post("/me/start/", {"status": "living", "display_name": "Sari"})
    subject = Subject.objects.get()
    _wizard(client, subject)
    data = json.loads(client.get("/me/export/").content)
    assert data["account"]["email"] == person.email
    assert data["subjects"][0]["profile"]["display_name"] == "Sari"
    assert data["consent_records"][0]["record_id"] == Consent.objects.get().public_id
    assert data["consent_records"][0]["consent_state"] == "pending"


def test_the_erase_button_deletes_my_personal_data(browser):
    client, person = browser
    client.post("/me/start/", {"status": "living", "display_name": "Sari"})
    assert client.post("/me/erase/", {}).status_code == 302
    assert SubjectProfile.objects.count() == 1  # not confirmed: nothing happens
    response = client.post("/me/erase/", {"confirm": "erase"})
    assert response["Location"] == "/"
    assert SubjectProfile.objects.count() == 0
    person.refresh_from_db()
    assert not person.is_active
    assert "@erased.invalid" in person.email
