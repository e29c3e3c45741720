"""The stepped consent wizard with Django's test client (no JavaScript): one form, one question
per step, an organization search instead of a list of everyone, an error summary that links to
each field, "all purposes" for a refusal; the person's shareable id with a QR code; discarding a draft."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from consent import vocabulary as v
from consent.models import Consent, Subject
from registry.accounts.models import User
from registry.accounts.services import organization_create
from registry.transparency.models import LogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(make_user) -> tuple[Client, User, Subject]:
    user = make_user()
    client = Client()
    client.force_login(user)
    client.post("/me/start/", {"status": "living", "display_name": "Sari Pemeran"})
    return client, user, Subject.objects.get()


@pytest.fixture
def studios(make_user):
    owner = make_user()
    return (
        organization_create(creator=owner, name="Layar Emas Pictures", slug="layar-emas", kind="studio"),
        organization_create(creator=owner, name="Suara Nusantara Records", slug="suara-nusantara", kind="studio"),
        organization_create(creator=owner, name="Guild of Dubbers", slug="dubbers-guild", kind="guild"),
    )


def _answers(**override):
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
    return {k: val for k, val in data.items() if val is not None}


def _url(subject: Subject) -> str:
    return f"/subjects/{subject.public_id}/consents/new/"


def test_each_question_is_a_step_with_its_own_legend_and_progress(person):
    client, _, subject = person
    page = client.get(_url(subject)).content.decode()
    steps = re.findall(r'<fieldset class="wizard-step"', page)
    assert len(steps) == 8
    assert page.count("<legend") >= 8
    assert "Question 1 of 8" in page
    # The script is a static file, never inline (the Content-Security-Policy forbids those).
    assert "/static/js/wizard." in page
    assert "<script>" not in page


def test_the_wizard_never_lists_every_organization(person, studios):
    client, _, subject = person
    page = client.get(_url(subject)).content.decode()
    assert "Layar Emas Pictures" not in page
    assert "Suara Nusantara Records" not in page


def test_searching_for_an_organization_offers_only_the_matches_and_keeps_the_answers(person, studios):
    client, _, subject = person
    layar, _suara, _guild = studios
    answers = _answers(grantee=None, intended_use="Dubbing a series in Bandung", org_query="layar", find_org="1")
    response = client.post(_url(subject), answers)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'value="{layar.public_id}"' in page
    assert "Layar Emas Pictures" in page
    assert "Suara Nusantara Records" not in page
    assert "Dubbing a series in Bandung" in page  # what was typed is kept
    assert '<ul class="error-summary__list"></ul>' in page  # a search is not a submission: no errors
    assert "field--invalid" not in page
    assert Consent.objects.count() == 0

    # A guild cannot be named as the organization that may use a likeness.
    assert "Guild of Dubbers" not in client.post(_url(subject), {**answers, "org_query": "guild"}).content.decode()


def test_a_search_that_finds_nothing_says_so(person, studios):
    client, _, subject = person
    page = client.post(_url(subject), _answers(org_query="zzz", find_org="1")).content.decode()
    assert "No organization found" in page


def test_the_chosen_organization_becomes_the_grantee(person, studios):
    client, _, subject = person
    layar = studios[0]
    response = client.post(_url(subject), _answers(grantee=layar.public_id, org_query="layar"))
    consent = Consent.objects.get()
    assert response["Location"] == f"/me/consents/{consent.public_id}/"
    assert consent.grantee == layar.public_id
    # The chosen one stays on offer even when the search box changed since.
    again = client.post(_url(subject), _answers(grantee=layar.public_id, org_query="", purposes=[]))
    assert "Layar Emas Pictures" in again.content.decode()


@pytest.mark.parametrize("grantee", ["org_doesnotexist", "guild"])
def test_an_unknown_or_wrong_kind_of_organization_is_refused(person, studios, grantee):
    client, _, subject = person
    if grantee == "guild":
        grantee = studios[2].public_id
    response = client.post(_url(subject), _answers(grantee=grantee))
    assert response.status_code == 200
    assert 'href="#field-grantee"' in response.content.decode()
    assert Consent.objects.count() == 0


def test_the_error_summary_links_to_each_field_with_a_problem(person):
    client, _, subject = person
    response = client.post(_url(subject), _answers(purposes=[], territories=[], media=[]))
    page = response.content.decode()
    assert response.status_code == 200
    summary = page[page.index('class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert 'href="#field-purposes"' in summary
    assert 'href="#field-territories"' in summary
    assert 'href="#field-media"' in summary
    assert "Choose at least one purpose." in summary
    # Each step with a problem names it for assistive technology.
    assert re.search(r'aria-describedby="[^"]*id_purposes_error', page)
    assert Consent.objects.count() == 0


def test_a_refusal_can_cover_every_purpose_with_one_choice(person):
    client, _, subject = person
    response = client.post(
        _url(subject),
        _answers(effect="deny", purposes=[], intended_use="", all_purposes="on", territories=[], everywhere="on"),
    )
    consent = Consent.objects.get()
    assert response["Location"] == f"/me/consents/{consent.public_id}/"
    assert set(consent.purposes) == set(v.PURPOSE_KEYS)  # the sensitive ones too
    assert consent.effect == "deny"


def test_all_purposes_does_not_apply_to_a_permit(person):
    client, _, subject = person
    response = client.post(_url(subject), _answers(purposes=[], all_purposes="on"))
    assert response.status_code == 200
    assert "Choose at least one purpose." in response.content.decode()
    assert Consent.objects.count() == 0


def test_a_notice_period_needs_its_number_of_days(person):
    client, _, subject = person
    response = client.post(_url(subject), _answers(revocation_policy="notice"))
    assert response.status_code == 200
    assert 'href="#field-notice_days"' in response.content.decode()
    assert Consent.objects.count() == 0
    ok = client.post(_url(subject), _answers(revocation_policy="notice", notice_days="30"))
    assert ok.status_code == 302
    assert Consent.objects.get().revocation_notice_days == 30


def test_countries_are_checkboxes_with_indonesia_first(person):
    client, _, subject = person
    page = client.get(_url(subject)).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="territories" value="([A-Z]{2})"', page)
    assert boxes[0] == "ID"
    assert len(boxes) == len(set(boxes)) > 200


def test_my_consents_shows_my_shareable_id_with_a_qr_code(person):
    client, _, subject = person
    page = client.get("/me/").content.decode()
    assert subject.public_id.startswith("sub_")
    assert "<code" in page
    assert subject.public_id in page
    assert "Give this id to a studio that wants to check your consent" in page
    assert re.search(r"<svg[^>]*>", page)
    assert 'data-copy="' + subject.public_id + '"' in page


def _draft(client: Client, subject: Subject) -> Consent:
    client.post(_url(subject), _answers())
    return Consent.objects.get()


def test_a_draft_can_be_discarded_and_leaves_nothing_behind(person):
    client, _, subject = person
    consent = _draft(client, subject)
    leaves = LogEntry.objects.count()
    response = client.post(f"/me/consents/{consent.public_id}/", {"action": "discard"})
    assert response["Location"] == "/me/"
    assert Consent.objects.count() == 0
    assert LogEntry.objects.count() == leaves
    assert "Draft discarded" in client.get("/me/").content.decode()


def test_a_signed_consent_cannot_be_discarded(person):
    from consent import services
    from registry.accounts.presence import Presence

    client, user, subject = person
    consent = _draft(client, subject)
    presence = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    services.consent_sign(consent=consent, actor=user, method="witnessed", witness=presence)
    response = client.post(f"/me/consents/{consent.public_id}/", {"action": "discard"}, follow=True)
    assert response.status_code == 200
    assert Consent.objects.get().status == "active"
    assert "revoke" in response.content.decode().lower()


def test_someone_else_cannot_discard_my_draft(person, make_user):
    client, _, subject = person
    consent = _draft(client, subject)
    other = Client()
    other.force_login(make_user())
    assert other.post(f"/me/consents/{consent.public_id}/", {"action": "discard"}).status_code == 404
    assert Consent.objects.count() == 1


def test_the_service_refuses_to_discard_a_signed_consent(person):
    from consent import services
    from consent.services.consents import consent_discard
    from registry.accounts.presence import Presence
    from registry.errors import Conflict

    client, user, subject = person
    consent = _draft(client, subject)
    presence = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    services.consent_sign(consent=consent, actor=user, method="witnessed", witness=presence)
    with pytest.raises(Conflict):
        consent_discard(consent=consent, actor=user)
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_a_guardian_is_asked_about_their_childs_likeness(make_user):
    user = make_user()
    client = Client()
    client.force_login(user)
    adult_on = (timezone.now().date() + timedelta(days=3000)).isoformat()
    client.post("/me/start/", {"status": "minor", "display_name": "Putri", "adult_on": adult_on})
    page = client.get(_url(Subject.objects.get())).content.decode()
    assert "Which parts of your child&#x27;s likeness?" in page
    assert "My child must be credited" in page
    assert "Which parts of your likeness?" not in page
