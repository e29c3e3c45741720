"""A guardian and an estate in a real browser, in English and Indonesian, at 1280 and 390 px.

A parent registers a consent for their child (the child's coming-of-age date on the way in, the
summary speaking of "your child's face", never "your face"); the estate of a late relative refuses
everything with "every purpose" (the death date on the way in, the summary a grammatical refusal:
"No one may…", "Tidak seorang pun boleh…"). On every page and every step of the way: no wider than
the window, every date input's value ISO, and on the Indonesian run no English string of the
project's catalogues visible (names and ids aside).

``looks_right`` is what the other journeys (studio, maintainer) check on each of their pages too.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, csp_violations, screenshot
from .walk import MEASURE, English, english_lines, english_on, english_patterns, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

NEXT = "[data-wizard-next]"
BACK = "[data-wizard-back]"
REVIEW = "form.wizard [data-wizard-submit] button[type=submit]"
PASSWORD = "a long and unusual passphrase"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What the people in these journeys wrote themselves, or are called: shown as written in any language.
NAMES = (
    "Layar Emas Pictures",
    "Sang Penari",
    "Putri Pemeran",
    "Almarhum Pak Darto",
    "Open FaceSwap",
    "Fair face swapping",
    "Before you swap a face",
    "Ask the person first.",
    "Get the consent of every person shown.",
    "Get the written consent of every person shown.",
    "Never use it on children.",
    "Sari Pemeran",
    "render farm",
)


@lru_cache(maxsize=1)
def _english() -> tuple[English, ...]:
    return tuple(english_patterns())


def looks_right(
    page: Page, where: str, language: str, as_written: tuple[str, ...] = NAMES, ids: tuple[str, ...] = ()
) -> None:
    """The page as it is now, every <details> opened: no wider than the window, date inputs in ISO,
    and on an Indonesian page no English string of the project (what people wrote, names and ids
    aside). ``ids`` are keys people chose (a clause's "consent"): a line of only one is no English."""
    # What a person sees after opening every "Technical details" counts too; closed again after.
    opened = page.evaluate(
        """() => [...document.querySelectorAll('details:not([open])')].map((el, i) => {
            el.open = true; el.dataset.e2eOpened = String(i); return i; })"""
    )
    seen = page.evaluate(MEASURE)
    if opened:
        page.evaluate(
            """() => document.querySelectorAll('details[data-e2e-opened]').forEach((el) => {
                el.open = false; delete el.dataset.e2eOpened; })"""
        )
    assert seen["scroll"] <= seen["inner"], (
        f"{where} ({page.url}): {seen['scroll']} px wide in a {seen['inner']} px window; sticking out: {seen['wide']}"
    )
    for name, attribute, value in seen["dates"]:
        assert attribute == "" or ISO.match(attribute), f"{where}: date input {name} written as {attribute!r}"
        assert value == "" or ISO.match(value), f"{where}: date input {name} holds {value!r}"
        assert not (attribute and not value), f"{where}: the browser refused date input {name}'s {attribute!r}"
    if language == "id":
        text = "\n".join(line for line in seen["text"].splitlines() if line.strip() not in ids)
        for written in as_written:
            text = text.replace(written, " ")
        leaks = english_on(text, list(_english())) + english_lines(text, seen["code"], as_written)
        assert leaks == [], f"{where} ({page.url}): English on an Indonesian page: {leaks}"


def _step(page: Page, n: int) -> None:
    expect(page.locator("fieldset.wizard-step:visible")).to_have_attribute("id", f"step-{n}")


def _next(page: Page, n: int, where: str, language: str) -> None:
    """Step n is shown and looks right; then Next."""
    _step(page, n)
    looks_right(page, f"{where} step {n}", language)
    page.locator(NEXT).click()


def _onboard(page: Page, live_server, status: str, name: str, field: str, day: date, language: str, tag: str) -> None:
    page.goto(live_server.url + "/me/start/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator(f"input[name=status][value={status}]").check()
    page.locator("input[name=display_name]").fill(name)
    expect(page.locator(f"input[name={field}]")).to_be_visible()
    page.locator(f"input[name={field}]").fill(day.isoformat())
    looks_right(page, f"{tag} onboarding", language)
    screenshot(page, f"{tag}-onboarding.png")
    page.locator("form.form button[type=submit]").click()


def _sign(page: Page, tag: str, language: str) -> None:
    """ "I agree — sign now"; the password is confirmed (the session is not a fresh sign-in), and the
    signing finishes by itself on "my consents"."""
    page.locator("form[action$='/sign/'] button[type=submit]").first.click()
    expect(page.locator("input[name=password]")).to_be_visible()
    looks_right(page, f"{tag} confirm password", language)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url("**/me/")
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.fixture
def studio():
    from registry.accounts.models import User
    from registry.accounts.services import organization_create

    owner = User.objects.create_user("rina@layar-emas.example", None)
    return organization_create(creator=owner, name="Layar Emas Pictures", slug="layar-emas", kind="studio")


LANGUAGES = pytest.mark.parametrize("language", ["en", "id"])
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])

