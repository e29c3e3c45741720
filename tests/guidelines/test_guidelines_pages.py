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
