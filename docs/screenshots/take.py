"""``make screenshots``: every step a reviewer should look at, in English and Indonesian, at 1280 and 390 px.

Starts the app on the demo data in a data folder of its own (``var/screenshots-data``), signs in as
the demo people, and writes one PNG per page, language and width into ``var/screenshots/``
(not committed). Needs Debian's chromium (``/usr/bin/chromium``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "screenshots"
DATA = ROOT / "var" / "screenshots-data"
PORT = int(os.environ.get("SCREENSHOTS_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "restu-demo-password"  # noqa: S105 - the published demo password (registry/management/commands/demo.py)
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
WIDTHS = (1280, 390)
LANGUAGES = ("en", "id")
# (file name, who is signed in, path)
PAGES = [
    ("01-home", None, "/"),
    ("02-check-a-file", None, "/check-a-file/"),
    ("03-guidelines", None, "/guidelines/"),
    ("04-performer-consents", "performer@demo.restu.example", "/me/"),
    ("05-performer-start", "performer@demo.restu.example", "/me/start/"),
    ("06-studio-dashboard", "studio@demo.restu.example", "/studios/"),
    ("07-studio-check", "studio@demo.restu.example", "/studios/studio-layar-lebar/check/"),
    ("08-studio-release-new", "studio@demo.restu.example", "/studios/studio-layar-lebar/releases/new/"),
    ("09-maintainer-new-project", "maintainer@demo.restu.example", "/projects/new/"),
    ("10-maintainer-keys", "maintainer@demo.restu.example", "/projects/open-faceswap/keys/"),
]


def _env() -> dict[str, str]:
    return {**os.environ, "DEBUG": "1", "REGISTRY_DATA_DIR": str(DATA), "REGISTRY_EMAIL_VERIFICATION": "none"}


def _manage(*args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL
    )


def _sign_in(page: Page, email: str) -> None:
    page.goto(f"{BASE}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    print("Preparing the demo data…", flush=True)
    _manage("migrate", "--noinput")
    _manage("collectstatic", "--noinput")
    for command in ("demo", "demo_guidelines", "demo_consents"):
        _manage(command)
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{BASE}/health", timeout=1)  # noqa: S310 - our own loopback server
                break
            except OSError:
                time.sleep(0.2)
        total = len(PAGES) * len(LANGUAGES) * len(WIDTHS)
        done = 0
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for language in LANGUAGES:
                for width in WIDTHS:
                    signed_in_as: str | None = None
                    context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
                    context.add_cookies([{"name": "django_language", "value": language, "url": BASE}])
                    page = context.new_page()
                    for name, person, path in PAGES:
                        if person and person != signed_in_as:
                            context.clear_cookies()
                            context.add_cookies([{"name": "django_language", "value": language, "url": BASE}])
                            _sign_in(page, person)
                            signed_in_as = person
                        page.goto(f"{BASE}{path}")
                        page.wait_for_load_state()
                        target = OUT / f"{name}-{language}-{width}.png"
                        page.screenshot(path=str(target), full_page=True)
                        done += 1
                        print(f"[{done}/{total}] {target.relative_to(ROOT)}", flush=True)
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"Screenshots in {OUT.relative_to(ROOT)}/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
