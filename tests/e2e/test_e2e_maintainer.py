"""A maintainer in a real browser: sign in, write a draft guideline, publish it, read it in Indonesian."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import screenshot

PASSWORD = "a long and unusual passphrase"


pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def project():
    from registry.accounts.models import User
    from registry.accounts.services import organization_create

    maintainer = User.objects.create_user("dewi@example.org", PASSWORD)
    return organization_create(creator=maintainer, name="Open FaceSwap", slug="open-faceswap", kind="project")


def test_a_maintainer_writes_publishes_and_reads_a_guideline_in_indonesian(
    page: Page, live_server, project, console: list[str]
) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("dewi@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Write a new guideline").click()
    page.get_by_label("Title").fill("Fair face swapping")
    page.get_by_label("Short name for the address").fill("fair-face-swapping")
    page.get_by_label("Summary").fill("What we ask of everyone who uses Open FaceSwap.")
    page.get_by_label("Version").fill("1.0.0")
    page.get_by_label("Text (Markdown, English)").fill("# Before you swap a face\n\nAsk the person first.")
    page.get_by_label("Clauses (English)").fill(
        "consent | must | Get the consent of every person shown. | consent_token_check\n"
        "no-minors | must_not | Never use it on children."
    )
    page.get_by_label("Text in Bahasa Indonesia (Markdown)").fill(
        "# Sebelum menukar wajah\n\nMintalah izin orangnya terlebih dahulu."
    )
    page.get_by_label("Clauses in Bahasa Indonesia").fill(
        "consent | Dapatkan persetujuan setiap orang yang tampil.\nno-minors | Jangan pernah memakainya pada anak."
    )
    screenshot(page, "guideline-editor.png")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review draft 1.0.0")
    page.get_by_role("button", name="Publish this version").click()
    # The browser's own check stops an unconfirmed publish; the draft stays a draft.
    expect(page.get_by_role("heading", level=1)).to_have_text("Review draft 1.0.0")
    page.get_by_label("I understand that a published version can never be changed").check()
    page.get_by_role("button", name="Publish this version").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Fair face swapping")
    expect(page.locator(".gl-version__title")).to_contain_text("published")
    screenshot(page, "guideline.png")

    page.goto(live_server.url + "/guidelines/")
    page.get_by_role("link", name="Fair face swapping").wait_for()
    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pedoman penggunaan")
    page.get_by_role("link", name="Fair face swapping").click()

    expect(page.get_by_role("heading", name="Sebelum menukar wajah")).to_be_visible()
    expect(page.get_by_text("Dapatkan persetujuan setiap orang yang tampil.")).to_be_visible()
    expect(page.get_by_role("heading", name="Butir")).to_be_visible()
    screenshot(page, "guideline-id.png")

    assert [line for line in console if "Content Security Policy" in line] == []
