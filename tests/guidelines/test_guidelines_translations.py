"""Translations that fall behind their original: marked, shown in the diff, and refused at publishing (issue 14)."""

from __future__ import annotations

import pytest

from guidelines import selectors, services
from guidelines.models import GuidelineVersion
from registry.errors import ValidationFailed

NEW_ENGLISH = "Get the written consent of every person whose face you use."
NEW_INDONESIAN = "Dapatkan persetujuan tertulis setiap orang yang wajahnya Anda pakai."


@pytest.fixture
def next_draft(published, guideline, maintainer, content) -> GuidelineVersion:
    """1.1.0, written from 1.0.0: one English clause changed, its Indonesian text carried over as it was."""
    newer = content(version="1.1.0")
    newer["clauses"][0]["text"] = NEW_ENGLISH
    return services.guideline_version_create(guideline=guideline, actor_role="owner", actor=maintainer, **newer)


def test_a_translation_carried_over_from_the_previous_version_is_marked_outdated(next_draft):
    assert next_draft.translations_outdated == {"id": ["consent-of-everyone"]}


def test_publishing_with_an_outdated_translation_is_refused_with_a_clear_message(next_draft):
    with pytest.raises(ValidationFailed) as refused:
        services.guideline_version_publish(version=next_draft, actor_role="owner")

    assert "consent-of-everyone" in refused.value.detail
    assert "before you publish" in refused.value.detail
    assert "translations.id.clauses.consent-of-everyone" in refused.value.errors
    next_draft.refresh_from_db()
    assert next_draft.status == "draft"


def test_translating_the_clause_again_clears_the_mark_and_publishing_works(next_draft):
    translations = {"id": {**next_draft.translations["id"]}}
    translations["id"]["clauses"] = {**translations["id"]["clauses"], "consent-of-everyone": NEW_INDONESIAN}

    updated = services.guideline_version_update(version=next_draft, actor_role="owner", translations=translations)

    assert updated.translations_outdated == {}
    assert services.guideline_version_publish(version=updated, actor_role="owner").status == "published"


def test_the_maintainer_may_confirm_a_translation_is_still_right(next_draft):
    updated = services.guideline_version_update(
        version=next_draft, actor_role="owner", translations_reviewed={"id": ["consent-of-everyone"]}
    )
    assert updated.translations_outdated == {}


def test_an_edit_of_the_english_text_of_a_draft_marks_its_translation(draft):
    clauses = [dict(clause) for clause in draft.clauses]
    clauses[1]["text"] = "Label every synthetic output as synthetic, visibly."

    updated = services.guideline_version_update(version=draft, actor_role="owner", clauses=clauses, body="# New\n")

    assert updated.translations_outdated == {"id": ["label-output", "body"]}
    # An unrelated later edit keeps the marks: only a new translation or a confirmation clears them.
    again = services.guideline_version_update(version=updated, actor_role="owner", clauses=clauses, body="# New\n")
    assert again.translations_outdated == {"id": ["label-output", "body"]}


def test_untranslated_clauses_are_not_outdated(draft):
    clauses = [*draft.clauses, {"key": "no-politics", "kind": "must_not", "text": "No deception in politics."}]
    updated = services.guideline_version_update(version=draft, actor_role="owner", clauses=clauses)
    assert updated.translations_outdated == {}


def test_the_indonesian_diff_shows_a_clause_whose_english_text_changed(next_draft):
    services.guideline_version_update(
        version=next_draft, actor_role="owner", translations_reviewed={"id": ["consent-of-everyone"]}
    )
    next_draft.refresh_from_db()
    old = next_draft.guideline.versions.get(version="1.0.0")

    english = selectors.versions_diff(old=old, new=next_draft, language="en")
    indonesian = selectors.versions_diff(old=old, new=next_draft, language="id")

    assert [c["key"] for c in english.changed] == ["consent-of-everyone"]
    assert [c["key"] for c in indonesian.changed] == ["consent-of-everyone"]
    assert indonesian.changed[0]["translation_outdated"] is True
    assert english.changed[0]["translation_outdated"] is False


def test_the_api_shows_outdated_translations_and_refuses_to_publish(next_draft, maintainer_api):
    url = "/api/v1/guidelines/fair-swap/versions/1.1.0"
    assert maintainer_api.get(url).json()["translations_outdated"] == {"id": ["consent-of-everyone"]}

    refused = maintainer_api.post(f"{url}/publish")

    assert refused.status_code == 400
    assert "translations.id.clauses.consent-of-everyone" in refused.json()["errors"]
    etag = maintainer_api.get(url)["ETag"]
    reviewed = maintainer_api.patch(
        url, {"translations_reviewed": {"id": ["consent-of-everyone"]}}, format="json", HTTP_IF_MATCH=etag
    )
    assert reviewed.status_code == 200, reviewed.content
    assert reviewed.json()["translations_outdated"] == {}
    assert maintainer_api.post(f"{url}/publish").status_code == 200


def test_a_malformed_review_list_is_a_400(next_draft, maintainer_api):
    url = "/api/v1/guidelines/fair-swap/versions/1.1.0"
    etag = maintainer_api.get(url)["ETag"]
    response = maintainer_api.patch(url, {"translations_reviewed": ["id"]}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert "translations_reviewed" in response.json()["errors"]


def test_the_database_still_refuses_to_change_a_published_version_after_the_new_column(published):
    # Adding translations_outdated rebuilds the table on SQLite; the frozen-row trigger must come back.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        GuidelineVersion.objects.filter(pk=published.pk).update(body="Changed behind the services' back.")
    published.refresh_from_db()
    assert published.body != "Changed behind the services' back."
