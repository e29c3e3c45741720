"""Guidelines over HTTP: create, draft, edit with If-Match, publish (409 after), retire, diff, adopt."""

from __future__ import annotations

import pytest

from guidelines.models import Guideline, GuidelineVersion
from registry.transparency.models import LogEntry

PROBLEM = "application/problem+json"


def _create(api, project, slug="fair-swap"):
    return api.post(
        "/api/v1/guidelines",
        {"organization": project.public_id, "slug": slug, "title": "Fair swap", "summary": "Rules."},
        format="json",
    )


def test_a_maintainer_creates_drafts_and_publishes_a_guideline(maintainer_api, project, anon, content):
    created = _create(maintainer_api, project)
    assert created.status_code == 201
    assert created.json()["id"].startswith("gdl_")

    draft = maintainer_api.post("/api/v1/guidelines/fair-swap/versions", content(), format="json")
    assert draft.status_code == 201, draft.json()
    assert draft.json()["status"] == "draft"
    assert draft.json()["digest"] is None
    # A guideline with only a draft is invisible to everyone outside the project.
    assert anon.get("/api/v1/guidelines/fair-swap").status_code == 404
    assert anon.get("/api/v1/guidelines/fair-swap/versions/1.0.0").status_code == 404
    assert anon.get("/api/v1/guidelines").json()["results"] == []

    published = maintainer_api.post("/api/v1/guidelines/fair-swap/versions/1.0.0/publish")
    assert published.status_code == 200
    body = published.json()
    assert body["status"] == "published"
    assert body["digest"].startswith("sha256:")
    assert LogEntry.objects.filter(type="guideline.published", ref=body["id"]).exists()

    public = anon.get("/api/v1/guidelines/fair-swap/versions/1.0.0")
    assert public.status_code == 200
    assert public.json()["clauses"][0]["key"] == "consent-of-everyone"
    assert [g["slug"] for g in anon.get("/api/v1/guidelines").json()["results"]] == ["fair-swap"]


def test_the_indonesian_translation_is_served_with_lang_id(published, anon):
    response = anon.get("/api/v1/guidelines/fair-swap/versions/1.0.0?lang=id")

    body = response.json()
    assert body["language"] == "id"
    assert body["original_language"] == "en"
    assert body["body"].startswith("# Memakai alat ini")
    assert body["clauses"][2]["text"] == "Jangan pernah memakainya pada anak di bawah umur."
    assert "<h1>Memakai alat ini</h1>" in body["body_html"]


def test_publishing_twice_and_editing_a_published_version_are_conflicts(published, maintainer_api):
    again = maintainer_api.post("/api/v1/guidelines/fair-swap/versions/1.0.0/publish")
    assert again.status_code == 409
    assert again["Content-Type"] == PROBLEM
    edit = maintainer_api.patch("/api/v1/guidelines/fair-swap/versions/1.0.0", {"body": "Changed"}, format="json")
    assert edit.status_code == 409
    published.refresh_from_db()
    assert published.body.startswith("# Using")


