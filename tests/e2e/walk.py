"""Every page of each audience, visited in one browser: what the page walk and the accessibility check share.

``build_world`` makes the records the pages show (a performer with a signed, a revoked and a draft
consent and a child; a studio that checked them, with a release, a webhook and an API key; a project
with a published guideline, a draft, a signing key and a proof). ``site_pages`` names each page by
its URL name, so the tests do not depend on any form's fields. ``visit`` opens them in one browser
context per audience, signed in as that person, in the given language.

``walked`` visits every page once per language, at both widths, and keeps what both test modules
look at (axe-core's findings, the widths, the date inputs, the visible text): a walk costs about
half a minute, and the accessibility check and the page walk would otherwise make the same ones.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}


@dataclass(frozen=True)
class SitePage:
    audience: str  # performer, studio, maintainer or public: whose browser opens it
    name: str  # how a failure names it
    path: str
    # A page that is an answer to a form (the studio's check): filled and sent after loading ``path``.
    then: Callable[[Any, dict[str, Any]], None] | None = None


# --- the records the pages show ---------------------------------------------------------------


def _public_jwk() -> dict[str, str]:
    from registry.lib.signing import generate_private_key, public_jwk

    jwk = public_jwk(generate_private_key())
    del jwk["kid"]
    return jwk


# What the people of the world wrote themselves: names, and a maintainer's English guideline. On an
# Indonesian page these stay as written (as do ids), so the English checks leave them out.
GUIDELINE_BODY = "# Using this tool\n\nOnly with the consent of every person shown.\n"
CLAUSES = {
    "consent-of-everyone": "Get the consent of every person whose face you use.",
    "no-minors": "Never use it on children.",
}
CHANGED_CLAUSE = "Get the written consent of every person shown."
AS_WRITTEN = (
    "Using this tool",
    "Only with the consent of every person shown.",
    *CLAUSES.values(),
    CHANGED_CLAUSE,
    "How to use Open FaceSwap.",
    "Layar Emas Pictures",
    "Open FaceSwap",
    "Fair swap",
    "Render farm",
)


def build_world() -> dict[str, Any]:
    """Everything the pages need to show something real, made through the services."""
    from consent import services
    from consent.rules.decision import UseQuery
    from consent.services import releases
    from consent.verification import Check, verification_run
    from guidelines import services as guidelines
    from registry.accounts.models import User
    from registry.accounts.presence import Presence
    from registry.accounts.services import api_key_create, organization_create
    from registry.events.services import webhook_create

    now = timezone.now()
    today = now.date()
    present = Presence(authenticated_at=now, second_factor=False, method="password")

    # Passwords are never typed here (sessions are made directly): no hashing cost.
    owner = User.objects.create_user("rina@layar-emas.example", None)
    performer = User.objects.create_user("sari@example.org", None)
    maintainer = User.objects.create_user("dewi@example.org", None)

    studio = organization_create(creator=owner, name="Layar Emas Pictures", slug="layar-emas", kind="studio")
    subject = services.subject_create(creator=performer, display_name="Sari Pemeran", status="living")
    child = services.subject_create(
        creator=performer, display_name="Putri", status="minor", adult_on=today + timedelta(days=3000)
    )

    def consent(who: Any, **terms: Any) -> Any:
        body = {
            "effect": "permit",
            "grantee": studio.public_id,
            "production": "Sang Penari",
            "media": ["face", "voice"],
            "activities": ["generate", "alter"],
            "purposes": ["film_tv", "advertising"],
            "intended_use": "Adegan baru untuk film Sang Penari yang diambil di Jakarta",
            "territories": ["ID", "TL"],
            "valid_from": today,
            "valid_until": today + timedelta(days=730),
            "conditions": {"attribution_required": True, "approval_required": True},
            "revocation": {"policy": "anytime"},
            "representation": "counsel",
            **terms,
        }
        return services.consent_create(subject=who, actor=performer, terms=body)

    signed = services.consent_sign(
        consent=consent(subject), actor=performer, method="witnessed", witness=present, language="id"
    )
    revoked = services.consent_sign(
        consent=consent(subject, effect="deny", grantee="*", conditions={}),
        actor=performer,
        method="witnessed",
        witness=present,
        language="id",
    )
    services.consent_revoke(consent=revoked, actor=performer, reason="", witness=present)
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
    # A name under .example never resolves: the webhook is accepted without any network.
    hook = webhook_create(
        organization=studio,
        actor_role="owner",
        url="https://hooks.layar-emas.example/restu",
        events=["consent.revoked"],
        description="Pemberitahuan pencabutan",
    )
    api_key_create(organization=studio, creator=owner, actor_role="owner", name="Render farm", presence=present)

    project = organization_create(creator=maintainer, name="Open FaceSwap", slug="open-faceswap", kind="project")
    clauses: list[dict[str, Any]] = [
        {
            "key": "consent-of-everyone",
            "kind": "must",
            "text": CLAUSES["consent-of-everyone"],
            "evidence": ["consent_token_check"],
        },
        {"key": "no-minors", "kind": "must_not", "text": CLAUSES["no-minors"]},
    ]
    translations = {
        "id": {
            "body": "# Memakai alat ini\n\nHanya dengan persetujuan setiap orang yang tampil.\n",
            "clauses": {
                "consent-of-everyone": "Dapatkan persetujuan setiap orang yang wajahnya Anda pakai.",
                "no-minors": "Jangan pernah memakainya pada anak di bawah umur.",
            },
        }
    }
    content: dict[str, Any] = {
        "language": "en",
        "body": GUIDELINE_BODY,
        "clauses": clauses,
        "translations": translations,
    }
    first = guidelines.guideline_start(
        organization=project,
        actor_role="owner",
        actor=maintainer,
        slug="fair-swap",
        title="Fair swap",
        summary="How to use Open FaceSwap.",
        version="1.0.0",
        **content,
    )
    guidelines.guideline_version_publish(version=first, actor_role="owner")
    second = guidelines.guideline_version_create(
        guideline=first.guideline,
        actor_role="owner",
        actor=maintainer,
        version="1.1.0",
        **{**content, "clauses": [{**clauses[0], "text": CHANGED_CLAUSE}, clauses[1]]},
    )
    guidelines.project_key_add(
        organization=project, actor_role="owner", actor=maintainer, public_jwk=_public_jwk(), presence=present
    )
    guidelines.control_proof_create(organization=project, actor_role="owner", kind="domain", target="faceswap.example")

    return {
        "users": {"performer": performer, "studio": owner, "maintainer": maintainer, "public": None},
        "subject": subject,
        "child": child,
        "signed": signed,
        "revoked": revoked,
        "draft": draft,
        "studio": studio,
        "release": release,
        "hook": hook,
        "project": project,
        "guideline": first.guideline,
        "published": first,
        "next": second,
    }


def _check_answer(page: Any, world: dict[str, Any]) -> None:
    """The studio's check page with an answer on it (the answer is what a studio reads most)."""
    page.locator("input[name=subject]").fill(world["subject"].public_id)
    page.locator("input[name=medium][value=face]").check()
    page.locator("input[name=purpose][value=film_tv]").check()
    page.locator("input[name=production]").fill("Sang Penari")
    page.locator("main form button[type=submit]").last.click()
    page.locator("#answer").wait_for()


