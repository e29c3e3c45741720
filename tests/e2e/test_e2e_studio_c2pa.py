"""A studio copies a release's Content Credentials assertions in a real browser: from the clearance
report to the page, the copy button works from the keyboard, puts the exact JSON on the clipboard
and says "Copied" in a live region; the page fits a 390 px phone; no CSP violation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from .conftest import PHONE, csp_violations, screenshot

PASSWORD = "a long and unusual passphrase"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("transactional_db"),
]


@pytest.fixture
def cleared():
    """A studio's cleared release: Sari consented to her face in the film, in Indonesia."""
    from consent import services
    from consent.services import releases
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
            "media": ["face"],
            "activities": ["generate", "train_model"],
            "purposes": ["film_tv"],
            "intended_use": "New scenes for the film Sang Penari",
            "territories": ["ID"],
            "valid_from": today,
            "valid_until": today + timedelta(days=730),
            "conditions": {},
            "revocation": {"policy": "anytime"},
            "representation": "counsel",
        },
    )
    witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    services.consent_sign(consent=draft, actor=performer, method="witnessed", witness=witness)
    release = releases.release_create(
        organization=studio,
        user=owner,
        title="Sang Penari",
        release_date=today + timedelta(days=10),
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv", "name": "Sari"}],
        tools=[],
    )
    assert release.status == "cleared", release.report
    return release


def test_the_copy_button_copies_the_assertions_from_the_keyboard_and_fits_a_phone(
    browser, live_server, cleared, console: list[str]
) -> None:
    from consent.c2pa import release_c2pa

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page: Page = context.new_page()
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Email").fill("rina@layar-emas.example")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()

        # From the clearance report to the page.
        page.goto(f"{live_server.url}/studios/layar-emas/releases/{cleared.public_id}/")
        page.get_by_role("link", name="Content Credentials to embed (C2PA)").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sang Penari")

        # The copy button, reached and pressed from the keyboard only.
        button = page.get_by_role("button", name="Copy the assertions")
        expect(button).to_be_visible()
        status = page.locator("#copied-1")
        expect(status).to_have_attribute("role", "status")
        expect(status).to_have_attribute("aria-live", "polite")
        expect(status).to_have_text("")
        page.get_by_label("Assertions (JSON, save as restu-assertions.json)").focus()
        page.keyboard.press("Tab")
        expect(button).to_be_focused()
        page.keyboard.press("Enter")
        expect(status).to_have_text("Copied")
        expect(button).to_be_focused()

        copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
        [appearance] = release_c2pa(release=cleared)["appearances"]
        assert copied == appearance["c2pa_assertions"]
        assert [assertion["label"] for assertion in copied] == ["org.restu.consent", "cawg.training-mining"]
        screenshot(page, "studio-c2pa.png")

        # A phone: nothing wider than the window, the guide's code included.
        page.set_viewport_size(PHONE)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], widths
        expect(page.get_by_role("heading", level=2, name="How to embed them in your export")).to_be_visible()
        screenshot(page, "studio-c2pa-phone.png")

        assert csp_violations(console) == []
        assert [line for line in console if line.startswith(("error", "pageerror"))] == []
    finally:
        context.close()
