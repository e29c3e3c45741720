"""Indonesian pages in a real browser: dates stay filled, and no page is wider than a phone.

- With the ``id`` language the wizard's start date and its default one-year end date are filled
  (ISO in the date input) and the end date survives submission: the consent is not open-ended.
- At 390 px every performer, studio and maintainer page fits: ``scrollWidth <= innerWidth``.
- On the Indonesian pages no English sentence of our catalogues is left visible.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from .conftest import PHONE, screenshot
from .walk import sign_in

PASSWORD = "a long and unusual passphrase"

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

# The elements that stick out on the right, named so a failure says where to look.
OVERFLOW = r"""() => {
  const width = window.innerWidth;
  const name = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\s+/) : [];
    return [el.tagName.toLowerCase(), ...classes.filter(Boolean)].join(".");
  };
  const right = (el) => el.getBoundingClientRect().right;
  const sticking = [...document.querySelectorAll("body *")].filter((el) => right(el) > width + 0.5);
  const outermost = sticking.filter((el) => !sticking.some((other) => other !== el && other.contains(el)));
  const innermost = sticking.filter((el) => !sticking.some((other) => other !== el && el.contains(other)));
  return {
    scroll: document.documentElement.scrollWidth,
    inner: width,
    wide: outermost.slice(0, 8).map((el) => `${name(el)} ${Math.round(right(el))}`),
    leaves: innermost.slice(0, 8).map((el) => `${name(el)} ${Math.round(el.getBoundingClientRect().width)}`),
  };
}"""


def test_the_wizard_in_indonesian_keeps_its_dates(page: Page, live_server, console: list[str]) -> None:
    from consent.models import Consent
    from registry.accounts.models import User

    person = User.objects.create_user("sari@example.org", PASSWORD)
    sign_in(page.context, live_server.url, person, "id")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/me/start/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    page.locator("input[name=status][value=living]").check()
    page.locator("input[name=display_name]").fill("Sari Pemeran")
    page.locator("form.form button[type=submit]").click()

    today = timezone.now().date()
    start, end = page.locator("input[name=valid_from]"), page.locator("input[name=valid_until]")
    expect(start).to_have_value(today.isoformat())
    expect(end).to_have_value((today + timedelta(days=365)).isoformat())
    # The wizard shows one question at a time: "Next" after each.
    next_step = page.locator("[data-wizard-next]")
    page.locator("input[name=effect][value=permit]").check()
    next_step.click()
    page.locator("input[name=media][value=face]").check()
    next_step.click()
    next_step.click()
    page.locator("input[name=purposes][value=film_tv]").check()
    page.locator("textarea[name=intended_use]").fill("Adegan baru untuk film Sang Penari")
    next_step.click()
    page.locator("input[name=territories][value=ID]").check()
    next_step.click()
    page.locator("input[name=grantee][value='*']").check()
    next_step.click()
    next_step.click()
    screenshot(page, "performer-wizard-id-phone.png")
    page.locator("form.form [data-wizard-submit] button[type=submit]").click()

    expect(page.locator("#summary")).to_contain_text("Siapa pun boleh")
    consent = Consent.objects.get()
    assert consent.valid_from == today
    assert consent.valid_until == today + timedelta(days=365)
    expect(page.locator("#summary")).to_contain_text(str((today + timedelta(days=365)).year))
    screenshot(page, "performer-review-id-phone.png")
    assert [line for line in console if "Content-Security-Policy" in line or "Content Security Policy" in line] == []


@pytest.fixture
def everything():
    """A performer with a signed, a revoked and a draft consent, a child; a studio that checked them."""
    from consent import services
    from consent.rules.decision import UseQuery
    from consent.services import releases
    from consent.verification import Check, verification_run
    from registry.accounts.models import User
    from registry.accounts.presence import Presence
    from registry.accounts.services import organization_create

    owner = User.objects.create_user("rina@layar-emas.example", PASSWORD)
    studio = organization_create(creator=owner, name="Layar Emas Pictures", slug="layar-emas", kind="studio")
    performer = User.objects.create_user("sari@example.org", PASSWORD)
    subject = services.subject_create(creator=performer, display_name="Sari Pemeran", status="living")
    child = services.subject_create(
        creator=performer,
        display_name="Putri",
        status="minor",
        adult_on=timezone.now().date() + timedelta(days=3000),
    )
    today = timezone.now().date()
    witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")

    def consent(who, **terms):
        body = {
            "effect": "permit",
            "grantee": studio.public_id,
            "production": "Sang Penari",
            "media": ["face", "voice"],
            "activities": ["generate", "alter"],
            "purposes": ["film_tv", "advertising"],
            "intended_use": "Adegan baru untuk film Sang Penari yang diambil di Jakarta dan Yogyakarta",
            "territories": ["ID", "CD", "BQ", "TL"],
            "valid_from": today,
            "valid_until": today + timedelta(days=730),
            "conditions": {"attribution_required": True, "approval_required": True},
            "revocation": {"policy": "anytime"},
            "representation": "counsel",
            **terms,
        }
        return services.consent_create(subject=who, actor=performer, terms=body)

    # Signed as shown in Indonesian: the signed summary keeps the language it was read in.
    signed = services.consent_sign(
        consent=consent(subject), actor=performer, method="witnessed", witness=witness, language="id"
    )
    revoked = services.consent_sign(
        consent=consent(subject, effect="deny", grantee="*", conditions={}),
        actor=performer,
        method="witnessed",
        witness=witness,
        language="id",
    )
    services.consent_revoke(consent=revoked, actor=performer, reason="", witness=witness)
    draft = consent(child, valid_until=today + timedelta(days=365))
    use = UseQuery(
        medium="face", activity="generate", purpose="film_tv", territory="ID", on=today, production="Sang Penari"
    )
    verification_run(organization=studio, check=Check(subject=subject.public_id, use=use), user=owner)
    release = releases.release_create(
        organization=studio,
        title="Sang Penari",
        release_date=today,
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face", "voice"], "purpose": "film_tv"}],
        tools=[],
        user=owner,
    )
    return {
        "owner": owner,
        "performer": performer,
        "studio": studio,
        "subject": subject,
        "signed": signed,
        "revoked": revoked,
        "draft": draft,
        "release": release,
    }


def _fits(page: Page, url: str, name: str) -> dict:
    page.goto(url)
    page.wait_for_load_state("load")
    measured = page.evaluate(OVERFLOW)
    screenshot(page, name)
    return {"url": url, **measured, "text": page.evaluate("() => document.body.innerText")}


def _english_sentences() -> list[str]:
    """English sentences of our catalogues that have an Indonesian translation of their own:
    seen verbatim on an Indonesian page, they are an untranslated string."""
    import gettext
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = set()
    for folder in (root / "locale", root / "consent" / "locale"):
        catalogue = gettext.translation("django", str(folder), languages=["id"])._catalog  # type: ignore[attr-defined]
        for key, value in catalogue.items():
            english = key[1] if isinstance(key, tuple) else key
            if isinstance(english, str) and "\x04" in english:
                english = english.split("\x04", 1)[1]
            if not isinstance(english, str) or "%" in english or "<" in english or "{" in english:
                continue
            if len(english) >= 16 and " " in english and value != english:
                found.add(english)
    return sorted(found)


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_page_is_wider_than_a_phone(page: Page, live_server, everything, language: str) -> None:
    page.set_viewport_size(PHONE)
    base = live_server.url
    subject, studio = everything["subject"], everything["studio"]
    sign_in(page.context, live_server.url, everything["performer"], language)
    performer_pages = [
        "/",
        "/me/",
        "/me/start/",
        f"/subjects/{subject.public_id}/consents/new/",
        f"/me/consents/{everything['signed'].public_id}/",
        f"/me/consents/{everything['revoked'].public_id}/",
        f"/me/consents/{everything['draft'].public_id}/",
        f"/me/consents/{everything['signed'].public_id}/revoke/",
        f"/me/consents/{everything['signed'].public_id}/history/",
        f"/subjects/{subject.public_id}/access-log/",
        "/me/erase/",
    ]
    too_wide = []
    visited = []
    for number, path in enumerate(performer_pages):
        measured = _fits(page, base + path, f"phone-{language}-performer-{number}.png")
        visited.append(measured)
        if measured["scroll"] > measured["inner"]:
            too_wide.append(measured)

    page.context.clear_cookies()
    sign_in(page.context, live_server.url, everything["owner"], language)
    slug = studio.slug
    studio_pages = [
        "/studios/",
        f"/studios/{slug}/check/",
        f"/studios/{slug}/releases/",
        f"/studios/{slug}/releases/new/",
        f"/studios/{slug}/releases/{everything['release'].public_id}/",
        f"/studios/{slug}/webhooks/",
        f"/studios/{slug}/api-keys/",
    ]
    for number, path in enumerate(studio_pages):
        measured = _fits(page, base + path, f"phone-{language}-studio-{number}.png")
        visited.append(measured)
        if measured["scroll"] > measured["inner"]:
            too_wide.append(measured)

    if language == "id":
        english = _english_sentences()
        leaks = {m["url"]: [e for e in english if e in m["text"]] for m in visited}
        assert {url: found for url, found in leaks.items() if found} == {}

    # A check's answer, with its receipt, at phone width.
    page.goto(f"{base}/studios/{slug}/check/")
    page.locator("input[name=subject]").fill(subject.public_id)
    page.locator("input[name=medium][value=face]").check()
    page.locator("input[name=purpose][value=film_tv]").check()
    page.locator("input[name=production]").fill("Sang Penari")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("#answer")).to_be_visible()
    page.locator("#answer summary").first.click()
    measured = page.evaluate(OVERFLOW)
    screenshot(page, f"phone-{language}-studio-answer.png")
    if measured["scroll"] > measured["inner"]:
        too_wide.append({"url": "check answer", **measured})
    assert not too_wide, "\n".join(str({k: v for k, v in m.items() if k != "text"}) for m in too_wide)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_maintainer_pages_fit_a_phone(page: Page, live_server, language: str) -> None:
    from registry.accounts.models import User
    from registry.accounts.services import organization_create

    maintainer = User.objects.create_user("dewi@example.org", PASSWORD)
    project = organization_create(creator=maintainer, name="Open FaceSwap", slug="open-faceswap", kind="project")
    page.set_viewport_size(PHONE)
    sign_in(page.context, live_server.url, maintainer, language)
    too_wide = []
    paths = [
        "/guidelines/",
        "/projects/new/",
        f"/projects/{project.slug}/",
        f"/projects/{project.slug}/keys/",
        f"/projects/{project.slug}/proofs/",
        f"/projects/{project.slug}/guidelines/new/",
    ]
    for number, path in enumerate(paths):
        measured = _fits(page, live_server.url + path, f"phone-{language}-maintainer-{number}.png")
        if measured["scroll"] > measured["inner"]:
            too_wide.append(measured)
    assert not too_wide, "\n".join(str({k: v for k, v in m.items() if k != "text"}) for m in too_wide)
