"""Guideline services: drafts, publishing (frozen, digested, logged), retiring, supersedes, diffs."""

from __future__ import annotations

import json

import pytest

from guidelines import selectors, services
from guidelines.models import GuidelineVersion
from registry.errors import Conflict, NotAllowed, ValidationFailed
from registry.events.models import OutboxEvent
from registry.lib.canonical import canonical_json, sha256_digest
from registry.transparency.models import LogEntry


def test_publishing_freezes_digests_and_logs_the_version(draft, published):
    assert published.status == "published"
    assert published.published_at is not None
    # The digest is the SHA-256 of the RFC 8785 canonical JSON of the version document.
    document = {
        "type": "https://restu.example/guideline-version/v1",
        "guideline": published.guideline.public_id,
        "slug": "fair-swap",
        "organization": published.guideline.organization.public_id,
        "version": "1.0.0",
        "language": "en",
        "body": published.body,
        "clauses": published.clauses,
        "translations": published.translations,
        "supersedes": None,
    }
    assert published.digest == sha256_digest(canonical_json(document))

    leaf = LogEntry.objects.get(type="guideline.published")
    assert leaf.ref == published.public_id
    assert leaf.digest == published.digest
    assert set(json.loads(bytes(leaf.leaf))) == {"type", "id", "digest", "at"}
    event = OutboxEvent.objects.get(type="guideline.published")
    assert event.payload["ref"] == "fair-swap@1.0.0"
    assert event.payload["digest"] == published.digest


def test_a_published_version_never_changes(published):
    with pytest.raises(Conflict):
        services.guideline_version_update(version=published, actor_role="owner", body="Something else")
    with pytest.raises(Conflict):
        services.guideline_version_publish(version=published, actor_role="owner")
    published.refresh_from_db()
    assert published.body.startswith("# Using this tool")
    assert LogEntry.objects.filter(type="guideline.published").count() == 1


def test_a_draft_can_be_edited_until_published(draft):
    updated = services.guideline_version_update(version=draft, actor_role="admin", body="New words.")
    assert updated.body == "New words."
    assert updated.status == "draft"
    assert LogEntry.objects.count() == 0


def test_retiring_is_its_own_logged_event(published):
    retired = services.guideline_version_retire(version=published, actor_role="owner")

    assert retired.status == "retired"
    leaf = LogEntry.objects.get(type="guideline.retired")
    assert (leaf.ref, leaf.digest) == (published.public_id, published.digest)
    assert OutboxEvent.objects.filter(type="guideline.retired").count() == 1
    with pytest.raises(Conflict):
        services.guideline_version_retire(version=retired, actor_role="owner")


def test_a_draft_cannot_be_retired(draft):
    with pytest.raises(Conflict):
        services.guideline_version_retire(version=draft, actor_role="owner")