def site_pages(world: dict[str, Any]) -> list[SitePage]:
    """Every page of each audience, by URL name."""
    subject, child, studio, project = world["subject"], world["child"], world["studio"], world["project"]
    slug, guideline = studio.slug, world["guideline"].slug

    def consent_page(audience: str, name: str, url: str, consent: Any) -> SitePage:
        return SitePage(audience, name, reverse(url, kwargs={"consent_id": consent.public_id}))

    def studio_page(name: str, url: str, **kwargs: str) -> SitePage:
        return SitePage("studio", name, reverse(url, kwargs={"org_slug": slug, **kwargs}))

    def project_page(name: str, url: str) -> SitePage:
        return SitePage("maintainer", name, reverse(url, kwargs={"org_slug": project.slug}))

    return [
        SitePage("public", "home", reverse("home")),
        SitePage("public", "check a file", reverse("provenance:check-file")),
        SitePage("public", "sign in", reverse("account_login")),
        SitePage("public", "sign up", reverse("account_signup")),
        SitePage("public", "password reset", reverse("account_reset_password")),
        SitePage("public", "guidelines", reverse("guidelines:catalogue")),
        SitePage("public", "guideline", reverse("guidelines:detail", kwargs={"slug": guideline})),
        SitePage("performer", "my consents", reverse("consent:my-consents")),
        SitePage("performer", "onboarding", reverse("consent:onboarding")),
        SitePage("performer", "consent form", reverse("consent:consent-new", kwargs={"subject_id": subject.public_id})),
        SitePage(
            "performer", "consent form (child)", reverse("consent:consent-new", kwargs={"subject_id": child.public_id})
        ),
        consent_page("performer", "review (signed)", "consent:consent-review", world["signed"]),
        consent_page("performer", "review (revoked)", "consent:consent-review", world["revoked"]),
        consent_page("performer", "review (draft)", "consent:consent-review", world["draft"]),
        consent_page("performer", "revoke", "consent:consent-revoke", world["signed"]),
        consent_page("performer", "history", "consent:consent-history", world["signed"]),
        SitePage("performer", "access log", reverse("consent:access-log", kwargs={"subject_id": subject.public_id})),
        SitePage("performer", "erase", reverse("consent:erase")),
        SitePage("performer", "account", reverse("account_email")),
        SitePage("studio", "dashboard", reverse("consent:studio-dashboard")),
        studio_page("check", "consent:studio-check"),
        SitePage("studio", "check answer", reverse("consent:studio-check", kwargs={"org_slug": slug}), _check_answer),
        studio_page("releases", "consent:studio-releases"),
        studio_page("new release", "consent:studio-release-new"),
        studio_page("release report", "consent:studio-release", release_id=world["release"].public_id),
        studio_page("webhooks", "consent:studio-webhooks"),
        studio_page("webhook", "consent:studio-webhook", webhook_id=world["hook"].public_id),
        studio_page("API keys", "consent:studio-api-keys"),
        SitePage("maintainer", "new project", reverse("guidelines:project-new")),
        project_page("project", "guidelines:project"),
        project_page("signing keys", "guidelines:keys"),
        project_page("proofs", "guidelines:proofs"),
        project_page("new guideline", "guidelines:new"),
        SitePage("maintainer", "new version", reverse("guidelines:version-new", kwargs={"slug": guideline})),
        SitePage(
            "maintainer",
            "edit draft",
            reverse("guidelines:version-edit", kwargs={"slug": guideline, "version": world["next"].version}),
        ),
        SitePage(
            "maintainer",
            "review draft",
            reverse("guidelines:publish", kwargs={"slug": guideline, "version": world["next"].version}),
        ),
        SitePage(
            "maintainer",
            "diff",
            reverse("guidelines:diff", kwargs={"slug": guideline}) + "?from=1.0.0&to=1.1.0",
        ),
    ]


