"""A studio's journey in a real browser: sign in, create an API key (shown once), check a use,
check a release and read its clearance report, then read it again in Indonesian — with no
Content-Security-Policy violations, on desktop and phone widths."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, screenshot

PASSWORD = "a long and unusual passphrase"


pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def setup():
    """A studio owner, and a performer with a signed consent for the studio's film in Indonesia."""
    from consent import services
    from registry.accounts.models import User
    from registry.accounts.presence import Presence
    from registry.accounts.services import organization_create

    owner = User.objects.create_user("rina@layar-emas.example", PASSWORD)
    studio = organization_create(creator=owner, name="Layar Emas Pictures", slug="layar-emas", kind="studio")
    performer = User.objects.create_user("sari@example.org", PASSWORD)
    subject = services.subject_create(creator=performer, display_name="Sari Pemeran", status="living")
    today = timezone.now().date()
    draft = services.consent_create(
        subject=subject,
        actor=performer,
        terms={
            "effect": "permit",
            "grantee": studio.public_id,
            "production": "Sang Penari",
            "media": ["face", "voice"],
            "activities": ["generate"],
            "purposes": ["film_tv"],
            "intended_use": "New scenes for the film Sang Penari",
            "territories": ["ID"],
            "valid_from": today,
            "valid_until": today + timedelta(days=730),
            "conditions": {"attribution_required": True},
            "revocation": {"policy": "anytime"},
            "representation": "counsel",
        },
    )
    witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    services.consent_sign(consent=draft, actor=performer, method="witnessed", witness=witness)
    return studio, subject


def _csp(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line]


def test_a_studio_creates_a_key_checks_a_release_and_reads_the_report_in_indonesian(
    page: Page, live_server, setup, console: list[str]
) -> None:
    studio, subject = setup
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("rina@layar-emas.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()

    # The main navigation leads to the studio pages.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="For studios").click()
    expect(page.get_by_role("heading", level=3, name="Layar Emas Pictures")).to_be_visible()
    page.get_by_role("link", name="API keys").first.click()

    # An API key, shown once.
    page.get_by_label("Name of the key").fill("render farm")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key")
    expect(secret).to_have_value(re.compile(r"^restu_[0-9a-f]{8}_"))
    expect(page.get_by_text("We can't show it again.")).to_be_visible()
    page.goto(f"{live_server.url}/studios/{studio.slug}/api-keys/")  # loaded again: listed, secret gone
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.get_by_role("cell", name="render farm")).to_be_visible()

    # One use, checked: permitted, with the person's condition in plain words.
    page.get_by_role("navigation", name="Studio").get_by_role("link", name="Check a use").click()
    page.get_by_label("Person's Restu id").fill(subject.public_id)
    page.locator("input[name=medium][value=face]").check()
    page.locator("input[name=purpose][value=film_tv]").check()
    page.get_by_label("Where will it be used?").select_option("ID")
    page.get_by_label("Production (optional)").fill("Sang Penari")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#answer .status")).to_have_text("Permitted")
    expect(page.get_by_text("Credit the person.")).to_be_visible()
    page.locator("#answer summary").click()
    screenshot(page, "studio-check.png")
    page.set_viewport_size(PHONE)
    screenshot(page, "studio-check-phone.png")
    page.set_viewport_size(DESKTOP)

    # A release, checked through the form.
    page.get_by_role("navigation", name="Studio").get_by_role("link", name="Releases").click()
    page.get_by_role("link", name="Check a release").click()
    page.get_by_label("Title of the release").fill("Sang Penari")
    page.get_by_label("Where will it be released?").select_option(["ID"])
    page.get_by_label("Row 1: person's Restu id").fill(subject.public_id)
    page.locator("input[name=media_0][value=face]").check()
    page.locator("input[name=media_0][value=voice]").check()
    page.get_by_label("Row 1: purpose").select_option("film_tv")
    screenshot(page, "studio-release-form.png")
    page.get_by_role("button", name="Check the release").click()

    # The clearance report: status, and a row per appearance.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sang Penari")
    expect(page.locator(".banner__word")).to_have_text("Cleared")
    rows = page.locator(".report-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(subject.public_id)
    expect(rows.first).to_contain_text("Permitted")
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_text("Checked again just now: nothing changed.")).to_be_visible()
    screenshot(page, "studio-report.png")
    page.set_viewport_size(PHONE)
    screenshot(page, "studio-report-phone.png")
    page.set_viewport_size(DESKTOP)
    page.emulate_media(media="print")
    screenshot(page, "studio-report-print.png")
    expect(page.get_by_role("button", name="Check again")).to_be_hidden()
    page.emulate_media(media="screen")

    # The same report in Indonesian.
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator(".banner__word")).to_have_text("Lolos")
    expect(page.get_by_role("heading", level=2, name="Orang yang tampil dalam rilis")).to_be_visible()
    expect(page.locator(".report-table tbody tr").first).to_contain_text("Diizinkan")
    expect(page.get_by_role("button", name="Periksa ulang")).to_be_visible()
    screenshot(page, "studio-report-id.png")
    page.set_viewport_size(PHONE)
    screenshot(page, "studio-report-id-phone.png")

    assert _csp(console) == []