GUARDIAN = {
    "en": {"whose": "your child's face and voice", "credit": "Your child must be credited.", "may": "may generate"},
    "id": {"whose": "wajah dan suara anak Anda", "credit": "Nama anak Anda harus dicantumkan.", "may": "boleh"},
}
# The signer's own likeness: wrong for a child's or a late relative's consent.
NOT_THEIRS = {
    "en": ["your face", "your voice", "You must be credited"],
    "id": ["wajah Anda", "suara Anda", "Nama Anda harus"],
}


@LANGUAGES
@WIDTHS
def test_a_parent_registers_a_consent_for_their_child(
    page: Page, live_server, studio, console: list[str], language: str, viewport: dict[str, int]
) -> None:
    from consent.models import Consent
    from registry.accounts.models import User

    parent = User.objects.create_user(f"ibu-{language}@example.org", PASSWORD)
    sign_in(page.context, live_server.url, parent, language)
    page.set_viewport_size(viewport)
    tag = f"guardian-{language}-{viewport['width']}"
    today = timezone.now().date()
    adult_on = today + timedelta(days=3650)

    _onboard(page, live_server, "minor", "Putri Pemeran", "adult_on", adult_on, language, tag)
    subject = parent.representations.get().subject
    assert subject.status == "minor"
    assert subject.adult_on == adult_on

    # 1. Give; 2. the child's face and voice; 3. generate; 4. film and TV, the use in the parent's words.
    expect(page.locator("input[name=effect][value=permit]")).to_be_checked()
    _next(page, 1, tag, language)
    page.locator("input[name=media][value=face]").check()
    page.locator("input[name=media][value=voice]").check()
    _next(page, 2, tag, language)
    expect(page.locator("input[name=activities][value=generate]")).to_be_checked()
    _next(page, 3, tag, language)
    page.locator("input[name=purposes][value=film_tv]").check()
    page.locator("textarea[name=intended_use]").fill("Adegan baru untuk film Sang Penari")
    _next(page, 4, tag, language)
    # 5. Indonesia; 6. the studio, found by its name.
    page.locator("input[name=territories][value=ID]").check()
    _next(page, 5, tag, language)
    page.locator("input[name=org_query]").fill("layar")
    page.locator(f"input[name=grantee][value={studio.public_id}]").check()
    _next(page, 6, tag, language)
    # 7. ISO dates; the consent ends before the child comes of age.
    _step(page, 7)
    expect(page.locator("input[name=valid_from]")).to_have_value(today.isoformat())
    until = page.locator("input[name=valid_until]").input_value()
    assert ISO.match(until), until
    assert date.fromisoformat(until) <= adult_on, until
    _next(page, 7, tag, language)
    # 8. Credit the child.
    _step(page, 8)
    page.locator("input[name=attribution_required]").check()
    looks_right(page, f"{tag} step 8", language)
    screenshot(page, f"{tag}-step8.png")
    page.locator(REVIEW).click()

    # The review: the summary speaks of the child's likeness, not the parent's.
    summary = page.locator("#summary")
    expect(summary).to_contain_text("Layar Emas Pictures")
    words = GUARDIAN[language]
    expect(summary).to_contain_text(words["whose"])
    expect(summary).to_contain_text(words["credit"])
    for wrong in NOT_THEIRS[language]:
        expect(summary).not_to_contain_text(wrong)
    looks_right(page, f"{tag} review", language)
    screenshot(page, f"{tag}-review.png")

    consent = Consent.objects.get()
    assert consent.subject == subject
    assert consent.grantee == studio.public_id
    assert sorted(consent.media) == ["face", "voice"]
    assert consent.valid_until is not None
    assert consent.valid_until <= adult_on

    # Signed: on record, and the signed consent still speaks of the child.
    _sign(page, tag, language)
    expect(page.locator("main")).to_contain_text("Putri Pemeran")
    looks_right(page, f"{tag} my consents", language)
    consent.refresh_from_db()
    assert consent.status == "active"
    page.goto(f"{live_server.url}/me/consents/{consent.public_id}/")
    expect(page.locator("#summary")).to_contain_text(words["whose"])
    for wrong in NOT_THEIRS[language]:
        expect(page.locator("#summary")).not_to_contain_text(wrong)
    looks_right(page, f"{tag} signed consent", language)
    screenshot(page, f"{tag}-signed.png")
    assert csp_violations(console) == []
    assert [line for line in console if line.startswith("pageerror")] == []


ESTATE = {
    "en": {"refusal": "No one may generate new material of your late relative's", "wrong": ["Anyone may not"]},
    "id": {
        "refusal": "Tidak seorang pun boleh menghasilkan konten baru dari",
        "wrong": ["Siapa pun tidak boleh", "Siapa saja tidak boleh"],
    },
}


