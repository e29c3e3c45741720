"""Smoke test in a real browser: the home page, signing up, the language switch and the CSP."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

if not CHROMIUM.exists() and os.environ.get("CI") != "true":
    pytest.skip(f"{CHROMIUM} is not installed (CI must have it, so there this fails)", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, console: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.on("console", lambda message: console.append(_describe(message)))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    context.close()


def _describe(message: ConsoleMessage) -> str:
    return f"{message.type}: {message.text}"


def csp_violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


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
