"""A performer's journey in a real browser: sign up, register, give consent through the wizard,
sign it (re-authenticating), see it, revoke it — with no Content-Security-Policy violations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import screenshot

PASSWORD = "a long and unusual passphrase"


pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def test_a_performer_gives_consent_sees_it_and_revokes_it(page: Page, live_server, console: list[str]) -> None:
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("Email").fill("sari@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()

    # Onboarding: for myself.
    page.goto(live_server.url + "/me/start/")
    page.get_by_label("For myself").check()
    page.get_by_label("Their name").fill("Sari Pemeran")
    screenshot(page, "performer-onboarding.png")
    page.get_by_role("button", name="Continue").click()

    # The wizard, one question at a time ("Next" after each).
    expect(page.get_by_role("heading", level=1)).to_have_text("Give or refuse consent")
    page.get_by_label("I give consent").check()
    page.get_by_role("button", name="Next").click()
    page.locator("input[name=media][value=face]").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()  # what may be done: "generate" already
    page.locator("input[name=purposes][value=film_tv]").check()
    page.get_by_label("Describe the use in your own words").fill("New scenes for a feature film shot in Jakarta")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Search for a country").fill("Indonesia")
    page.get_by_role("checkbox", name="Indonesia", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("radio", name="Anyone").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()  # the dates: from today, for a year
    page.get_by_label("I must be credited").check()
    screenshot(page, "performer-wizard.png")
    page.get_by_role("button", name="Review").click()

    # Review: the plain-language summary, then sign. Signing up moments ago proves presence, so
    # no password is asked again (the re-authentication path is covered by the page tests).
    summary = page.locator("#summary")
    expect(summary).to_contain_text("Anyone may generate new material of your face for film and TV, in Indonesia")
    screenshot(page, "performer-review.png")
    page.get_by_role("button", name="I agree — sign now").click()

    # My consents: it is in force; revoke it with confirmation.
    expect(page.get_by_role("heading", level=1)).to_have_text("My consents")
    expect(page.locator(".consent-item .status")).to_have_text("In force")
    screenshot(page, "performer-my-consents.png")
    page.locator(".consent-item").get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke this consent?")
    page.get_by_role("button", name="Yes, revoke it").click()
    expect(page.locator(".consent-item .status")).to_have_text("Revoked")

    page.locator(".consent-item").get_by_role("link", name="History").click()
    expect(page.locator(".history li")).to_have_count(3)
    screenshot(page, "performer-history.png")

    assert [line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line] == []
