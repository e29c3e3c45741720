"""The studio page of a release's Content Credentials: every permitted appearance's assertions to
copy, the CAWG uses in words, a guide, a link from the clearance report; nothing for strangers."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from consent.c2pa import release_c2pa
from consent.models import Release
from consent.services import releases
from registry.accounts import services as accounts
from registry.accounts.models import Membership

pytestmark = pytest.mark.django_db


def page_url(release: Release) -> str:
    return reverse(
        "consent:studio-release-c2pa", kwargs={"org_slug": release.organization.slug, "release_id": release.public_id}
    )


def _release(org, user, appearances, date):
    return releases.release_create(
        organization=org,
        title="Malam di Jakarta",
        release_date=date,
        territories=["ID"],
        appearances=appearances,
        tools=[],
        user=user,
    )


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def blocked(signed, org, user, make_subject):
    """Sari consented to the film; Budi is registered but never consented."""
    sari, _person, consent = signed(production="Malam di Jakarta", representation="counsel")
    budi, _ = make_subject()
    return _release(
        org,
        user,
        [
            {"subject": sari.public_id, "media": ["face"], "purpose": "film_tv", "name": "Sari"},
            {"subject": budi.public_id, "media": ["voice"], "purpose": "film_tv", "name": "Budi"},
        ],
        consent.valid_from + timedelta(days=10),
    )


def test_the_page_shows_each_permitted_appearances_assertions_to_copy(blocked, browser):
    response = browser.get(page_url(blocked))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    sari, budi = release_c2pa(release=blocked)["appearances"]
    # Sari's assertions, exactly as the API gives them, in a field the copy button copies.
    assert json.dumps(sari["c2pa_assertions"], indent=2, ensure_ascii=False) in page
    assert 'data-copy-from="assertions-1"' in page
    assert 'aria-live="polite"' in page
    assert page.count("<button") >= 1
    assert "Copy the assertions" in page
    assert "Training AI models with this file" in page
    # Budi has no consent: no assertions, said in words, and the release is not cleared.
    assert budi["c2pa_assertions"] is None
    assert 'data-copy-from="assertions-2"' not in page
    assert "this appearance has no consent for the release" in page
    assert "This release is not cleared yet" in page
    # The guide, and no inline script (the CSP forbids it).
    assert "import c2pa" in page
    assert "c2patool export.jpg" in page
    assert "<script>" not in page
    assert "/static/js/copy-button" in page


def test_training_the_person_did_not_permit_is_shown_as_not_allowed(blocked, browser):
    page = browser.get(page_url(blocked)).content.decode()
    [sari_uses] = [
        assertion["data"]["entries"]
        for assertion in release_c2pa(release=blocked)["appearances"][0]["c2pa_assertions"]
        if assertion["label"] == "cawg.training-mining"
    ]
    allowed = sum(entry["use"] == "allowed" for entry in sari_uses.values())
    assert page.count("status--permitted") == allowed
    assert page.count("status--denied") == 4 - allowed


def test_the_clearance_report_links_to_the_page(blocked, browser):
    page = browser.get(f"/studios/{blocked.organization.slug}/releases/{blocked.public_id}/").content.decode()
    assert f'href="{page_url(blocked)}"' in page
    assert "Content Credentials to embed (C2PA)" in page


def test_a_member_reads_it_and_strangers_and_anonymous_people_do_not(blocked, org, make_user):
    member = make_user()
    accounts.membership_add(organization=org, actor_role="owner", user=member, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(member)
    assert client.get(page_url(blocked)).status_code == 200

    stranger = Client()
    stranger.force_login(make_user())
    assert stranger.get(page_url(blocked)).status_code == 404
    anonymous = Client().get(page_url(blocked))
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_another_organizations_release_or_an_unknown_id_is_not_found(blocked, browser, user, make_org):
    other = make_org(user)
    assert browser.get(f"/studios/{other.slug}/releases/{blocked.public_id}/c2pa/").status_code == 404
    assert browser.get(f"/studios/{blocked.organization.slug}/releases/rel_nope/c2pa/").status_code == 404


def test_the_page_only_reads(blocked, browser):
    assert browser.post(page_url(blocked)).status_code == 405