# --- the browser -----------------------------------------------------------------------------


def sign_in(context: Any, base_url: str, user: Any, language: str) -> None:
    """The browser context gets the person's session (none for ``None``) and the language cookie, as
    after signing in; every browser test signs people in through it."""
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language}]
    if user is not None:
        client = Client()
        client.force_login(user)
        cookies.append(
            {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
        )
    context.add_cookies([{**cookie, "url": base_url} for cookie in cookies])


def visit(browser: Any, base_url: str, world: dict[str, Any], language: str) -> Iterator[tuple[SitePage, Any]]:
    """Each page loaded (at the widest width), in one browser context per audience; the page object is reused."""
    pages = site_pages(world)
    for audience in ("public", "performer", "studio", "maintainer"):
        context = browser.new_context(viewport=WIDTHS[max(WIDTHS)])
        try:
            sign_in(context, base_url, world["users"][audience], language)
            page = context.new_page()
            for site_page in (p for p in pages if p.audience == audience):
                page.set_viewport_size(WIDTHS[max(WIDTHS)])
                response = page.goto(base_url + site_page.path, wait_until="load")
                # A redirect or an error page would make every later assertion vacuous.
                status = response.status if response is not None else None
                assert status == 200, f"{site_page.name} ({site_page.path}) answered {status}"
                assert page.url.split("?")[0] == (base_url + site_page.path).split("?")[0], (
                    f"{site_page.name} ({site_page.path}) went to {page.url}"
                )
                if site_page.then is not None:
                    site_page.then(page, world)
                lang = page.evaluate("() => document.documentElement.lang")
                assert lang == language, f"{site_page.name} is in {lang!r}, not {language!r}"
                yield site_page, page
        finally:
            context.close()


# --- in the page -----------------------------------------------------------------------------

# The widths that matter, and what sticks out on the right, named so that a failure says where to look.
MEASURE = r"""() => {
  const width = window.innerWidth;
  const name = (el) => {
    const classes = typeof el.className === "string" ? el.className.trim().split(/\s+/) : [];
    const id = el.id ? "#" + el.id : "";
    return [el.tagName.toLowerCase() + id, ...classes.filter(Boolean)].join(".");
  };
  const right = (el) => el.getBoundingClientRect().right;
  const sticking = [...document.querySelectorAll("body *")].filter((el) => right(el) > width + 0.5);
  // The outermost element that sticks out says where to look; the innermost ones, what is too wide.
  const outermost = sticking.filter((el) => !sticking.some((other) => other !== el && other.contains(el)));
  const innermost = sticking.filter((el) => !sticking.some((other) => other !== el && el.contains(other)));
  return {
    scroll: document.documentElement.scrollWidth,
    inner: width,
    wide: [...new Set([...outermost.slice(0, 3), ...innermost.slice(0, 5)])].map(
      (el) => `${name(el)} (right edge ${Math.round(right(el))} px)`,
    ),
    // The value attribute is what the server wrote; the property what the browser kept of it
    // (a date it cannot read, such as 06-12-2026, becomes an empty field).
    dates: [...document.querySelectorAll('input[type="date"]')].map((el) => [
      el.name || el.id, el.getAttribute("value") || "", el.value,
    ]),
    text: document.body.innerText,
    code: [...document.querySelectorAll("pre, code, kbd, samp")].map((el) => el.innerText),
  };
}"""

AXE_RUN = r"""async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(" "), html: n.html.slice(0, 160), summary: n.failureSummary,
      })),
    }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe-core findings of the page as it is now.

    axe is evaluated through the DevTools protocol, which the page's Content-Security-Policy
    (script-src 'self') does not govern; ``add_script_tag`` would insert an inline script the
    policy refuses.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return violations


@dataclass
class Walked:
    audience: str
    name: str
    path: str
    axe: list[dict[str, Any]]
    scroll: int
    inner: int
    wide: list[str]
    dates: list[list[str]]  # name, value attribute, value property
    text: str
    code: list[str]

    @property
    def where(self) -> str:
        return f"{self.audience} / {self.name} ({self.path})"


_WALKS: dict[str, dict[int, list[Walked]]] = {}


def walked(browser: Any, base_url: str, world: Callable[[], dict[str, Any]], language: str, width: int) -> list[Walked]:
    """What every page showed in ``language`` at ``width`` px.

    Each language is walked once per test session: each page is loaded once, measured and checked
    at 1280 px, then narrowed to 390 px and measured and checked again (the layout follows the
    window, as when a person turns a tablet or narrows the window).
    """
    if language not in _WALKS:
        records: dict[int, list[Walked]] = {size: [] for size in WIDTHS}
        for site_page, page in visit(browser, base_url, world(), language):
            # What a person sees after opening every "Technical details" and the like counts too.
            page.evaluate("() => document.querySelectorAll('details').forEach((el) => { el.open = true; })")
            for size in sorted(WIDTHS, reverse=True):
                page.set_viewport_size(WIDTHS[size])
                measured = page.evaluate(MEASURE)
                # Without node_modules the page walk still runs; the accessibility test refuses to.
                axe = axe_violations(page) if AXE.exists() else []
                records[size].append(Walked(site_page.audience, site_page.name, site_page.path, axe=axe, **measured))
        _WALKS[language] = records
    return _WALKS[language][width]


# --- the catalogues --------------------------------------------------------------------------


def _po_string(chunks: list[str]) -> str:
    return "".join(ast.literal_eval(chunk) for chunk in chunks)


def read_po(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file: msgid, msgstr (the first form for plurals) and whether fuzzy.

    A small reader (polib is not a dependency): the catalogue is machine-written by makemessages.
    """
    entries: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    field = None

    def finish() -> None:
        if "msgid" in current:
            entries.append(
                {
                    "msgid": _po_string(current["msgid"]),
                    "msgid_plural": _po_string(current.get("msgid_plural", [])),
                    "msgstr": _po_string(current.get("msgstr", current.get("msgstr[0]", []))),
                    "fuzzy": current.get("fuzzy", False),
                    "obsolete": current.get("obsolete", False),
                }
            )

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#~"):
            current["obsolete"] = True
            continue
        if not line:
            finish()
            current, field = {}, None
            continue
        if line.startswith("#,"):
            current["fuzzy"] = "fuzzy" in line
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
        if match:
            field = match.group(1)
            current[field] = [match.group(2)]
        elif line.startswith('"') and field:
            current[field].append(line)
    finish()
    return [entry for entry in entries if entry["msgid"] and not entry["obsolete"]]


def _visible_form(text: str) -> str:
    """A catalogue string as a browser shows it: no tags, entities decoded, spaces collapsed."""
    import html

    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


# Placeholders of Python and Django formatting, where a name, number or date goes.
_PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif]|\{[^}]*\}")


