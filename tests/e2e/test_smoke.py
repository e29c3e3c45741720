"""Smoke test in a real browser: the home page, signing up, the language switch and the CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE, csp_violations, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def test_home_page_renders_with_its_heading_and_styles(page: Page, live_server, console: list[str]) -> None:
    page.goto(live_server.url + "/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Who may use your face and voice? You decide.")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="For performers")).to_be_visible()
    # The stylesheet really loaded: the primary button is not the browser's default grey.
    signup = page.get_by_role("link", name="Create a free account")
    assert signup.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(31, 95, 91)"
    screenshot(page, "home.png")

    page.set_viewport_size(PHONE)
    screenshot(page, "home-phone.png")

    assert csp_violations(console) == []


def test_sign_up_signs_the_person_in(page: Page, live_server, console: list[str]) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("banner").get_by_role("link", name="Sign up").click()

    page.get_by_label("Email").fill("new.performer@example.org")
    page.get_by_label("Password", exact=True).fill("a long and unusual passphrase")
    page.get_by_label("Password (again)").fill("a long and unusual passphrase")
    screenshot(page, "signup.png")
    page.get_by_role("button", name="Sign Up").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_have_count(0)
    assert csp_violations(console) == []


def test_language_switch_shows_indonesian(page: Page, live_server, console: list[str]) -> None:
    page.goto(live_server.url + "/")

    page.get_by_role("button", name="Bahasa Indonesia").click()

    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Siapa yang boleh memakai wajah dan suara Anda? Anda yang memutuskan."
    )
    expect(page.get_by_role("navigation", name="Utama").get_by_role("link", name="Untuk pemeran")).to_be_visible()
    screenshot(page, "home-id.png")

    page.set_viewport_size(PHONE)
    screenshot(page, "home-id-phone.png")

    assert csp_violations(console) == []
