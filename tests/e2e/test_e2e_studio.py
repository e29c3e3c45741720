"""A studio's journey in a real browser: sign in, create an API key (shown once), check a use,
check a release and read its clearance report, then read it again in Indonesian — with no
Content-Security-Policy violations, on desktop and phone widths.

Then the whole journey in English and in Indonesian, at 1280 and 390 px, with the signed report
downloaded and its signature verified (joserfc, against the registry's published keys) and the
Content Credentials page opened; each page no wider than the window, its dates ISO, and on the
Indonesian run no English string of the project visible."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, csp_violations, screenshot
from .test_e2e_guardian_estate import looks_right

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


# --- the whole journey, in both languages at both widths (issue 14) ----------------------------------

WORDS = {
    "en": {
        "permitted": "Permitted",
        "credit": "Credit the person.",
        "cleared": "Cleared",
        "nothing_changed": "Checked again just now: nothing changed.",
    },
    "id": {
        "permitted": "Diizinkan",
        "credit": "Cantumkan nama orang tersebut.",
        "cleared": "Lolos",
        "nothing_changed": "Baru saja diperiksa ulang: tidak ada perubahan.",
    },
}


def _verified(receipt: str, jwks: dict) -> dict:
    """The signed report's payload, once its signature checks out against the published keys."""
    from joserfc import jws
    from joserfc.jwk import KeySet

    registry = jws.JWSRegistry(algorithms=["Ed25519"])
    token = jws.deserialize_compact(receipt, KeySet.import_key_set(jwks), registry=registry)
    return json.loads(token.payload)


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_studio_journey_in_each_language_and_width(
    page: Page, live_server, setup, console: list[str], language: str, viewport: dict[str, int], tmp_path: Path
) -> None:
    studio, subject = setup
    words = WORDS[language]
    tag = f"studio-{language}-{viewport['width']}"
    base = f"{live_server.url}/studios/{studio.slug}"
    page.set_viewport_size(viewport)

    # Signed in through the form (creating a key needs a recent sign-in), in the run's language.
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page.goto(live_server.url + "/accounts/login/")
    looks_right(page, f"{tag} sign in", language)
    page.locator("input[name=login]").fill("rina@layar-emas.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("header form[action*=logout] button")).to_be_visible()

    # The dashboard, from the main navigation.
    page.locator("nav a[href='/studios/']").first.click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=3, name="Layar Emas Pictures")).to_be_visible()
    looks_right(page, f"{tag} dashboard", language)

    # An API key, shown once.
    page.locator(f"a[href='/studios/{studio.slug}/api-keys/']").first.click()
    looks_right(page, f"{tag} API keys", language)
    page.locator("input[name=name]").fill("render farm")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("#new-key")).to_have_value(re.compile(r"^restu_[0-9a-f]{8}_"))
    looks_right(page, f"{tag} new key", language)
    page.goto(f"{base}/api-keys/")
    expect(page.locator("#new-key")).to_have_count(0)
    expect(page.get_by_role("cell", name="render farm")).to_be_visible()

    # One use, checked: permitted, with the person's condition in plain words.
    page.locator(f"nav a[href='/studios/{studio.slug}/check/']").first.click()
    looks_right(page, f"{tag} check", language)
    page.locator("input[name=subject]").fill(subject.public_id)
    page.locator("input[name=medium][value=face]").check()
    page.locator("input[name=purpose][value=film_tv]").check()
    page.locator("select[name=territory]").select_option("ID")
    page.locator("input[name=production]").fill("Sang Penari")
    page.locator("main form.studio-form button[type=submit]").click()
    expect(page.locator("#answer .status")).to_have_text(words["permitted"])
    expect(page.locator("#answer")).to_contain_text(words["credit"])
    page.evaluate("() => document.querySelectorAll('#answer details').forEach((el) => { el.open = true; })")
    looks_right(page, f"{tag} check answer", language)
    screenshot(page, f"{tag}-check.png")

    # A release, checked through the form.
    page.locator(f"nav a[href='/studios/{studio.slug}/releases/']").first.click()
    looks_right(page, f"{tag} releases", language)
    page.locator(f"a[href='/studios/{studio.slug}/releases/new/']").first.click()
    expect(page.locator("input[name=release_date]")).to_have_value(timezone.now().date().isoformat())
    looks_right(page, f"{tag} new release", language)
    page.locator("input[name=title]").fill("Sang Penari")
    page.locator("select[name=territories]").select_option(["ID"])
    page.locator("input[name=subject_0]").fill(subject.public_id)
    page.locator("input[name=media_0][value=face]").check()
    page.locator("input[name=media_0][value=voice]").check()
    page.locator("select[name=purpose_0]").select_option("film_tv")
    page.locator("main form.studio-form button[type=submit]").last.click()

    # The clearance report, checked again.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sang Penari")
    expect(page.locator(".banner__word")).to_have_text(words["cleared"])
    rows = page.locator(".report-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(subject.public_id)
    expect(rows.first).to_contain_text(words["permitted"])
    page.locator(".report__actions form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(words["nothing_changed"])
    looks_right(page, f"{tag} report", language)
    screenshot(page, f"{tag}-report.png")

    # The signed report, downloaded: Restu's signature over this release's report.
    from consent.models import Release

    release = Release.objects.get(organization=studio)
    with page.expect_download() as download:
        page.locator("a[href='?download=jws']").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"{release.public_id}.jws"
    jwks = page.request.get(live_server.url + "/.well-known/jwks.json").json()
    payload = _verified(saved.read_text(encoding="ascii").strip(), jwks)
    assert release.public_id in json.dumps(payload)
    with page.expect_download() as copy:
        page.locator("a[href='?download=html']").click()
    assert copy.value.suggested_filename == f"{release.public_id}.html"

    # The Content Credentials page.
    page.locator(f"a[href='/studios/{studio.slug}/releases/{release.public_id}/c2pa/']").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(subject.public_id)
    looks_right(page, f"{tag} Content Credentials", language)
    screenshot(page, f"{tag}-c2pa.png")

    assert csp_violations(console) == []
    assert [line for line in console if line.startswith("pageerror")] == []