def catalogues() -> list[Path]:
    """The project's Indonesian catalogues: the project-wide one and each app's."""
    return [ROOT / "locale/id/LC_MESSAGES/django.po", *sorted(ROOT.glob("*/locale/id/LC_MESSAGES/django.po"))]


# Where the project's own user-facing strings are written (what makemessages reads).
SOURCE_FOLDERS = ("consent", "guidelines", "provenance", "registry", "templates")
_GETTEXT_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
_TRANSLATE_TAG = re.compile(r"""{%\s*trans(?:late)?\s+("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_BLOCK_TAG = re.compile(r"{%\s*blocktrans(?:late)?\b[^%]*%}(.*?){%\s*endblocktrans(?:late)?\s*%}", re.DOTALL)


def sources() -> list[Path]:
    """The project's templates and Python modules (not its migrations)."""
    found = []
    for folder in SOURCE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".html", ".txt") and "migrations" not in path.parts:
                found.append(path)
    return found


def source_msgids(paths: list[Path]) -> set[str]:
    """The strings the code marks for translation: ``{% translate %}``, ``{% blocktranslate %}``
    and gettext calls. A string marked but missing from the catalogue shows in English."""
    found: set[str] = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            for node in ast.walk(ast.parse(text)):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name not in _GETTEXT_CALLS:
                    continue
                arguments = node.args[1:] if name.startswith(("pgettext", "npgettext")) else node.args
                found.update(a.value for a in arguments if isinstance(a, ast.Constant) and isinstance(a.value, str))
            continue
        for match in _TRANSLATE_TAG.finditer(text):
            found.add(ast.literal_eval(match.group(1)))
        for match in _BLOCK_TAG.finditer(text):
            for form in re.split(r"{%\s*plural\s*%}", match.group(1)):
                found.add(re.sub(r"{{\s*([\w.]+)\s*}}", r"%(\1)s", form))
    return {msgid for msgid in found if msgid.strip()}


