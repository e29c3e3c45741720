"""Web security of the site (issue 7, item 5): CSRF, CSP, cookies and HSTS, rate limits, secrets, uploads.

The pages come from the URL configuration itself, as in the authorization matrix: a new page is
checked (CSRF, CSP, inline code, form tokens) without anyone listing it here, and a page that
cannot be checked (it answers JSON, or only POST) must be named in an exemption table with the
reason. Data: the security ``World`` (this folder's conftest): ``owner`` owns the studio and the
project, ``rep`` represents a person with an active consent, a draft and a revoked one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.views.debug import ExceptionReporter

from consent.api.views.releases import ReleaseIn
from consent.models import AccessLogEntry, Release
from consent.pages.studio_forms import CSV_MAX_BYTES, CSV_MAX_ROWS
from registry.accounts.models import ApiKey, Invitation, User
from registry.accounts.services import member_invite
from tests.database_state import database_snapshot
from tests.security.routes import all_routes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
UNSAFE = ("post", "put", "patch", "delete")


# --- the routes, from the URL configuration -------------------------------------------------------


# The JSON API: bearer keys and X-Session-Token, covered by the authorization matrix and the fuzz
# tests. Its one HTML page (the Swagger UI) is a page like any other here.
API_PREFIX = "/api/v1/"
API_PAGES = {"/api/v1/docs/"}
# Django's admin: Django's own templates, staff only, dozens of generated routes per model. Its
# entrance and index are checked in test_the_admin_entrance_has_the_same_headers_and_no_inline_code.
ADMIN_PREFIX = "/admin/"


def page_routes() -> list[tuple[str, Any]]:
    """Every route a browser visits: all but the JSON API (except its docs page) and the admin."""
    return [
        (route, callback)
        for route, callback in all_routes()
        if (not route.startswith(API_PREFIX) or route in API_PAGES) and not route.startswith(ADMIN_PREFIX)
    ]


# Routes that no viewer sees as a 200 HTML page, and why. Every other page route must render for
# at least one of the viewers below (so its forms, scripts and headers are looked at).
NOT_HTML_PAGES: dict[str, str] = {
    "/health": "JSON for the load balancer",
    "/.well-known/jwks.json": "JSON key set",
    "/jsi18n/": "JavaScript translation catalogue (served as a file, with the same headers)",
    "/i18n/setlang/": "POST-only language switch; a GET just redirects",
    "/me/export/": "a JSON download of the person's data",
    "/me/consents/{consent_id}/sign/": "POST only (405 on GET)",
    "/studios/{org_slug}/releases/{release_id}/recheck/": "POST only (405 on GET)",
    "/studios/{org_slug}/webhooks/{webhook_id}/toggle/": "POST only (405 on GET)",
    "/studios/{org_slug}/webhooks/{webhook_id}/rotate/": "POST only (405 on GET)",
    "/studios/{org_slug}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/": "POST only (405 on GET)",
    "/accounts/2fa/recovery-codes/download/": "a text file of recovery codes",
    "/accounts/login/code/confirm/": "login by emailed code is not enabled: no pending code, so a redirect",
    "/accounts/password/set/": "every viewer has a password already: redirects to the change form",
}
# allauth's headless API (JSON). Browser-client routes are CSRF-protected like pages and are in
# the CSRF test; these answer JSON only, so they have no HTML to inspect.
HEADLESS_PREFIX = "/_allauth/"

# Views that accept a POST without a CSRF token, and why that is safe.
CSRF_EXEMPT: dict[str, str] = {
    # allauth headless "app" clients authenticate with the X-Session-Token header, never with a
    # cookie, so a cross-site form cannot ride someone's session (proved in
    # test_headless_app_routes_ignore_the_session_cookie). The "browser" client uses the cookie and
    # is CSRF-protected.
    "/_allauth/app/v1/": "app client: X-Session-Token header only, no cookie",
}


def _csrf_exempt_reason(route: str) -> str | None:
    return next((why for prefix, why in CSRF_EXEMPT.items() if route.startswith(prefix)), None)


# --- the viewers ----------------------------------------------------------------------------------


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def fresh(person: User) -> User:
    # The world's objects are shared by the module's tests, whose writes are rolled back: always
    # work on the row as it is now, so a password set by an earlier test does not linger in memory.
    return User.objects.get(pk=person.pk)


def _password_login(person: User) -> Client:
    """Signed in through the login page with the password, then reauthenticated, as a person would."""
    person = fresh(person)
    person.set_password(PASSWORD)
    person.save(update_fields=["password"])
    client = Client()
    assert client.post("/accounts/login/", {"login": person.email, "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


def _strict_and_fresh(person: User) -> Client:
    """A browser that checks CSRF tokens, signed in with the password and re-authenticated just now:
    a fresh proof of presence, so that only the CSRF token can stand in the way of what it sends."""
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = _password_login(person).cookies
    return strict


def _invitation(w: Any) -> tuple[str, str]:
    """A pending invitation to the studio for ``rep`` (whose address is verified, so the page shows
    it to them): its id and the token of its emailed link.

    The token exists only in the email, sent once the invitation commits: run that callback here.
    Made once per test (the test's writes are rolled back afterwards)."""
    from allauth.account.models import EmailAddress

    made = getattr(w, "web_invitation", None)
    if made is not None and Invitation.objects.filter(public_id=made[0], cancelled_at__isnull=True).exists():
        return made
    rep = w.users["rep"]
    EmailAddress.objects.get_or_create(user=rep, email=rep.email, defaults={"verified": True, "primary": True})
    with TestCase.captureOnCommitCallbacks(execute=True):
        invitation = member_invite(
            organization=w.studio,
            actor=w.users["owner"],
            actor_role="owner",
            email=rep.email,
            role="member",
            presence=None,
        )
    link = re.search(r"/invitations/([^/\s]+)/", mail.outbox[-1].body)
    assert link is not None, mail.outbox[-1].body
    w.web_invitation = (invitation.public_id, link.group(1))
    return w.web_invitation


def _totp_user(email: str) -> tuple[User, str]:
    person = User.objects.create_user(email, PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(person, secret)
    RecoveryCodes.activate(person)
    return person, secret


def _recovery_code(person: User) -> str:
    authenticator = Authenticator.objects.get(user=person, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()[0]


@pytest.fixture
def viewers(authz_world: Any) -> dict[str, Client]:
    w = authz_world
    mfa_user, secret = _totp_user("two-factor@security.example")
    mfa = Client()
    assert mfa.post("/accounts/login/", {"login": mfa_user.email, "password": PASSWORD}).status_code == 302
    assert mfa.post("/accounts/2fa/authenticate/", {"code": _code(secret)}).status_code == 302
    # The two-factor pages ask for the second factor again; a recovery code is a fresh one.
    assert mfa.post("/accounts/2fa/reauthenticate/", {"code": _recovery_code(mfa_user)}).status_code == 302
    pending_user, _secret = _totp_user("half-signed-in@security.example")
    pending = Client()
    # Password accepted, the second factor not yet given: the two-factor step's page.
    assert pending.post("/accounts/login/", {"login": pending_user.email, "password": PASSWORD}).status_code == 302
    return {
        "anon": Client(),
        "owner": _password_login(w.users["owner"]),
        "rep": _password_login(w.users["rep"]),
        "mfa": mfa,
        "mfa_pending": pending,
    }


def _candidates(w: Any) -> dict[str, list[str]]:
    """Real values for each path parameter (every combination is visited)."""
    invitation_id, invitation_token = _invitation(w)
    return {
        # An invitation's emailed link (a page), and its id (the API's accept).
        "token": [invitation_token],
        "invitation_id": [invitation_id],
        "check_id": ["chk_unknown"],
        "origin_hash": ["0" * 64],
        "slug": [w.guideline.slug],
        "version": [w.published.version, w.draft_version.version],
        "org_slug": [w.studio.slug, w.project.slug],
        "consent_id": [w.consent.public_id, w.draft.public_id, w.withdrawn.public_id],
        "subject_id": [w.subject.public_id],
        "release_id": [w.release.public_id],
        "webhook_id": [w.webhook.public_id],
        "delivery_id": [w.delivery.public_id],
        "key_id": [w.target_key.public_id],
        # allauth's links from emails: an invalid one still renders its explanation page.
        "key": ["not-a-real-key"],
        "uidb36": ["zz"],
        # The API's (for the CSRF test of cookie-authenticated calls).
        "org_id": [w.studio.public_id],
        "user_id": [w.member2.public_id],
        "kid": [w.project_key.kid],
        "proof_id": [w.proof.public_id],
        "attestation_id": [w.attestation.public_id],
        "rep_id": [w.agent.public_id],
        "vouch_id": [w.vouch.public_id],
        "event_id": [w.revocation_event.public_id],
        "index": ["0"],
        "level": ["0"],
        "index_path": ["000"],
        "width": ["1"],
    }


def paths_of(route: str, w: Any) -> list[str]:
    names = re.findall(r"{(\w+)}", route)
    candidates = _candidates(w)
    unknown = [name for name in names if name not in candidates]
    assert not unknown, f"{route}: add real values for {unknown} to _candidates() in {Path(__file__).name}"
    paths = []
    for values in itertools.product(*(candidates[name] for name in names)):
        path = route
        for name, value in zip(names, values, strict=True):
            path = path.replace("{" + name + "}", value)
        paths.append(path)
    return paths


# --- what a page may contain ----------------------------------------------------------------------


class PageParser(HTMLParser):
    """Inline scripts, event-handler attributes, javascript: URLs and the POST forms of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.post_forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._data_block: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}> javascript: URL")
        if tag == "script" and not named.get("src"):
            if named.get("type") == "application/json":
                # A data block (allauth passes its settings this way): browsers never run it, and
                # it must really be JSON, so nothing executable hides behind the type.
                self._data_block = []
            else:
                self.problems.append(f"inline <script {named}>")
        if tag == "form":
            self._form = {"method": (named.get("method") or "get").lower(), "action": named.get("action"), "csrf": 0}
            if self._form["method"] == "post":
                self.post_forms.append(self._form)
        token = named.get("name") == "csrfmiddlewaretoken" and named.get("type") == "hidden" and named.get("value")
        if tag == "input" and self._form is not None and token:
            self._form["csrf"] += 1

    def handle_data(self, data: str) -> None:
        if self._data_block is not None:
            self._data_block.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "script" and self._data_block is not None:
            try:
                json.loads("".join(self._data_block))
            except ValueError:
                self.problems.append("a <script type=application/json> block that is not JSON")
            self._data_block = None


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = [w.lower() for w in words[1:]]
    return out


def csp_problems(response: Any) -> list[str]:
    """What is missing or weak in the response's Content-Security-Policy and framing headers."""
    problems = []
    header = response.headers.get("Content-Security-Policy")
    if not header:
        return ["no Content-Security-Policy header"]
    csp = _directives(header)
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None:
        problems.append("neither script-src nor default-src")
    else:
        weak = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"}
        problems += [f"script-src allows {source}" for source in scripts if source in weak]
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {csp.get('frame-ancestors')}, not 'none'")
    if csp.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if csp.get("base-uri") not in (["'none'"], ["'self'"]):
        problems.append("base-uri is not restricted")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options is {response.headers.get('X-Frame-Options')!r}, not DENY")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    return problems


def _is_html(response: Any) -> bool:
    return response.headers.get("Content-Type", "").startswith("text/html")


# --- 2. CSP and no inline code, on every page; 1b. a token in every POST form ----------------------


@dataclass
class Visit:
    route: str
    path: str
    viewer: str
    status: int
    html: bool
    problems: list[str]
    post_forms: list[dict[str, Any]]


@pytest.fixture
def visits(authz_world: Any, viewers: dict[str, Client]) -> list[Visit]:
    """Every page route, every combination of real parameters, as every viewer."""
    found = []
    for route, _callback in page_routes():
        if route.startswith(HEADLESS_PREFIX):
            continue
        for path in paths_of(route, authz_world):
            for name, client in viewers.items():
                response = client.get(path)
                problems = csp_problems(response)
                parser = PageParser()
                if _is_html(response):
                    parser.feed(response.content.decode())
                    problems += parser.problems
                found.append(
                    Visit(route, path, name, response.status_code, _is_html(response), problems, parser.post_forms)
                )
    return found


def test_every_page_has_a_strict_csp_and_no_inline_code(visits: list[Visit]) -> None:
    bad = [f"{v.path} as {v.viewer} ({v.status}): {p}" for v in visits for p in v.problems]
    assert not bad, "\n".join(bad)


def test_every_page_route_renders_for_someone(visits: list[Visit]) -> None:
    # Without this, a page that 404s for every viewer would pass the checks above unseen.
    rendered = {v.route for v in visits if v.status == 200 and v.html}
    routes = {v.route for v in visits}
    unseen = sorted(routes - rendered - set(NOT_HTML_PAGES))
    assert not unseen, (
        "These pages rendered for no viewer, so their HTML was never checked. Give their parameters "
        f"real values, or add them to NOT_HTML_PAGES with the reason: {unseen}"
    )
    stale = sorted(set(NOT_HTML_PAGES) - routes)
    assert not stale, f"NOT_HTML_PAGES names routes the URL configuration no longer serves: {stale}"
    wrongly_exempt = sorted(set(NOT_HTML_PAGES) & rendered)
    assert not wrongly_exempt, f"These render as HTML after all; remove them from NOT_HTML_PAGES: {wrongly_exempt}"


def test_every_post_form_carries_a_csrf_token(visits: list[Visit]) -> None:
    forms = [(v, form) for v in visits if v.status == 200 for form in v.post_forms]
    missing = [f"{v.path} as {v.viewer}: form to {form['action']}" for v, form in forms if form["csrf"] != 1]
    assert not missing, "\n".join(missing)
    # The pages were really looked at: the sign-out and language forms alone are on every page.
    assert len(forms) > 200
    assert len({v.route for v, _form in forms}) > 30


# --- 1. CSRF: a POST without the token is refused before anything is written ---------------------


# A body that would change something on most pages if the token were not checked.
HOSTILE_FORM = {
    "name": "Sneaky",
    "title": "Sneaky release",
    "url": "https://evil.example/hook",
    "events": "consent.revoked",
    "email": "attacker@evil.example",
    "password": PASSWORD,
    "reason": "forged",
    "confirm": "yes",
    "language": "id",
    "display_name": "Forged",
}


def _methods(callback: Any, api: bool) -> list[str]:
    """The unsafe methods to forge: those an API view serves; POST (what a form sends) for pages,
    which the CSRF middleware must refuse before the view is even asked."""
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ["post"]
    served = [m for m in UNSAFE if m in view.http_method_names and callable(getattr(view, m, None))]
    return served if api else served or ["post"]


def _is_csrf_refusal(response: Any) -> bool:
    body = response.content.decode(errors="replace")
    # Our CSRF failure view: a problem document naming CSRF under /api/, a plain-words page elsewhere.
    return response.status_code == 403 and ("CSRF" in body or "The form has expired" in body)


def test_every_unsafe_request_without_a_csrf_token_is_refused(authz_world: Any) -> None:
    w = authz_world
    refused, exempt_seen = 0, set()
    for person in ("owner", "rep"):
        strict = _strict_and_fresh(w.users[person])
        for route, callback in all_routes():
            if route.startswith(ADMIN_PREFIX):
                continue
            reason = _csrf_exempt_reason(route)
            if reason:
                assert getattr(callback, "csrf_exempt", False), f"{route} is listed in CSRF_EXEMPT but checks tokens"
                exempt_seen.add(route)
                continue
            api = route.startswith(API_PREFIX) or route == "/.well-known/jwks.json"
            if api and not getattr(callback, "csrf_exempt", False):
                pytest.fail(f"{route}: an API view that is not a DRF view")
            if not api:
                assert not getattr(callback, "csrf_exempt", False), (
                    f"{route} accepts POSTs without a CSRF token; add it to CSRF_EXEMPT with the reason"
                )
            for path in paths_of(route, w):
                for method in _methods(callback, api):
                    before = database_snapshot()
                    if api:
                        body = json.dumps({"name": "Sneaky", "organization": w.studio.public_id})
                        response = getattr(strict, method)(path, body, content_type="application/json")
                    else:
                        response = getattr(strict, method)(path, HOSTILE_FORM)
                    assert database_snapshot() == before, (
                        f"{method.upper()} {path} as {person} wrote without a CSRF token"
                    )
                    if api and route in API_NO_SESSION:
                        assert response.status_code in (400, 401, 403, 404, 405), (path, response.status_code)
                        continue
                    assert _is_csrf_refusal(response), (
                        f"{method.upper()} {path} as {person}: {response.status_code}, not a CSRF refusal"
                    )
                    refused += 1
    assert exempt_seen, "the app-client headless routes are no longer found; update CSRF_EXEMPT"
    assert refused > 150


# API routes that do not read the session cookie at all (no SessionAuthentication), so a forged
# cross-site request is anonymous: refused as such, or (receipts) a public read that writes nothing.
API_NO_SESSION = {
    "/.well-known/jwks.json": "public key set, GET only",
    "/api/v1/receipts/verify": "public receipt check; writes nothing",
    "/api/v1/schema/": "GET only",
    "/api/v1/docs/": "GET only",
    # C2SP tlog-witness: reads no session or cookie; the log's signature on the checkpoint is the
    # only authentication, so a cross-site POST can do nothing a log could not do itself.
    "/api/v1/witness/add-checkpoint": "witness submission: authenticated by the log's signature only",
}


def test_the_same_form_with_its_token_is_accepted(authz_world: Any) -> None:
    """The refusal above is about the token: the page's own form, token included, does its job."""
    w = authz_world
    # Creating an API key needs a fresh proof of presence: the owner has just re-authenticated.
    strict = _strict_and_fresh(w.users["owner"])
    page = strict.get(f"/studios/{w.studio.slug}/api-keys/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    keys = ApiKey.objects.count()

    response = strict.post(
        f"/studios/{w.studio.slug}/api-keys/", {"name": "render farm", "csrfmiddlewaretoken": token.group(1)}
    )

    assert response.status_code in (200, 302)
    assert ApiKey.objects.count() == keys + 1


def test_headless_app_routes_ignore_the_session_cookie(authz_world: Any) -> None:
    """Why the app client may skip CSRF: a browser's cookie does not sign anyone in there."""
    w = authz_world
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(fresh(w.users["owner"]))
    before = database_snapshot()

    session = browser.get("/_allauth/app/v1/auth/session")
    added = browser.post(
        "/_allauth/app/v1/account/email", {"email": "attacker@evil.example"}, content_type="application/json"
    )

    assert session.status_code == 401  # not signed in, whatever the cookie says
    assert added.status_code in (401, 409)  # allauth: "not allowed in this (signed-out) state"
    assert database_snapshot() == before
    # The browser client of the same API does read the cookie, and so checks the token.
    assert browser.get("/_allauth/browser/v1/auth/session").status_code == 200
    forged = browser.post(
        "/_allauth/browser/v1/account/email", {"email": "attacker@evil.example"}, content_type="application/json"
    )
    assert _is_csrf_refusal(forged)
    assert database_snapshot() == before


def test_the_admin_entrance_has_the_same_headers_and_no_inline_code(authz_world: Any) -> None:
    staff = User.objects.create_superuser("staff@security.example", PASSWORD)
    signed_in = Client()
    signed_in.force_login(staff)
    for client, path in ((Client(), "/admin/login/"), (signed_in, "/admin/"), (signed_in, "/admin/accounts/user/")):
        response = client.get(path)
        assert response.status_code == 200, path
        parser = PageParser()
        parser.feed(response.content.decode())
        assert csp_problems(response) == [], path
        assert all(form["csrf"] == 1 for form in parser.post_forms), path
        assert parser.problems == [], path


# --- 3. Secure cookies, HSTS and framing with production settings ---------------------------------

PRODUCTION_PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "csp = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
    "print(json.dumps({name: getattr(settings, name) for name in ("
    "'DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
    "'SECURE_HSTS_PRELOAD', 'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
    "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_SAMESITE', 'X_FRAME_OPTIONS', "
    "'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY')} | {'frame_ancestors': csp['frame-ancestors']}))"
)


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The security settings as a production start-up computes them (no DEBUG, no test overrides)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DATABASE_URL", "CACHE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="registry.settings",
        SECRET_KEY="p" * 64,
        ALLOWED_HOSTS="restu.example",
        REGISTRY_DATA_DIR=str(tmp_path_factory.mktemp("production")),
    )
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_are_secure_by_default(production_settings: dict[str, Any]) -> None:
    s = production_settings
    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert s["frame_ancestors"] == ["'none'"]
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.fixture
def production(settings: Any, production_settings: dict[str, Any]) -> dict[str, Any]:
    """This process, switched to the production values above (middleware reads them per client)."""
    for name, value in production_settings.items():
        if name.isupper() and name != "DEBUG":
            setattr(settings, name, tuple(value) if isinstance(value, list) else value)
    return production_settings


def _cookie_flags(response: Any, name: str) -> dict[str, Any]:
    morsel = response.cookies[name]
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]), "samesite": morsel["samesite"]}