def test_members_without_admin_rights_cannot_publish(draft):
    with pytest.raises(NotAllowed):
        services.guideline_version_publish(version=draft, actor_role="member")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_new_version_may_supersede_an_older_published_one(guideline, published, maintainer, content):
    newer = services.guideline_version_create(
        guideline=guideline, actor_role="owner", actor=maintainer, **content(version="1.1.0", supersedes="1.0.0")
    )
    assert newer.supersedes == published
    with pytest.raises(ValidationFailed) as excinfo:
        services.guideline_version_create(
            guideline=guideline, actor_role="owner", actor=maintainer, **content(version="0.9.0", supersedes="1.0.0")
        )
    assert "supersedes" in excinfo.value.errors


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": "1.0"}, "version"),
        ({"version": "v1.0.0"}, "version"),
        ({"version": "01.0.0"}, "version"),
        ({"clauses": []}, "clauses"),
        ({"clauses": [{"key": "Bad Key", "kind": "must", "text": "x"}]}, "clauses.0.key"),
        ({"clauses": [{"key": "a", "kind": "may", "text": "x"}]}, "clauses.0.kind"),
        ({"clauses": [{"key": "a", "kind": "must", "text": "x", "evidence": ["magic"]}]}, "clauses.0.evidence"),
        (
            {"clauses": [{"key": "a", "kind": "must", "text": "x"}, {"key": "a", "kind": "should", "text": "y"}]},
            "clauses.1.key",
        ),
        ({"translations": {"id": {"body": "x", "clauses": {"nope": "y"}}}}, "translations.id.clauses.nope"),
        ({"translations": {"fr": {"body": "x"}}}, "translations.fr"),
        ({"language": "xx"}, "language"),
    ],
)
def test_bad_content_is_refused_and_nothing_is_stored(guideline, maintainer, content, changes, field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.guideline_version_create(
            guideline=guideline, actor_role="owner", actor=maintainer, **content(**changes)
        )
    assert field in excinfo.value.errors
    assert not GuidelineVersion.objects.exists()


def test_a_duplicate_version_is_refused(draft, guideline, maintainer, content):
    with pytest.raises(ValidationFailed) as excinfo:
        services.guideline_version_create(guideline=guideline, actor_role="owner", actor=maintainer, **content())
    assert "version" in excinfo.value.errors
    assert GuidelineVersion.objects.count() == 1


def test_semver_precedence_orders_versions(guideline, maintainer, content):
    for number in ["1.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"]:
        services.guideline_version_create(
            guideline=guideline, actor_role="owner", actor=maintainer, **content(version=number)
        )
    listed = [v.version for v in selectors.versions_visible(guideline=guideline, member=True)]
    assert listed == ["1.10.0", "1.2.0", "1.0.0", "1.0.0-rc.1"]


def test_diff_names_added_removed_and_changed_clauses_and_diffs_the_body(guideline, published, maintainer, content):
    clauses = [
        {**CLAUSE, "text": "Get the written consent of every person whose face you use."}
        for CLAUSE in content()["clauses"][:1]
    ] + [{"key": "no-politics", "kind": "must_not", "text": "No deception in news or politics."}]
    newer = services.guideline_version_create(
        guideline=guideline,
        actor_role="owner",
        actor=maintainer,
        **content(
            version="2.0.0", body="# Using this tool\n\nOnly with written consent.\n", clauses=clauses, translations={}
        ),
    )

    diff = selectors.versions_diff(old=published, new=newer)

    assert [c["key"] for c in diff.added] == ["no-politics"]
    assert [c["key"] for c in diff.removed] == ["label-output", "no-minors"]
    assert [(c["key"], c["changes"]) for c in diff.changed] == [("consent-of-everyone", ["text"])]
    assert "-Only with the consent of every person shown." in diff.body_diff
    assert "+Only with written consent." in diff.body_diff
    assert diff.body_diff.startswith("--- 1.0.0\n+++ 2.0.0\n")


def test_published_ref_lookup_for_other_apps(published, guideline, maintainer, content):
    assert selectors.guideline_version_get_published(ref="fair-swap@1.0.0") == published
    services.guideline_version_create(
        guideline=guideline, actor_role="owner", actor=maintainer, **content(version="2.0.0")
    )
    for ref in ["fair-swap@2.0.0", "fair-swap@9.9.9", "nope@1.0.0", "fair-swap", "", "fair-swap@1.0.0@x"]:
        with pytest.raises(ValidationFailed):
            selectors.guideline_version_get_published(ref=ref)
    services.guideline_version_retire(version=published, actor_role="owner")
    with pytest.raises(ValidationFailed):
        selectors.guideline_version_get_published(ref="fair-swap@1.0.0")


def test_adoption_of_a_published_version(published, make_user, make_org):
    studio = make_org(make_user(), kind="studio")
    adoption = services.adoption_create(version=published, organization=studio, actor_role="owner", actor=None)
    assert adoption.version == published
    with pytest.raises(Conflict):
        services.adoption_create(version=published, organization=studio, actor_role="owner", actor=None)


def test_a_draft_cannot_be_adopted(draft, project):
    with pytest.raises(Conflict):
        services.adoption_create(version=draft, organization=project, actor_role="owner", actor=None)


def test_only_project_organizations_publish_guidelines(make_user, make_org):
    studio = make_org(make_user(), kind="studio")
    with pytest.raises(ValidationFailed):
        services.guideline_create(organization=studio, actor_role="owner", slug="x", title="X")


def test_publishing_is_all_or_nothing(draft, monkeypatch):
    # If the log refuses the leaf, the version stays a draft and no event goes out.
    from registry.transparency.services import LogAppendError

    def refuse(**kwargs):
        raise LogAppendError("log unavailable")

    monkeypatch.setattr(services, "log_append", refuse)
    with pytest.raises(LogAppendError):
        services.guideline_version_publish(version=draft, actor_role="owner")

    draft.refresh_from_db()
    assert draft.status == "draft"
    assert draft.digest == ""
    assert not OutboxEvent.objects.filter(type="guideline.published").exists()