@dataclass(frozen=True)
class English:
    """An English string that must not show on an Indonesian page, and how to find it."""

    text: str
    pattern: re.Pattern[str]
    whole_line: bool  # one word: only a line of its own (a button, a heading) counts


def english_patterns(paths: list[Path] | None = None, code: list[Path] | None = None) -> list[English]:
    """Every English string of the project whose Indonesian differs or is missing.

    Seen on an Indonesian page, it is an untranslated string. The project's .po files are read, not
    the compiled catalogue, so that an entry left fuzzy or empty (which Django shows in English) is
    caught too, and so are the strings the code marks that the catalogue does not have yet. A
    string that is the same words in Indonesian in any of its uses ("Email", "Status"; "Bahasa
    Indonesia", a sentence's "bahasa Indonesia") is no English leak, nor is a language's own name.
    """
    same: set[str] = {str(name).casefold() for _, name in settings.LANGUAGES}
    english: set[str] = set()
    for path in catalogues() if paths is None else paths:
        for entry in read_po(path):
            translated = entry["msgstr"] and not entry["fuzzy"]
            for msgid in filter(None, (entry["msgid"], entry["msgid_plural"])):
                visible = _visible_form(msgid)
                english.add(visible)
                if translated and _visible_form(entry["msgstr"]).casefold() == visible.casefold():
                    same.add(visible.casefold())
    english.update(_visible_form(msgid) for msgid in source_msgids(sources() if code is None else code))
    patterns = []
    for visible in sorted(english):
        if visible.casefold() in same:
            continue
        pieces = [piece.strip() for piece in _PLACEHOLDER.split(visible) if piece.strip()]
        words = " ".join(pieces).split()
        if not any(re.search(r"[A-Za-z]{2}", word) for word in words):
            continue
        if len(words) == 1 and len(pieces) == 1 and pieces[0] == visible:
            # A single word may be part of a name or an id: only a line of its own counts.
            pattern = re.compile(r"^" + re.escape(visible) + r"$", re.MULTILINE)
            patterns.append(English(visible, pattern, whole_line=True))
        elif len(words) >= 2:
            regex = r"(?<![\w-])" + r"\s*.{1,80}?\s*".join(map(re.escape, pieces)) + r"(?![\w-])"
            patterns.append(English(visible, re.compile(regex), whole_line=False))
    return patterns