@LANGUAGES
@WIDTHS
def test_an_estate_refuses_everything_for_a_late_relative(
    page: Page, live_server, console: list[str], language: str, viewport: dict[str, int]
) -> None:
    from consent import vocabulary as v
    from consent.models import Consent
    from registry.accounts.models import User

    heir = User.objects.create_user(f"ahli-waris-{language}@example.org", PASSWORD)
    sign_in(page.context, live_server.url, heir, language)
    page.set_viewport_size(viewport)
    tag = f"estate-{language}-{viewport['width']}"
    died = timezone.now().date() - timedelta(days=400)

    _onboard(page, live_server, "deceased", "Almarhum Pak Darto", "deceased_on", died, language, tag)
    subject = heir.representations.get().subject
    assert subject.status == "deceased"
    assert subject.deceased_on == died

    # 1. Refuse; 2. the voice; 3. generate; 4. every purpose, with no description needed.
    page.locator("input[name=effect][value=deny]").check()
    _next(page, 1, tag, language)
    page.locator("input[name=media][value=voice]").check()
    _next(page, 2, tag, language)
    _next(page, 3, tag, language)
    _step(page, 4)
    page.locator("input[name=all_purposes]").check()
    expect(page.locator("input[name=purposes][value=film_tv]")).to_be_hidden()
    _next(page, 4, tag, language)
    # 5. Everywhere; 6. anyone.
    page.locator("input[name=everywhere]").check()
    _next(page, 5, tag, language)
    page.locator("input[name=grantee][value='*']").check()
    _next(page, 6, tag, language)
    _step(page, 7)
    expect(page.locator("input[name=valid_from]")).to_have_value(timezone.now().date().isoformat())
    _next(page, 7, tag, language)
    _step(page, 8)
    looks_right(page, f"{tag} step 8", language)
    page.locator(REVIEW).click()

    summary = page.locator("#summary")
    words = ESTATE[language]
    expect(summary).to_contain_text(words["refusal"])
    for wrong in words["wrong"] + NOT_THEIRS[language]:
        expect(summary).not_to_contain_text(wrong)
    if language == "id":
        expect(summary).to_contain_text("suara almarhum/almarhumah")
    looks_right(page, f"{tag} review", language)
    screenshot(page, f"{tag}-review.png")

    consent = Consent.objects.get()
    assert consent.effect == "deny"
    assert consent.grantee == v.ANY
    assert set(consent.purposes) == set(v.PURPOSE_KEYS)

    _sign(page, tag, language)
    expect(page.locator("main")).to_contain_text("Almarhum Pak Darto")
    looks_right(page, f"{tag} my consents", language)
    consent.refresh_from_db()
    assert consent.status == "active"
    page.goto(f"{live_server.url}/me/consents/{consent.public_id}/")
    expect(page.locator("#summary")).to_contain_text(words["refusal"])
    looks_right(page, f"{tag} signed refusal", language)
    screenshot(page, f"{tag}-signed.png")
    assert csp_violations(console) == []
    assert [line for line in console if line.startswith("pageerror")] == []


@LANGUAGES
def test_a_child_who_comes_of_age_within_a_year_gets_an_end_date_the_registry_accepts(
    page: Page, live_server, studio, console: list[str], language: str
) -> None:
    """The proposed end date is at most the child's coming of age, so the parent who keeps the
    defaults gets to the review, not an error about a date they never chose."""
    from consent.models import Consent
    from registry.accounts.models import User

    parent = User.objects.create_user(f"ayah-{language}@example.org", PASSWORD)
    sign_in(page.context, live_server.url, parent, language)
    page.set_viewport_size(PHONE)
    tag = f"guardian-soon-{language}-390"
    adult_on = timezone.now().date() + timedelta(days=100)
    _onboard(page, live_server, "minor", "Putri Pemeran", "adult_on", adult_on, language, tag)

    _next(page, 1, tag, language)
    page.locator("input[name=media][value=face]").check()
    _next(page, 2, tag, language)
    _next(page, 3, tag, language)
    page.locator("input[name=purposes][value=film_tv]").check()
    page.locator("textarea[name=intended_use]").fill("Adegan baru untuk film Sang Penari")
    _next(page, 4, tag, language)
    page.locator("input[name=territories][value=ID]").check()
    _next(page, 5, tag, language)
    page.locator("input[name=org_query]").fill("layar")
    page.locator(f"input[name=grantee][value={studio.public_id}]").check()
    _next(page, 6, tag, language)
    _step(page, 7)
    proposed = page.locator("input[name=valid_until]").input_value()
    _next(page, 7, tag, language)
    page.locator(REVIEW).click()
    page.wait_for_load_state()
    errors = page.locator("#error-summary:visible")
    refused = errors.inner_text() if errors.count() else ""
    looks_right(page, f"{tag} after review", language)
    screenshot(page, f"{tag}-review.png")
    assert refused == "", f"the wizard proposed {proposed} for a child of age on {adult_on}; refused: {refused!r}"
    assert date.fromisoformat(proposed) <= adult_on
    assert Consent.objects.get().valid_until <= adult_on