def test_a_draft_is_edited_with_if_match(draft, maintainer_api):
    url = "/api/v1/guidelines/fair-swap/versions/1.0.0"
    etag = maintainer_api.get(url)["ETag"]

    stale = maintainer_api.patch(url, {"body": "New"}, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    fresh = maintainer_api.patch(url, {"body": "New"}, format="json", HTTP_IF_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh.json()["body"] == "New"
    assert fresh["ETag"] != etag
    assert maintainer_api.patch(url, {"body": "Newer"}, format="json", HTTP_IF_MATCH=etag).status_code == 412


def test_retire_is_logged_and_shown(published, maintainer_api, anon):
    response = maintainer_api.post("/api/v1/guidelines/fair-swap/versions/1.0.0/retire")
    assert response.status_code == 200
    assert response.json()["status"] == "retired"
    assert LogEntry.objects.filter(type="guideline.retired").count() == 1
    assert anon.get("/api/v1/guidelines/fair-swap").json()["versions"][0]["status"] == "retired"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": "1.0"}, "version"),
        (
            {"clauses": [{"key": "a", "kind": "must", "text": "x"}, {"key": "a", "kind": "must", "text": "y"}]},
            "clauses.1.key",
        ),
        ({"translations": {"id": {"body": "x", "clauses": {"ghost": "y"}}}}, "translations.id.clauses.ghost"),
        ({"clauses": "not a list"}, "clauses"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_bad_versions_get_a_problem_document_and_store_nothing(guideline, maintainer_api, content, changes, field):
    response = maintainer_api.post("/api/v1/guidelines/fair-swap/versions", content(**changes), format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"]
    assert not GuidelineVersion.objects.exists()


def test_a_duplicate_version_is_400(draft, maintainer_api, content):
    response = maintainer_api.post("/api/v1/guidelines/fair-swap/versions", content(), format="json")
    assert response.status_code == 400
    assert "version" in response.json()["errors"]
    assert GuidelineVersion.objects.count() == 1


def test_another_organizations_guideline_cannot_be_edited(draft, make_user, client_for, content):
    stranger = client_for(make_user())
    base = "/api/v1/guidelines/fair-swap"
    assert stranger.post(f"{base}/versions", content(version="2.0.0"), format="json").status_code == 404
    assert stranger.patch(f"{base}/versions/1.0.0", {"body": "x"}, format="json").status_code == 404
    assert stranger.post(f"{base}/versions/1.0.0/publish").status_code == 404
    assert stranger.get(f"{base}/versions/1.0.0").status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_stranger_cannot_edit_even_a_public_guideline(published, make_user, client_for):
    stranger = client_for(make_user())
    assert stranger.post("/api/v1/guidelines/fair-swap/versions/1.0.0/retire").status_code == 404


def test_a_plain_member_may_read_drafts_but_not_publish(draft, project, make_user, client_for):
    from registry.accounts.services import membership_add

    member = make_user()
    membership_add(organization=project, actor_role="owner", user=member, role="member")
    api = client_for(member)
    assert api.get("/api/v1/guidelines/fair-swap/versions/1.0.0").status_code == 200
    assert api.post("/api/v1/guidelines/fair-swap/versions/1.0.0/publish").status_code == 403


def test_an_api_key_of_the_project_can_publish(draft, project, maintainer, key_client):
    api, _ = key_client(organization=project, creator=maintainer)
    assert api.post("/api/v1/guidelines/fair-swap/versions/1.0.0/publish").status_code == 200


def test_creating_a_guideline_for_someone_elses_organization_is_refused(project, make_user, client_for):
    response = _create(client_for(make_user()), project)
    # 403, no longer 400: one answer for an organization the caller does not belong to (acting_organization).
    assert response.status_code == 403
    assert not Guideline.objects.exists()


def test_creating_needs_authentication(project, anon):
    assert _create(anon, project).status_code in (401, 403)


def test_diff_endpoint(published, maintainer_api, content, anon):
    newer = content(version="1.1.0", body="# Using this tool\n\nOnly with written consent.\n")
    # The Indonesian text changes with the English one: a stale translation can no longer be published.
    newer["translations"]["id"]["body"] = "# Memakai alat ini\n\nHanya dengan persetujuan tertulis.\n"
    newer["clauses"].append({"key": "no-politics", "kind": "must_not", "text": "No deception in politics."})
    assert maintainer_api.post("/api/v1/guidelines/fair-swap/versions", newer, format="json").status_code == 201
    maintainer_api.post("/api/v1/guidelines/fair-swap/versions/1.1.0/publish")

    response = anon.get("/api/v1/guidelines/fair-swap/diff?from=1.0.0&to=1.1.0")

    assert response.status_code == 200
    body = response.json()
    assert [c["key"] for c in body["clauses"]["added"]] == ["no-politics"]
    assert body["clauses"]["removed"] == []
    assert "+Only with written consent." in body["body_diff"]
    assert anon.get("/api/v1/guidelines/fair-swap/diff?from=1.0.0").status_code == 400
    assert anon.get("/api/v1/guidelines/fair-swap/diff?from=1.0.0&to=9.0.0").status_code == 404


def test_adoptions_are_public(published, make_user, make_org, client_for, anon):
    studio_owner = make_user()
    studio = make_org(studio_owner, kind="studio")
    url = "/api/v1/guidelines/fair-swap/versions/1.0.0/adoptions"

    created = client_for(studio_owner).post(url, {"organization": studio.public_id}, format="json")
    assert created.status_code == 201
    assert created.json()["id"].startswith("adp_")
    assert client_for(studio_owner).post(url, {"organization": studio.public_id}, format="json").status_code == 409
    listed = anon.get(url).json()["results"]
    assert [a["organization"] for a in listed] == [studio.public_id]


def test_creating_a_version_is_idempotent_with_a_key(guideline, maintainer_api, content):
    url = "/api/v1/guidelines/fair-swap/versions"
    first = maintainer_api.post(url, content(), format="json", HTTP_IDEMPOTENCY_KEY="v1")
    second = maintainer_api.post(url, content(), format="json", HTTP_IDEMPOTENCY_KEY="v1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert GuidelineVersion.objects.count() == 1


@pytest.mark.django_db
def test_the_schema_lists_the_guideline_paths(anon):
    paths = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert "/api/v1/guidelines/{slug}/versions/{version}/publish" in paths
    assert "/api/v1/attestations" in paths