def english_on(text: str, patterns: list[English]) -> list[str]:
    """The project's English strings found in a page's visible text."""
    flat = re.sub(r"\s+", " ", text)
    lines = "\n".join(line.strip() for line in text.splitlines())
    return [english.text for english in patterns if english.pattern.search(lines if english.whole_line else flat)]


# English words that are never Indonesian: a line with them reads as English. Words that are
# (or abbreviate) something in Indonesian are left out: "a", "as" (AS, the United States), "no" (No.).
ENGLISH_WORDS = frozenset(
    " ".join(
        [
            "the and you your with this that these those are is was were not for of to from by on in it its",
            "be been can will would may must has have who what which when where why how they their them we",
            "our all any every only than then there here also into about",
        ]
    ).split()
)
# Punctuation around a word, typographic quotes, ellipsis and dashes too.
_EDGES = ".,:;!?()[]{}\"'\u201c\u201d\u2018\u2019\u2026\u2014\u2013-"


def english_lines(text: str, code: list[str], as_written: tuple[str, ...] = AS_WRITTEN) -> list[str]:
    """Lines of a page's visible text that read as English: two English function words, or one in
    a short line ("Your Restu id", "Discard this draft"). Code, names and what people wrote
    themselves are left out; identifiers never count (they are not words)."""
    code_lines = {line.strip() for block in code for line in block.splitlines()}
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line in code_lines:
            continue
        prose = line
        for written in as_written:
            prose = prose.replace(written, " ")
        words = [token.strip(_EDGES) for token in prose.split()]
        words = [word for word in words if word.isalpha()]
        english = {word.lower() for word in words if not word.isupper() and word.lower() in ENGLISH_WORDS}
        if len(english) >= 2 or (english and len(words) <= 4):
            found.append(line)
    return found
