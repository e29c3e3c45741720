"""A maintainer in a real browser: sign in, write a draft guideline, publish it, read it in Indonesian."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, csp_violations, screenshot
from .test_e2e_guardian_estate import looks_right

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


# --- a maintainer's whole start on the website, in English and in Indonesian (issue 14, item 2) ------

# What the maintainer reads and clicks, in each language (names and ids are the same in both).
WORDS = {
    "en": {
        "start": "Put your project on Restu",
        "create": "Create the project",
        "register_link": "Register a signing key",
        "register": "Register this key",
        "keys_heading": "Signing keys",
        "new_guideline": "Write a new guideline",
        "save": "Save draft",
        "review": "Review draft {}",
        "preview_en": "Preview in English",
        "preview_id": "Preview in Bahasa Indonesia",
        "publish": "Publish this version",
        "published": "published",
        "new_version": "Write a new version",
        "update_translation": "Update the translation",
        "refused": "before you publish",
        "prove_link": "Prove the domain or repository",
        "get_token": "Get a token",
        "check_now": "Check now",
        "verified": "Verified",
    },
    "id": {
        "start": "Daftarkan proyek Anda di Restu",
        "create": "Buat proyek",
        "register_link": "Daftarkan kunci penandatanganan",
        "register": "Daftarkan kunci ini",
        "keys_heading": "Kunci penandatanganan",
        "new_guideline": "Tulis pedoman baru",
        "save": "Simpan draf",
        "review": "Tinjau draf {}",
        "preview_en": "Pratinjau dalam bahasa Inggris",
        "preview_id": "Pratinjau dalam bahasa Indonesia",
        "publish": "Terbitkan versi ini",
        "published": "diterbitkan",
        "new_version": "Tulis versi baru",
        "update_translation": "Perbarui terjemahan",
        "refused": "sebelum Anda menerbitkan",
        "prove_link": "Buktikan domain atau repositori",
        "get_token": "Minta token",
        "check_now": "Periksa sekarang",
        "verified": "Terverifikasi",
    },
}


def _fits_on_a_phone(page: Page, viewport: dict[str, int], language: str) -> None:
    """The page looks right at the journey's width (no wider than the window, ISO dates, no English on
    an Indonesian page), and at 390 px is no wider than the screen (then back to the journey's own width)."""
    # The clause keys are the maintainer's own ids, shown as written.
    looks_right(page, f"maintainer {language} {viewport['width']}", language, ids=("consent", "no-minors"))
    page.set_viewport_size(PHONE)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    # What sticks out, to name it in the failure.
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth)
        .slice(-5).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))"""
    )
    page.set_viewport_size(viewport)
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide at {widths[1]} px: {wide}"


def _public_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization

    from registry.lib.signing import generate_private_key

    return (
        generate_private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def served_tokens(settings, monkeypatch) -> list[str]:
    """The proof fetcher is pluggable: this one serves the tokens in the list, with no network."""
    import sys
    import types

    tokens: list[str] = []
    module = types.ModuleType("restu_e2e_fetcher")
    module.fetch = lambda url: "\n".join(tokens).encode()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "restu_e2e_fetcher", module)
    settings.REGISTRY_PROOF_FETCHER = "restu_e2e_fetcher.fetch"
    return tokens


@pytest.fixture
def newcomer():
    from registry.accounts.models import User

    return User.objects.create_user("budi@example.org", PASSWORD)


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_maintainer_starts_a_project_and_publishes_a_guideline_on_the_website(
    page: Page,
    live_server,
    newcomer,
    served_tokens: list[str],
    console: list[str],
    language: str,
    viewport: dict[str, int],
) -> None:
    from guidelines.models import ControlProof, GuidelineVersion, ProjectKey
    from registry.accounts.models import Organization

    words = WORDS[language]
    page.set_viewport_size(viewport)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill("budi@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(live_server.url + "/guidelines/")
    if language == "id":
        page.get_by_role("button", name="Bahasa Indonesia").click()
        expect(page.locator("html")).to_have_attribute("lang", "id")

    # 1. The project organization, from the catalogue's link.
    page.get_by_role("link", name=words["start"]).click()
    _fits_on_a_phone(page, viewport, language)
    page.locator("#id_name").fill("Open FaceSwap")
    page.locator("#id_slug").fill("open-faceswap")
    page.locator("#id_repository_url").fill("https://code.example/open-faceswap")
    screenshot(page, f"maintainer-project-new-{language}-{viewport['width']}.png")
    page.get_by_role("button", name=words["create"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open FaceSwap")
    project = Organization.objects.get(slug="open-faceswap")
    expect(page.get_by_text(project.public_id)).to_be_visible()  # the id it needs, shown
    _fits_on_a_phone(page, viewport, language)

    # 2. A signing key: the page explains it and shows the ids.
    page.get_by_role("link", name=words["register_link"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["keys_heading"])
    expect(page.locator("#organization-id")).to_have_text(project.public_id)
    _fits_on_a_phone(page, viewport, language)
    page.locator("#id_public_key").fill(_public_key_pem())
    page.get_by_role("button", name=words["register"]).click()
    key = ProjectKey.objects.get(organization=project)
    expect(page.locator(".gl-keys").get_by_text(key.kid)).to_be_visible()
    screenshot(page, f"maintainer-keys-{language}-{viewport['width']}.png")
    _fits_on_a_phone(page, viewport, language)

    # 3. The domain is proved: a token, published (here the configured fetcher serves it), checked.
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name=words["prove_link"]).click()
    page.locator("#id_kind_0").check()  # the domain
    page.locator("#id_target").fill("open-faceswap.example")
    page.get_by_role("button", name=words["get_token"]).click()
    proof = ControlProof.objects.get(organization=project)
    expect(page.get_by_text(proof.token)).to_be_visible()
    _fits_on_a_phone(page, viewport, language)
    served_tokens.append(proof.token)
    page.get_by_role("button", name=words["check_now"]).click()
    expect(page.locator(".messages")).to_contain_text(words["verified"])
    screenshot(page, f"maintainer-proofs-{language}-{viewport['width']}.png")

    # 4. A guideline with its first draft, in both languages.
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name=words["new_guideline"]).click()
    _fits_on_a_phone(page, viewport, language)
    page.locator("#id_title").fill("Fair face swapping")
    page.locator("#id_slug").fill("fair-face-swapping")
    page.locator("#id_version").fill("1.0.0")
    page.locator("#id_body").fill("# Before you swap a face\n\nAsk the person first.")
    page.locator("#id_clauses").fill(
        "consent | must | Get the consent of every person shown. | consent_token_check\n"
        "no-minors | must_not | Never use it on children."
    )
    page.locator("#id_body_id").fill("# Sebelum menukar wajah\n\nMintalah izin orangnya terlebih dahulu.")
    page.locator("#id_clauses_id").fill(
        "consent | Dapatkan persetujuan setiap orang yang tampil.\nno-minors | Jangan pernah memakainya pada anak."
    )
    page.get_by_role("button", name=words["save"]).click()

    # 5. The preview shows both languages before anything is published.
    expect(page.get_by_role("heading", level=1)).to_have_text(words["review"].format("1.0.0"))
    expect(page.get_by_role("heading", name=words["preview_en"])).to_be_visible()
    expect(page.get_by_role("heading", name=words["preview_id"])).to_be_visible()
    expect(page.get_by_text("Get the consent of every person shown.")).to_be_visible()
    expect(page.get_by_text("Dapatkan persetujuan setiap orang yang tampil.")).to_be_visible()
    screenshot(page, f"maintainer-preview-{language}-{viewport['width']}.png")
    _fits_on_a_phone(page, viewport, language)
    page.locator("#id_confirm").check()
    page.get_by_role("button", name=words["publish"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fair face swapping")
    expect(page.locator(".gl-version__title")).to_contain_text(words["published"])
    _fits_on_a_phone(page, viewport, language)

    # 6. A new version changes an English clause; its Indonesian text is flagged and publishing asks for it.
    page.get_by_role("link", name=words["new_version"]).click()
    page.locator("#id_version").fill("1.1.0")
    page.locator("#id_clauses").fill(
        "consent | must | Get the written consent of every person shown. | consent_token_check\n"
        "no-minors | must_not | Never use it on children."
    )
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#outdated-warning")).to_be_visible()
    page.locator("#id_confirm").check()
    page.get_by_role("button", name=words["publish"]).click()
    expect(page.locator(".form__errors")).to_contain_text(words["refused"])
    assert GuidelineVersion.objects.get(version="1.1.0").status == "draft"
    page.locator("#outdated-warning").get_by_role("link", name=words["update_translation"]).click()
    expect(page.locator("#outdated-translations")).to_contain_text("consent")
    _fits_on_a_phone(page, viewport, language)
    page.locator("#id_clauses_id").fill(
        "consent | Dapatkan persetujuan tertulis setiap orang yang tampil.\n"
        "no-minors | Jangan pernah memakainya pada anak."
    )
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#outdated-warning")).to_have_count(0)
    page.locator("#id_confirm").check()
    page.get_by_role("button", name=words["publish"]).click()
    expect(page.locator(".gl-version__title")).to_contain_text(words["published"])

    # 7. The diff, in the page's language, names the changed clause.
    page.goto(f"{live_server.url}/guidelines/fair-face-swapping/diff/?from=1.0.0&to=1.1.0")
    expect(page.locator(".gl-diff-clauses")).to_contain_text("consent")
    text = "written consent" if language == "en" else "persetujuan tertulis"
    expect(page.locator(".gl-diff-clauses")).to_contain_text(text)
    _fits_on_a_phone(page, viewport, language)

    assert csp_violations(console) == []
