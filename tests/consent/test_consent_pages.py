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
    # Erasing needs a fresh proof of presence: the password again first, then nothing is left.
    asked = client.post("/me/erase/", {"confirm": "erase"})
    assert asked["Location"].startswith("/accounts/reauthenticate/?next=")
    assert SubjectProfile.objects.count() == 1
    back = client.post(asked["Location"], {"password": PASSWORD})
    assert back["Location"] == "/me/erase/"
    response = client.post("/me/erase/", {"confirm": "erase"})
    assert response["Location"] == "/"
    assert SubjectProfile.objects.count() == 0
    person.refresh_from_db()
    assert not person.is_active
    assert "@erased.invalid" in person.email


# --- Summaries: whose likeness, refusals, revoked cards ------------------------------------------


def _witness():
    from registry.accounts.presence import Presence

    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def _draft(make_subject, status="living", **changes):
    from consent import services
    from tests.consent.terms import consent_terms

    subject, person = make_subject(status)
    body = consent_terms(subject, **changes)
    for key in ("valid_from", "valid_until"):
        if body.get(key):
            body[key] = timezone.datetime.fromisoformat(body[key]).date()
    return services.consent_create(subject=subject, actor=person, terms=body), person


@pytest.mark.parametrize(
    ("status", "english", "indonesian"),
    [
        ("living", "of your face", "wajah Anda"),
        ("minor", "of your child's face", "wajah anak Anda"),
        ("deceased", "of your late relative's face", "wajah almarhum/almarhumah"),
    ],
)
def test_a_summary_speaks_of_the_child_or_the_late_relative_in_the_third_person(
    make_subject, status, english, indonesian
):
    from consent.rules.statements import consent_summary

    consent, _person = _draft(make_subject, status)
    in_english = consent_summary(consent, "en")
    in_indonesian = consent_summary(consent, "id")
    assert english in in_english
    assert indonesian in in_indonesian
    if status != "living":
        assert "your face" not in in_english
        assert "wajah Anda" not in in_indonesian
        assert "You must be credited" not in in_english


def test_an_agent_reads_of_the_person_they_represent(make_subject, make_user):
    from consent import services
    from consent.rules.statements import consent_summary
    from tests.consent.terms import consent_terms

    subject, person = make_subject("living")
    agent = make_user()
    services.representative_add(subject=subject, actor=person, user=agent, role="agent", presence=_witness())
    body = consent_terms(subject)
    body["valid_from"] = timezone.now().date()
    body["valid_until"] = None
    consent = services.consent_create(subject=subject, actor=agent, terms=body)
    assert "the face of the person you represent" in consent_summary(consent, "en")
    assert "The person you represent must be credited." in consent_summary(consent, "en")
    assert "wajah orang yang Anda wakili" in consent_summary(consent, "id")


def test_a_refusal_for_everyone_reads_no_one_may(make_subject):
    from consent.rules.statements import consent_summary

    consent, _person = _draft(make_subject, "deceased", effect="deny", media=["voice"], conditions={})
    in_english = consent_summary(consent, "en")
    in_indonesian = consent_summary(consent, "id")
    assert in_english.startswith("No one may generate new material of your late relative's voice for film and TV")
    assert "Anyone may not" not in in_english
    assert in_indonesian.startswith("Tidak seorang pun boleh menghasilkan konten baru")
    assert "Siapa pun tidak boleh" not in in_indonesian
    assert "You can revoke" not in in_english


def test_a_revoked_consent_no_longer_offers_to_be_revoked(browser, make_subject):
    from consent import services

    client, _person = browser
    consent, _ = _draft(make_subject, "living")
    # make_subject made its own person; sign and revoke as them, then read their cards.
    owner = consent.created_by.user
    services.consent_sign(consent=consent, actor=owner, method="witnessed", witness=_witness())
    client.force_login(owner)
    assert "You can revoke this consent at any time" in client.get("/me/").content.decode()
    services.consent_revoke(consent=consent, actor=owner, reason="", witness=_witness())

    listing = client.get("/me/").content.decode()
    assert "You can revoke this consent at any time" not in listing
    assert "This consent was revoked on" in listing
    client.cookies["django_language"] = "id"
    assert "Persetujuan ini dicabut pada" in client.get("/me/").content.decode()


def test_who_checked_me_shows_plain_labels_and_the_time_zone(browser, make_subject, make_org):
    from consent import services
    from consent.rules.decision import UseQuery
    from consent.verification import Check, verification_run

    client, person = browser
    consent, _ = _draft(make_subject, "living")
    owner = consent.created_by.user
    services.consent_sign(consent=consent, actor=owner, method="witnessed", witness=_witness())
    studio = make_org(owner=person)
    use = UseQuery(medium="voice", activity="generate", purpose="film_tv", territory="ID", on=timezone.now().date())
    verification_run(organization=studio, check=Check(subject=consent.subject.public_id, use=use), user=person)
    client.force_login(owner)

    page = client.get(f"/subjects/{consent.subject.public_id}/access-log/").content.decode()
    assert "Voice · Generate · Film and TV · Indonesia" in page
    assert "voice film_tv" not in page
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" data-local-time>[^<]+ UTC</time>', page)
    assert studio.name in page
    assert "by a member, on the Restu website" in page  # the member gave no name
    # A member who gave a name is named: the person sees who looked, not only which studio.
    type(person).objects.filter(pk=person.pk).update(display_name="Rina Wijaya")
    page = client.get(f"/subjects/{consent.subject.public_id}/access-log/").content.decode()
    assert "by Rina Wijaya, a member, on the Restu website" in page
    assert person.email not in page
    client.cookies["django_language"] = "id"
    page = client.get(f"/subjects/{consent.subject.public_id}/access-log/").content.decode()
    assert "Suara · Menghasilkan konten baru · Film dan TV · Indonesia" in page, page[page.find("<tbody>") :][:800]
    assert "oleh Rina Wijaya, anggotanya, di situs web Restu" in page


def test_a_summary_names_the_media_once_and_lists_in_good_indonesian(make_subject):
    from consent.rules.statements import consent_summary

    consent, _person = _draft(
        make_subject,
        "minor",
        media=["face", "voice"],
        activities=["alter", "generate"],
        purposes=["advertising", "film_tv"],
        territories=["ID", "TL", "CN"],
    )
    in_english = consent_summary(consent, "en")
    in_indonesian = consent_summary(consent, "id")
    assert "alter existing recordings of your child's face and voice as well as generate new material" in in_english
    assert "for advertising as well as film and TV" in in_english
    assert "dari wajah dan suara anak Anda serta menghasilkan konten baru" in in_indonesian
    assert "untuk iklan serta film dan TV" in in_indonesian
    assert "di Tiongkok, Indonesia, dan Timor Leste" in in_indonesian


def test_the_wizard_lists_indonesia_first(browser):
    client, _ = browser
    client.post("/me/start/", {"status": "living", "display_name": "Sari"})
    subject = Subject.objects.get()
    client.cookies["django_language"] = "id"
    page = client.get(f"/subjects/{subject.public_id}/consents/new/").content.decode()
    # The countries are a list of checkboxes now (searchable with the page's script).
    select = page[page.index('id="country-list"') :]
    assert select.index('value="ID"') < select.index('value="AF"')
    assert "Sering dipilih" in select
    assert ">Timor Leste<" in select
    assert ">Tiongkok<" in select
