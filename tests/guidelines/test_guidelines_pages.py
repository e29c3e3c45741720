"""Guideline pages: catalogue, guideline with versions and languages, diff, project, and the editor."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from guidelines import services
from guidelines.models import Guideline, GuidelineVersion
from guidelines.rendering import render_markdown
from registry.transparency.models import LogEntry

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def assert_csp_clean(html: str) -> None:
    for attrs in SCRIPT_TAG.findall(html):
        assert "src=" in attrs or 'type="application/json"' in attrs
    assert " style=" not in html
    assert "<style" not in html.lower()


@pytest.fixture
def signed_in(client: Client, maintainer) -> Client:
    client.force_login(maintainer)
    return client


def test_the_catalogue_lists_published_guidelines_only(client, published, project, maintainer):
    services.guideline_create(organization=project, actor_role="owner", slug="secret-draft", title="Secret draft")

    html = client.get("/guidelines/").content.decode()

    assert "Fair swap" in html
    assert "Secret draft" not in html
    assert "guidelines/guidelines." in html  # the page's own stylesheet
    assert_csp_clean(html)


def test_the_guideline_page_shows_clauses_and_switches_content_language(client, published):
    english = client.get("/guidelines/fair-swap/").content.decode()
    assert "Get the consent of every person whose face you use." in english
    assert "<h3>Using this tool</h3>" in english  # below the page's own headings
    assert published.digest in english
    assert_csp_clean(english)

    indonesian = client.get("/guidelines/fair-swap/?lang=id").content.decode()
    assert "Dapatkan persetujuan setiap orang yang wajahnya Anda pakai." in indonesian
    assert "<h3>Memakai alat ini</h3>" in indonesian


def test_the_site_language_picks_the_indonesian_content_and_labels(client, published):
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    html = client.get("/guidelines/fair-swap/").content.decode()
    assert '<html lang="id">' in html
    assert "Memakai alat ini" in html
    assert "Butir" in html  # "Clauses" in the glossary's word


def test_drafts_are_hidden_from_strangers(client, draft, make_user):
    assert client.get("/guidelines/fair-swap/").status_code == 404
    client.force_login(make_user())
    assert client.get("/guidelines/fair-swap/").status_code == 404
    assert client.get("/guidelines/fair-swap/versions/1.0.0/publish/").status_code == 404


def test_the_version_picker_and_the_diff_page(client, published, guideline, maintainer, content):
    newer = content(version="1.1.0", body="# Using this tool\n\nOnly with written consent.\n")
    # The Indonesian text changes with the English one: a stale translation can no longer be published.
    newer["translations"]["id"]["body"] = "# Memakai alat ini\n\nHanya dengan persetujuan tertulis.\n"
    newer["clauses"].append({"key": "no-politics", "kind": "must_not", "text": "No deception in politics."})
    version = services.guideline_version_create(guideline=guideline, actor_role="owner", actor=maintainer, **newer)
    services.guideline_version_publish(version=version, actor_role="owner")

    latest = client.get("/guidelines/fair-swap/").content.decode()
    assert "No deception in politics." in latest
    assert "/guidelines/fair-swap/diff/?from=1.0.0&amp;to=1.1.0" in latest
    older = client.get("/guidelines/fair-swap/?version=1.0.0").content.decode()
    assert "No deception in politics." not in older

    diff = client.get("/guidelines/fair-swap/diff/?from=1.0.0&to=1.1.0").content.decode()
    assert "no-politics" in diff
    assert "gl-diff__line--added" in diff
    assert "+Only with written consent." in diff


def test_the_project_page_shows_attestations_and_members_see_keys(
    client, published, project, project_key, private_key, statement, sign, maintainer
):
    services.attestation_store(
        project=project, actor_role="owner", envelope=sign(statement(), private_key, project_key.kid)
    )

    public = client.get(f"/projects/{project.slug}/").content.decode()
    assert "fair-swap@1.0.0" in public
    assert "Verified when received" in public
    assert project_key.kid not in public  # keys are for members

    client.force_login(maintainer)
    member_view = client.get(f"/projects/{project.slug}/").content.decode()
    assert project_key.kid in member_view


def test_the_editor_writes_a_draft_and_publishing_needs_confirmation(signed_in, project):
    response = signed_in.post(
        f"/projects/{project.slug}/guidelines/new/",
        {
            "title": "Fair swap",
            "slug": "fair-swap",
            "summary": "Our rules.",
            "version": "1.0.0",
            "body": "# Rules\n\nBe fair.",
            "clauses": "consent | must | Get consent. | consent_token_check\nno-minors | must_not | Never children.",
            "body_id": "# Aturan\n\nBersikaplah adil.",
            "clauses_id": "consent | Dapatkan persetujuan.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/guidelines/fair-swap/versions/1.0.0/publish/"
    version = GuidelineVersion.objects.get()
    assert version.status == "draft"
    assert version.clauses[0] == {
        "key": "consent",
        "kind": "must",
        "text": "Get consent.",
        "evidence": ["consent_token_check"],
    }
    assert version.translations["id"]["clauses"] == {"consent": "Dapatkan persetujuan."}

    unconfirmed = signed_in.post("/guidelines/fair-swap/versions/1.0.0/publish/", {})
    assert unconfirmed.status_code == 200
    version.refresh_from_db()
    assert version.status == "draft"

    confirmed = signed_in.post("/guidelines/fair-swap/versions/1.0.0/publish/", {"confirm": "on"})
    assert confirmed.status_code == 302
    version.refresh_from_db()
    assert version.status == "published"
    assert LogEntry.objects.filter(type="guideline.published", ref=version.public_id).exists()
    # The published version can no longer be edited on the page either.
    assert signed_in.get("/guidelines/fair-swap/versions/1.0.0/edit/").status_code == 409


def test_the_editor_shows_service_errors_next_to_the_field(signed_in, project):
    response = signed_in.post(
        f"/projects/{project.slug}/guidelines/new/",
        {
            "title": "T",
            "slug": "t",
            "version": "1.0",
            "body": "x",
            "clauses": "a | must | One.\na | should | Two.",
        },
    )
    assert response.status_code == 200
    assert "field--invalid" in response.content.decode()
    assert not Guideline.objects.exists()  # the guideline and its draft go in together or not at all


def test_the_editor_is_for_the_projects_owners_and_admins(client, project, make_user):
    assert client.get(f"/projects/{project.slug}/guidelines/new/").status_code == 302  # to sign in
    client.force_login(make_user())
    assert client.get(f"/projects/{project.slug}/guidelines/new/").status_code == 404


def test_the_editor_form_is_protected_by_csrf(project, maintainer):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(maintainer)
    response = strict.post(f"/projects/{project.slug}/guidelines/new/", {"title": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        '<img src="x" onerror="alert(1)">',
        "![x](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_markdown_lets_no_script_handler_or_javascript_link_through(markdown):
    elements = _elements(str(render_markdown(markdown)))

    for tag, attrs in elements:
        assert tag not in {"script", "iframe", "img", "style", "object"}
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert not (value or "").strip().lower().startswith(("javascript:", "data:", "vbscript:")), (tag, value)


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every real element in the HTML (escaped text such as ``&lt;script&gt;`` is harmless text)."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_markdown_keeps_ordinary_formatting():
    html = str(render_markdown("# Title\n\n**bold** and [a link](https://example.org)"))
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


# --- the maintainer's start on the website (issue 14, item 2) ---------------------------------------

PASSWORD = "correct horse battery"  # make_user's default


@pytest.fixture
def present_client(signed_in: Client) -> Client:
    """Signed in and, just now, confirmed the password on allauth's page (a proof of presence)."""
    assert signed_in.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return signed_in


