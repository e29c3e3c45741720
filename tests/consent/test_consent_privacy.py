"""Who sees what: representatives see everything, the named grantee sees signed consents, others 404."""

from __future__ import annotations

import pytest

from consent import services
from consent.models import AccessLogEntry
from tests.presence import fresh_presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(make_subject, make_user, make_org, fresh_client, terms):
    """A signed consent naming a studio, and a draft naming the same studio."""
    subject, person = make_subject()
    studio_owner = make_user()
    studio = make_org(studio_owner)
    api = fresh_client(person)
    signed = api.post("/api/v1/consents", terms(subject, grantee=studio.public_id), format="json").json()
    api.post(f"/api/v1/consents/{signed['id']}/sign", {"method": "witnessed"})
    draft = api.post("/api/v1/consents", terms(subject, grantee=studio.public_id), format="json").json()
    return {
        "subject": subject,
        "person": person,
        "studio": studio,
        "studio_owner": studio_owner,
        "signed": signed["id"],
        "draft": draft["id"],
    }


def test_the_grantees_members_and_keys_see_the_signed_consent_but_not_the_draft(granted, client_for, key_client):
    member = client_for(granted["studio_owner"])
    assert member.get(f"/api/v1/consents/{granted['signed']}").status_code == 200
    assert member.get(f"/api/v1/consents/{granted['draft']}").status_code == 404
    listed = [c["id"] for c in member.get("/api/v1/consents").json()["results"]]
    assert listed == [granted["signed"]]

    key, _ = key_client(organization=granted["studio"], creator=granted["studio_owner"])
    assert key.get(f"/api/v1/consents/{granted['signed']}").status_code == 200
    assert key.get(f"/api/v1/consents/{granted['draft']}").status_code == 404


def test_everyone_else_gets_404(granted, make_user, make_org, client_for, key_client):
    stranger = make_user()
    other_org = make_org(stranger)
    person_only = (
        f"/api/v1/subjects/{granted['subject'].public_id}",
        f"/api/v1/subjects/{granted['subject'].public_id}/access-log",
    )
    for client, is_key in (
        (client_for(stranger), False),
        (key_client(organization=other_org, creator=stranger)[0], True),
    ):
        for path in (
            f"/api/v1/consents/{granted['signed']}",
            f"/api/v1/consents/{granted['signed']}/history",
            *person_only,
        ):
            response = client.get(path)
            # docs/api.md v1.1: a key never reads a subject or an access log at all (403, before any look-up).
            expected = 403 if is_key and path in person_only else 404
            assert response.status_code == expected, path
            assert response["Content-Type"].startswith("application/problem+json")
        assert client.get("/api/v1/consents").json()["results"] == []


def test_an_api_key_cannot_act_for_a_person(granted, key_client):
    key, _ = key_client(organization=granted["studio"], creator=granted["studio_owner"])
    response = key.post(f"/api/v1/consents/{granted['signed']}/revoke", {"reason": "x"})
    assert response.status_code == 403


def test_anonymous_callers_must_sign_in(granted, anon):
    assert anon.get(f"/api/v1/consents/{granted['signed']}").status_code in (401, 403)


def test_the_access_log_is_shown_to_representatives_only(granted, make_user, client_for, key_client):
    key = granted["studio"].api_keys.first()
    services.access_log_record(
        subject=granted["subject"],
        query={"medium": "face", "purpose": "film_tv", "territory": "ID", "date": "2027-01-01"},
        decision="permitted",
        caller_org=granted["studio"],
        caller_key=key,
    )
    assert AccessLogEntry.objects.count() == 1
    body = client_for(granted["person"]).get(f"/api/v1/subjects/{granted['subject'].public_id}/access-log").json()
    assert body["results"][0]["decision"] == "permitted"
    assert body["results"][0]["caller"]["organization"] == granted["studio"].public_id
    assert body["next"] is None
    member = client_for(granted["studio_owner"])
    assert member.get(f"/api/v1/subjects/{granted['subject'].public_id}/access-log").status_code == 404


def test_filters_narrow_the_list(granted, client_for):
    api = client_for(granted["person"])
    active = api.get("/api/v1/consents", {"status": "active"}).json()["results"]
    assert [c["id"] for c in active] == [granted["signed"]]
    assert api.get("/api/v1/consents", {"status": "bogus"}).status_code == 400
    by_subject = api.get("/api/v1/consents", {"subject": granted["subject"].public_id}).json()["results"]
    assert {c["id"] for c in by_subject} == {granted["signed"], granted["draft"]}


def _studio_key(granted):
    from registry.accounts.services import api_key_create

    return api_key_create(
        organization=granted["studio"],
        creator=granted["studio_owner"],
        actor_role="owner",
        name="checks",
        presence=fresh_presence(),
    ).api_key


def test_a_caller_that_no_longer_exists_reads_as_no_caller(granted, client_for):
    # The access log's caller columns carry no database constraint (bulk checks write 1,000 rows at
    # a time): an id pointing nowhere must read as "no caller" on every page and in every answer.
    from django.test import Client

    entry = services.access_log_record(
        subject=granted["subject"],
        query={"medium": "face", "purpose": "film_tv", "territory": "ID", "date": "2027-01-01"},
        decision="denied",
        caller_org=granted["studio"],
        caller_key=_studio_key(granted),
        caller_user=granted["studio_owner"],
    )
    missing = 10**9
    AccessLogEntry.objects.filter(pk=entry.pk).update(
        caller_org_id=missing, caller_key_id=missing, caller_user_id=missing
    )
    subject_id = granted["subject"].public_id
    body = client_for(granted["person"]).get(f"/api/v1/subjects/{subject_id}/access-log").json()
    assert body["results"][0]["caller"]["organization"] is None
    assert body["results"][0]["caller"]["api_key"] is None
    pages = Client()
    pages.force_login(granted["person"])
    page = pages.get(f"/subjects/{subject_id}/access-log/")
    assert page.status_code == 200
    assert "—" in page.content.decode()
    export = pages.get("/me/export/")
    assert export.status_code == 200
    assert b'"caller": null' in export.content or b'"caller":null' in export.content


def test_deleting_a_caller_through_the_orm_empties_its_column(granted):
    key = _studio_key(granted)
    entry = services.access_log_record(
        subject=granted["subject"],
        query={"medium": "face", "purpose": "film_tv", "territory": "ID", "date": "2027-01-01"},
        decision="denied",
        caller_org=granted["studio"],
        caller_key=key,
    )
    key.delete()
    entry.refresh_from_db()
    assert entry.caller_key_id is None
    assert entry.caller_org_id == granted["studio"].pk