def test_plain_http_is_redirected_to_https(production: dict[str, Any], authz_world: Any) -> None:
    response = Client().get("/guidelines/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/guidelines/"
    assert "Strict-Transport-Security" not in response  # HSTS is only meaningful over https


def test_https_answers_carry_hsts_and_secure_cookies(production: dict[str, Any], authz_world: Any) -> None:
    owner = fresh(authz_world.users["owner"])
    owner.set_password(PASSWORD)
    owner.save(update_fields=["password"])
    client = Client(enforce_csrf_checks=True)

    page = client.get("/accounts/login/", secure=True)
    assert page.status_code == 200
    hsts = page["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains(; preload)?", hsts)
    assert int(re.match(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert csp_problems(page) == []
    assert _cookie_flags(page, "csrftoken") == {"secure": True, "httponly": False, "samesite": "Lax"}

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    signed_in = client.post(
        "/accounts/login/",
        {"login": owner.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        secure=True,
        HTTP_REFERER="https://testserver/accounts/login/",
    )
    assert signed_in.status_code == 302
    assert _cookie_flags(signed_in, "sessionid") == {"secure": True, "httponly": True, "samesite": "Lax"}


def test_behind_the_proxy_the_forwarded_scheme_counts(production: dict[str, Any], authz_world: Any) -> None:
    # TLS ends at the proxy, which says so in X-Forwarded-Proto; the app must not loop redirecting.
    response = Client().get("/guidelines/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert "Strict-Transport-Security" in response
    assert response.headers["X-Frame-Options"] == "DENY"


# --- 4. Login and two-factor rate limits ----------------------------------------------------------

TOO_MANY = "Too many failed login attempts"


@pytest.fixture
def target(authz_world: Any) -> User:
    owner = fresh(authz_world.users["owner"])
    owner.set_password(PASSWORD)
    owner.save(update_fields=["password"])
    return owner


def test_failed_logins_on_the_page_are_limited_per_email(target: User) -> None:
    client = Client()
    answers = []
    for attempt in range(10):
        response = client.post("/accounts/login/", {"login": target.email, "password": f"wrong {attempt}"})
        answers.append(response.status_code)
        if response.status_code == 429 or TOO_MANY in response.content.decode():
            break
    else:
        pytest.fail(f"ten wrong passwords for one email and still no limit: {answers}")
    assert len(answers) <= 6

    # The right password is refused too while the limit lasts: guessing cannot continue.
    response = client.post("/accounts/login/", {"login": target.email, "password": PASSWORD})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session
    # Another person's account, from elsewhere, is unaffected (the limit is per email and per IP).
    other = User.objects.create_user("bystander@security.example", PASSWORD)
    fresh = Client(REMOTE_ADDR="192.0.2.77")
    assert fresh.post("/accounts/login/", {"login": other.email, "password": PASSWORD}).status_code == 302


def test_failed_logins_from_one_address_are_limited_across_emails(authz_world: Any) -> None:
    client = Client(REMOTE_ADDR="198.51.100.9")
    for attempt in range(12):
        response = client.post(
            "/accounts/login/", {"login": f"nobody{attempt}@security.example", "password": "wrong password"}
        )
        if response.status_code == 429 or TOO_MANY in response.content.decode():
            break
    else:
        pytest.fail("twelve failed logins from one address, each for another email, and no limit")
    assert attempt <= 10


@pytest.mark.parametrize("client_kind", ["app", "browser"])
def test_failed_logins_through_headless_are_limited(target: User, client_kind: str) -> None:
    client = Client()
    url = f"/_allauth/{client_kind}/v1/auth/login"
    answers = []
    for attempt in range(10):
        response = client.post(url, {"email": target.email, "password": f"wrong {attempt}"}, "application/json")
        answers.append((response.status_code, [e.get("code") for e in response.json().get("errors", [])]))
        if response.status_code == 429 or "too_many_login_attempts" in answers[-1][1]:
            break
    else:
        pytest.fail(f"ten wrong passwords through headless and still no limit: {answers}")
    assert len(answers) <= 6
    response = client.post(url, {"email": target.email, "password": PASSWORD}, "application/json")
    assert response.status_code in (400, 429), response.content


def _pending_two_factor(client: Client, person: User) -> None:
    response = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_wrong_two_factor_codes_are_limited(authz_world: Any) -> None:
    person, secret = _totp_user("totp-guesser@security.example")
    client = Client()
    _pending_two_factor(client, person)
    answers = []
    for _attempt in range(10):
        response = client.post("/accounts/2fa/authenticate/", {"code": _wrong(_code(secret))})
        answers.append(response.status_code)
        if response.status_code == 429 or TOO_MANY in response.content.decode():
            break
    else:
        pytest.fail(f"ten wrong codes and still no limit: {answers}")
    assert len(answers) <= 6

    # The right code is refused while the limit lasts, so the six digits cannot be swept.
    response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session


def test_wrong_two_factor_codes_through_headless_are_limited(authz_world: Any) -> None:
    person, secret = _totp_user("totp-app@security.example")
    client = Client()
    login = client.post(
        "/_allauth/app/v1/auth/login", {"email": person.email, "password": PASSWORD}, "application/json"
    )
    assert login.status_code == 401  # a pending flow: the second factor is next
    token = login.json()["meta"]["session_token"]
    headers = {"HTTP_X_SESSION_TOKEN": token}
    codes = []
    for _attempt in range(10):
        response = client.post(
            "/_allauth/app/v1/auth/2fa/authenticate", {"code": _wrong(_code(secret))}, "application/json", **headers
        )
        codes.append([e.get("code") for e in response.json().get("errors", [])])
        if response.status_code == 429 or "too_many_login_attempts" in codes[-1]:
            break
    else:
        pytest.fail(f"ten wrong codes through headless and still no limit: {codes}")
    assert len(codes) <= 6
    right = client.post(
        "/_allauth/app/v1/auth/2fa/authenticate", {"code": _code(secret)}, "application/json", **headers
    )
    assert right.status_code in (400, 429)


# --- 5. Keys and tokens: compared safely, never logged --------------------------------------------


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger at DEBUG, as the console handler would write it."""
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.server", "django.security", "gunicorn.access", "restu"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _logged_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) + repr(record.__dict__) for record in caplog.records)


def _mutate_last(secret: str) -> str:
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def test_api_keys_are_checked_by_digest_and_exactly(authz_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from registry.api import authentication

    secret = authz_world.secrets["grantee_key"]
    compared: list[tuple[str, str]] = []
    original = authentication.constant_time_compare

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(authentication, "constant_time_compare", spy)

    def call(key: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            status = Client().get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {key}").status_code
        # The secret itself never reaches the database, only its digest.
        assert not any(key in q["sql"] for q in queries.captured_queries)
        return status

    assert call(secret) == 200
    assert compared, "the digest was not compared in constant time"
    assert compared[-1][0] == compared[-1][1] == hashlib.sha256(secret.encode()).hexdigest()
    assert call(_mutate_last(secret)) == 401  # one character off
    prefix, _, rest = secret.partition("_")
    assert call(f"{prefix}_{'0' * len(rest)}") == 401  # the right scheme, a wrong secret
    assert call(secret[:-1]) == 401  # a prefix of the real key
    assert call(secret + "0") == 401  # the real key and more
    assert call(authz_world.secrets["revoked_key"]) == 401
    # Stored as a digest: no column of the key's row holds the secret.
    row = ApiKey.objects.filter(pk=authz_world.grantee_key.pk).values().get()
    assert not any(secret in str(value) for value in row.values())


def test_keys_and_tokens_stay_out_of_the_logs(authz_world: Any, all_logs: pytest.LogCaptureFixture) -> None:
    w = authz_world
    secret = w.secrets["grantee_key"]
    wrong = _mutate_last(secret)
    session = Client()
    session.force_login(fresh(w.users["rep"]))
    session_token = session.session.session_key
    api = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    assert api.get("/api/v1/organizations", **bearer).status_code == 200
    assert api.get("/api/v1/organizations", HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code == 401
    # 403 and 404 with a valid key (django.request logs every 4xx as a warning); a key never reads
    # a subject (people only: 403).
    assert api.get("/api/v1/api-keys", **bearer).status_code == 403
    assert api.get(f"/api/v1/subjects/{w.subject.public_id}", **bearer).status_code == 403
    other = "x" if not w.release.public_id.endswith("x") else "y"  # never the real id (1 in 32 ended in x)
    assert api.get(f"/api/v1/releases/{w.release.public_id[:-1]}{other}", **bearer).status_code == 404
    token = api.post(
        "/api/v1/consent-tokens",
        {
            "subject": w.subject.public_id,
            "medium": "face",
            "activity": "generate",
            "purpose": "film_tv",
            "territory": "ID",
            "date": w.consent.valid_from.isoformat(),
        },
        content_type="application/json",
        **bearer,
    )
    assert token.status_code in (200, 201), token.content
    consent_token = token.json()["token"]
    assert api.get("/api/v1/consents", HTTP_X_SESSION_TOKEN=session_token).status_code == 200
    wrong = session_token[:-1] + ("x" if not session_token.endswith("x") else "y")
    assert api.get("/api/v1/consents", HTTP_X_SESSION_TOKEN=wrong).status_code == 401

    logged = _logged_text(all_logs)
    assert "Unauthorized: /api/v1/organizations" in logged  # the loggers were heard
    for value in (secret, wrong, session_token, consent_token):
        assert value not in logged


def test_a_server_error_with_a_key_logs_no_secret(
    authz_world: Any, all_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 behind a valid key: the error log and the admins' error report hide the key."""
    from registry.api import authentication

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(authentication, "api_key_touch", broken)
    secret = authz_world.secrets["grantee_key"]
    client = Client(raise_request_exception=False)

    response = client.get("/api/v1/organizations?page=1", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 500
    failures = [r for r in all_logs.records if r.exc_info]
    assert failures, "the exception was not logged"
    served = [r for r in all_logs.records if r.name == "django.request" and getattr(r, "request", None)]
    assert served, "django.request did not log the 500"
    assert secret not in _logged_text(all_logs)
    # What AdminEmailHandler would mail (with ADMINS set): Django's report, request headers included.
    report = ExceptionReporter(served[-1].request, *failures[-1].exc_info).get_traceback_text()
    assert "HTTP_AUTHORIZATION" in report
    assert secret not in report


def test_the_access_log_format_has_no_credentials() -> None:
    """gunicorn's access log (``--access-logfile -``): the request line, never the headers."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    secret = "restu_" + "s" * 43
    config = Config()
    config.set("accesslog", "-")  # as registry/run.py starts it
    access = Logger(config)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    access.access_log.addHandler(Keep())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/organizations",
        "PATH_INFO": "/api/v1/organizations",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.5",
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        "HTTP_X_SESSION_TOKEN": secret,
    }

    class Response:
        status = "200 OK"
        status_code = 200
        sent = 10
        headers = [("Content-Type", "application/json")]
        response_length = 10

    class Request:
        headers = [("AUTHORIZATION", f"Bearer {secret}"), ("X-SESSION-TOKEN", secret)]
        method = "GET"
        uri = path = "/api/v1/organizations"
        query = ""
        version = (1, 1)

    import datetime

    access.access(Response(), Request(), environ, datetime.timedelta(milliseconds=3))

    assert records, "gunicorn wrote no access record"
    assert "/api/v1/organizations" in records[0].getMessage()
    assert secret not in records[0].getMessage()


# --- 6. Uploaded CSV files ------------------------------------------------------------------------


def _release_form(**extra: Any) -> dict[str, Any]:
    return {"title": "Sang Penari", "release_date": "2031-01-01", "territories": ["ID"], **extra}


def _upload(content: str | bytes) -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile("cast.csv", data, content_type="text/csv")


@pytest.fixture
def studio_page(authz_world: Any) -> Callable[[str | bytes], Any]:
    client = Client()
    client.force_login(fresh(authz_world.users["owner"]))
    url = f"/studios/{authz_world.studio.slug}/releases/new/"

    def post(content: str | bytes) -> Any:
        return client.post(url, _release_form(appearances_csv=_upload(content)))

    return post


def _errors(response: Any) -> list[str]:
    form = response.context["form"]
    return [str(message) for messages in form.errors.values() for message in messages]


def _written() -> tuple[int, int]:
    return Release.objects.count(), AccessLogEntry.objects.count()


HEADER = "subject,media,purpose\n"


def test_the_csv_row_limit_is_the_apis(authz_world: Any) -> None:
    # A longer file could never pass the API's own check; the form says so before trying.
    assert ReleaseIn().fields["appearances"].max_length == CSV_MAX_ROWS


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x" * (CSV_MAX_BYTES + 1), "The file is larger than 1 MiB."),
        (HEADER + "".join(f"sub_{n},face,film_tv\n" for n in range(CSV_MAX_ROWS + 1)), "more than 500 rows"),
        # A list-wide error of the API's serializer (see the test body): was a 500, now a message.
        (None, "Ensure this field has no more than 500 elements."),
        ("=cmd|' /C calc'!A0,face,film_tv\n", "The first line must name the columns"),
        (HEADER + "=cmd|' /C calc'!A0,face,film_tv\n", "Line 2: a cell starts with “=”"),
        (HEADER + "sub_x,face,+SUM(1+1)\n", "Line 2: a cell starts with “+”"),
        (HEADER + "sub_x,-2+3,film_tv\n", "Line 2: a cell starts with “-”"),
        (HEADER + "@SUM(A1),face,film_tv\n", "Line 2: a cell starts with “@”"),
        (HEADER + '" =1+1",face,film_tv\n', "Line 2: a cell starts with “=”"),
        (HEADER + '"\t=1+1",face,film_tv\n', "Line 2: a cell starts with “⇥”"),
        (b"subject,media,purpose\nsub_\xe9,face,film_tv\n", "The file is not UTF-8 text."),  # latin-1
        (bytes(range(256)) * 64, "The file is not UTF-8 text."),  # binary
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "The file is not UTF-8 text."),
        (b"subject,media,purpose\nsub_\x00x,face,film_tv\n", "Null characters are not allowed."),
        ("name,role\nsari,lead\n", "The first line must name the columns subject, media and purpose."),
        ("", "The submitted file is empty."),
        (HEADER + "sub_x,face," + "a" * 200_000 + "\n", "is not a readable CSV file"),
        (HEADER + "sub_x,face,film_tv,extra\n", "Line 2 has more cells than there are columns."),
        ("subject,subject,media,purpose\nsub_x,sub_y,face,film_tv\n", "The first line must name the columns"),
    ],
    ids=[
        "over-1-MiB",
        "too-many-rows",
        "more-than-the-api-takes",
        "formula-instead-of-header",
        "formula-equals",
        "formula-plus",
        "formula-minus",
        "formula-at",
        "formula-after-space",
        "formula-after-tab",
        "latin-1",
        "binary",
        "png",
        "nul",
        "missing-headers",
        "empty-file",
        "huge-cell",
        "extra-cells",
        "duplicate-column",
    ],
)
def test_a_bad_csv_is_a_form_error_and_writes_nothing(
    studio_page: Callable[[str | bytes], Any], monkeypatch: pytest.MonkeyPatch, content: Any, message: str
) -> None:
    if content is None:
        # The form's own row limit normally stops this first; lifted, the API serializer's error about
        # the list as a whole (not one row) must still come out as a message. It used to be a 500.
        monkeypatch.setattr("consent.pages.studio_forms.CSV_MAX_ROWS", 1000)
        content = HEADER + "".join(f"sub_{n},face,film_tv\n" for n in range(CSV_MAX_ROWS + 1))
    before = _written()

    response = studio_page(content)

    assert response.status_code == 200
    assert any(message in error for error in _errors(response)), _errors(response)
    assert _written() == before


def test_a_csv_with_a_byte_order_mark_and_windows_lines_is_read(
    authz_world: Any, studio_page: Callable[[str | bytes], Any]
) -> None:
    subject = authz_world.subject.public_id
    response = studio_page(f"\ufeffSubject,Media,Purpose\r\n{subject},face;voice,film_tv\r\n\r\n".encode())

    assert response.status_code == 302
    release = Release.objects.get(public_id=response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert release.appearances[0]["subject"] == subject
    assert release.appearances[0]["media"] == ["face", "voice"]


def test_values_from_the_csv_are_escaped_when_shown(
    authz_world: Any, studio_page: Callable[[str | bytes], Any]
) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    # A bad medium is echoed in the error message, an unknown subject in the report.
    refused = studio_page(f'{HEADER}sub_x,"{hostile.replace(chr(34), chr(34) * 2)}",film_tv\n')
    accepted = studio_page(f'{HEADER}"{hostile[:40].replace(chr(34), chr(34) * 2)}",face,film_tv\n')

    assert refused.status_code == 200
    assert accepted.status_code == 302
    report = Client()
    report.force_login(fresh(authz_world.users["owner"]))
    shown = report.get(accepted["Location"])
    for page in (refused, shown):
        html = page.content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x" not in html
        parser = PageParser()
        parser.feed(html)
        assert parser.problems == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.content.decode()