def _pem(private_key) -> str:
    from cryptography.hazmat.primitives import serialization

    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_a_maintainer_creates_a_project_organization_on_the_website(signed_in, maintainer):
    from registry.accounts.models import Membership, Organization

    page = signed_in.get("/projects/new/")
    assert page.status_code == 200
    assert_csp_clean(page.content.decode())

    response = signed_in.post(
        "/projects/new/",
        {"name": "Open FaceSwap", "slug": "open-faceswap", "repository_url": "https://code.example/open-faceswap"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/projects/open-faceswap/"
    project = Organization.objects.get(slug="open-faceswap")
    assert project.kind == "project"
    assert Membership.objects.get(organization=project).user == maintainer
    html = signed_in.get("/projects/open-faceswap/").content.decode()
    assert project.public_id in html  # the id the release process needs, shown to members
    assert "/projects/open-faceswap/keys/" in html
    assert "POST /api/v1/organizations/{id}/keys" not in html


def test_a_taken_or_reserved_short_name_is_refused_on_the_page(signed_in, project):
    from registry.accounts.models import Organization

    count = Organization.objects.count()
    taken = signed_in.post("/projects/new/", {"name": "Copy", "slug": project.slug})
    reserved = signed_in.post("/projects/new/", {"name": "New", "slug": "new"})

    assert taken.status_code == reserved.status_code == 200
    assert "Another organization already uses this short name" in taken.content.decode()
    assert "reserved" in reserved.content.decode()
    assert Organization.objects.count() == count


def test_creating_a_project_needs_an_account(client):
    response = client.get("/projects/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_keys_page_explains_signing_keys_and_shows_the_ids(signed_in, project, project_key):
    html = signed_in.get(f"/projects/{project.slug}/keys/").content.decode()

    assert "A signing key is how your project proves" in html
    assert project.public_id in html
    assert project_key.kid in html
    assert "openssl genpkey -algorithm ed25519" in html
    assert_csp_clean(html)


def test_the_keys_page_is_for_the_projects_owners_and_admins(client, project, make_user):
    from registry.accounts.services import membership_add

    stranger, member = make_user(), make_user()
    membership_add(organization=project, actor_role="owner", user=member, role="member")
    client.force_login(stranger)
    assert client.get(f"/projects/{project.slug}/keys/").status_code == 404
    client.force_login(member)
    assert client.get(f"/projects/{project.slug}/keys/").status_code == 403


def test_registering_a_key_asks_to_confirm_it_is_you_and_keeps_what_was_typed(signed_in, project, private_key):
    from guidelines.models import ProjectKey

    url = f"/projects/{project.slug}/keys/"
    pem = _pem(private_key)

    response = signed_in.post(url, {"public_key": pem})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/?next=")
    assert not ProjectKey.objects.exists()
    assert signed_in.post(response["Location"], {"password": PASSWORD}).status_code == 302
    back = signed_in.get(url).content.decode()
    assert "BEGIN PUBLIC KEY" in back  # what the maintainer pasted is still there

    registered = signed_in.post(url, {"public_key": pem})

    assert registered.status_code == 302
    key = ProjectKey.objects.get()
    assert key.organization == project
    assert key.is_active
    assert key.kid in signed_in.get(url).content.decode()


def test_a_private_key_or_another_kind_of_key_is_refused_on_the_page(present_client, project, private_key):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from guidelines.models import ProjectKey

    url = f"/projects/{project.slug}/keys/"
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    for text, message in (
        (private_pem, "This is a private key"),
        (ec_pem, "This is not an Ed25519 key"),
        ("hello", "neither a PEM public key nor a JSON Web Key"),
    ):
        response = present_client.post(url, {"public_key": text})
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not ProjectKey.objects.exists()


def test_retiring_a_key_on_the_page_needs_a_confirmation(present_client, project, project_key):
    url = f"/projects/{project.slug}/keys/{project_key.kid}/retire/"
    assert present_client.get(url).status_code == 200

    assert present_client.post(url, {}).status_code == 200
    project_key.refresh_from_db()
    assert project_key.is_active

    assert present_client.post(url, {"confirm": "on"}).status_code == 302
    project_key.refresh_from_db()
    assert not project_key.is_active


def _next_draft(guideline, maintainer, content):
    newer = content(version="1.1.0")
    newer["clauses"][0]["text"] = "Get the written consent of every person whose face you use."
    return services.guideline_version_create(guideline=guideline, actor_role="owner", actor=maintainer, **newer)


def test_the_publish_page_previews_both_languages(signed_in, draft):
    html = signed_in.get("/guidelines/fair-swap/versions/1.0.0/publish/").content.decode()

    assert "Preview in English" in html
    assert "Preview in Bahasa Indonesia" in html
    assert "Get the consent of every person whose face you use." in html
    assert "Dapatkan persetujuan setiap orang yang wajahnya Anda pakai." in html
    assert_csp_clean(html)


def test_publishing_asks_for_outdated_indonesian_texts(signed_in, published, guideline, maintainer, content):
    _next_draft(guideline, maintainer, content)
    url = "/guidelines/fair-swap/versions/1.1.0/publish/"

    page = signed_in.get(url).content.decode()
    assert "Out of date: the English text changed" in page
    refused = signed_in.post(url, {"confirm": "on"})

    assert refused.status_code == 200
    assert "before you publish" in refused.content.decode()
    assert GuidelineVersion.objects.get(version="1.1.0").status == "draft"

    signed_in.post("/i18n/setlang/", {"language": "id", "next": "/"})
    in_indonesian = signed_in.post(url, {"confirm": "on"}).content.decode()
    assert "Tidak ada butir" not in in_indonesian
    assert "sebelum Anda menerbitkan" in in_indonesian


def test_the_editor_lets_the_maintainer_confirm_or_update_an_outdated_translation(
    signed_in, published, guideline, maintainer, content
):
    _next_draft(guideline, maintainer, content)
    url = "/guidelines/fair-swap/versions/1.1.0/edit/"
    page = signed_in.get(url).content.decode()
    assert 'id="outdated-translations"' in page
    assert "consent-of-everyone" in page

    form = {
        "body": content()["body"],
        "clauses": "\n".join(
            [
                "consent-of-everyone | must | Get the written consent of every person whose face you use. "
                "| consent_token_check",
                "label-output | must | Label synthetic output as synthetic. | visible_watermark, c2pa_manifest",
                "no-minors | must_not | Never use it on children.",
            ]
        ),
        "body_id": content()["translations"]["id"]["body"],
        "clauses_id": "\n".join(f"{k} | {v}" for k, v in content()["translations"]["id"]["clauses"].items()),
        "reviewed": ["consent-of-everyone"],
    }
    assert signed_in.post(url, form).status_code == 302
    version = GuidelineVersion.objects.get(version="1.1.0")
    assert version.translations_outdated == {}
    assert signed_in.post("/guidelines/fair-swap/versions/1.1.0/publish/", {"confirm": "on"}).status_code == 302


def test_the_indonesian_diff_shows_the_change_the_english_diff_shows(client, published, guideline, maintainer, content):
    draft = _next_draft(guideline, maintainer, content)
    services.guideline_version_update(
        version=draft, actor_role="owner", translations_reviewed={"id": ["consent-of-everyone"]}
    )
    services.guideline_version_publish(version=draft, actor_role="owner")

    english = client.get("/guidelines/fair-swap/diff/?from=1.0.0&to=1.1.0&lang=en").content.decode()
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    indonesian = client.get("/guidelines/fair-swap/diff/?from=1.0.0&to=1.1.0").content.decode()

    assert "consent-of-everyone" in english
    assert "consent-of-everyone" in indonesian
    assert "Tidak ada butir yang berubah" not in indonesian


def test_the_services_errors_are_in_indonesian_on_indonesian_pages(signed_in, project):
    signed_in.post("/i18n/setlang/", {"language": "id", "next": "/"})

    response = signed_in.post(
        f"/projects/{project.slug}/guidelines/new/",
        {"title": "T", "slug": "t", "version": "1.0", "body": "x", "clauses": "a | must | One."},
    )

    html = response.content.decode()
    assert "Bukan versi semantik" in html
    assert "Not a semantic version" not in html


def test_a_maintainer_proves_the_domain_on_the_website(signed_in, project, settings, monkeypatch):
    import sys
    import types

    from guidelines.models import ControlProof

    url = f"/projects/{project.slug}/proofs/"
    page = signed_in.get(url)
    assert page.status_code == 200
    assert_csp_clean(page.content.decode())

    bad = signed_in.post(url, {"action": "create", "kind": "domain", "target": "localhost"})
    assert bad.status_code == 200
    assert "Give a public domain name" in bad.content.decode() or "Not a domain." in bad.content.decode()
    assert not ControlProof.objects.exists()

    assert signed_in.post(url, {"action": "create", "kind": "domain", "target": "open-swap.example"}).status_code == 302
    proof = ControlProof.objects.get()
    html = signed_in.get(url).content.decode()
    assert proof.token in html
    assert "https://open-swap.example/.well-known/restu.txt" in html

    module = types.ModuleType("restu_page_fetcher")
    module.fetch = lambda fetched: f"{proof.token}\n".encode()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "restu_page_fetcher", module)
    settings.REGISTRY_PROOF_FETCHER = "restu_page_fetcher.fetch"
    assert signed_in.post(url, {"action": "check", "proof": proof.public_id}).status_code == 302
    proof.refresh_from_db()
    assert proof.status == "verified"


def test_the_proofs_page_is_for_the_projects_owners_and_admins(client, project, make_user):
    client.force_login(make_user())
    assert client.get(f"/projects/{project.slug}/proofs/").status_code == 404
