"""Browser tests: Playwright's sync API drives headless Chromium against the live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google at every start, which
# this closed network refuses; --no-sandbox because CI runs as root.
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

# A developer machine without Debian's chromium skips the browser tests; CI must have it, so there
# they run (and fail loudly if the browser is missing).
collect_ignore_glob = ["test_*.py"] if not CHROMIUM.exists() and os.environ.get("CI") != "true" else []

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# the ORM calls the live server and the fixtures make from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(autouse=True)
def _static_from_finders(settings) -> None:
    # The live server serves /static/ through the staticfiles finders, which know only the
    # source names, not the hashed ones the production manifest storage puts in the pages.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console() -> list[str]:
    """Everything the page logged: console messages and uncaught errors."""
    return []


@pytest.fixture
def page(browser, console: list[str]) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    context.close()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def csp_violations(console: list[str]) -> list[str]:
    return [line for line in console if "Content Security Policy" in line or "Content-Security-Policy" in line]
