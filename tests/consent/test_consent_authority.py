"""Who may sign and revoke: self for a living adult (or an agent within delegation), a guardian for a
minor, the estate for a deceased person — through the service and through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import Consent, Representative, Subject
from registry.accounts.presence import Presence
from registry.errors import NotFound
from registry.transparency.models import LogEntry
from tests.consent.conftest import accept_invitation

pytestmark = pytest.mark.django_db


def fresh() -> Presence:
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def _terms(**override):
    today = timezone.now().date()
    body = {
        "effect": "permit",
        "grantee": "*",
        "media": ["voice"],
        "activities": ["generate"],
        "purposes": ["advertising"],
        "intended_use": "Radio adverts for a Jakarta bakery",
        "territories": ["ID"],
        "valid_from": today,
        "valid_until": today + timedelta(days=100),
    }
    body.update(override)
    return body


def test_self_signs_for_a_living_adult(make_subject):
    subject, person = make_subject("living")
    consent = services.consent_create(subject=subject, actor=person, terms=_terms())
    services.consent_sign(consent=consent, actor=person, method="witnessed", witness=fresh())
    assert Consent.objects.get(pk=consent.pk).status == "active"


def test_a_guardian_signs_for_a_minor(make_subject):
    subject, guardian = make_subject("minor")
    consent = services.consent_create(subject=subject, actor=guardian, terms=_terms())
    services.consent_sign(consent=consent, actor=guardian, method="witnessed", witness=fresh())
    assert Consent.objects.get(pk=consent.pk).status == "active"


def test_the_estate_signs_for_a_deceased_person(make_subject):
    subject, estate = make_subject("deceased")
    consent = services.consent_create(subject=subject, actor=estate, terms=_terms())
    services.consent_sign(consent=consent, actor=estate, method="witnessed", witness=fresh())
    assert Consent.objects.get(pk=consent.pk).status == "active"


def test_a_guardian_cannot_sign_once_the_child_is_an_adult(make_subject, fresh_client, terms):
    subject, guardian = make_subject("minor")
    api = fresh_client(guardian)
    draft = api.post("/api/v1/consents", terms(subject), format="json").json()
    # Time passes: the child comes of age.
    Subject.objects.filter(pk=subject.pk).update(adult_on=timezone.now().date())

    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    # docs/api.md v1.1: on adult_on a guardian's authority and access end by themselves (404: no longer theirs).
    assert response.status_code == 404, response.content
    assert Consent.objects.get(public_id=draft["id"]).status == "draft"


def test_a_guardian_of_a_living_adult_is_refused_by_the_service(make_subject, make_user):
    subject, person = make_subject("living")
    guardian = make_user()
    Representative.objects.create(subject=subject, user=guardian, role="guardian")
    # A guardianship carries nothing once the person is not a minor: not even a draft.
    with pytest.raises(NotFound):
        services.consent_create(subject=subject, actor=guardian, terms=_terms())
    consent = services.consent_create(subject=subject, actor=person, terms=_terms())
    with pytest.raises(NotFound):
        services.consent_sign(consent=consent, actor=guardian, method="witnessed", witness=fresh())
    assert not LogEntry.objects.filter(ref=consent.public_id).exists()


def test_only_the_estate_signs_for_a_deceased_person(make_subject, fresh_client, terms):
    subject, person = make_subject("living")
    api = fresh_client(person)
    draft = api.post("/api/v1/consents", terms(subject), format="json").json()
    # The person dies; their own "self" representation no longer carries authority.
    Subject.objects.filter(pk=subject.pk).update(status="deceased", deceased_on=timezone.now().date())

    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    assert response.status_code == 403, response.content
    assert Consent.objects.get(public_id=draft["id"]).status == "draft"


def test_roles_must_fit_the_status_when_added(make_subject, make_user, fresh_client):
    subject, guardian = make_subject("minor")
    other = make_user("second.guardian@example.org")
    api = fresh_client(guardian)
    wrong = api.post(
        f"/api/v1/subjects/{subject.public_id}/representatives", {"email": other.email, "role": "estate"}, format="json"
    )
    assert wrong.status_code == 400
    ok = api.post(
        f"/api/v1/subjects/{subject.public_id}/representatives",
        {"email": other.email, "role": "guardian"},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["role"] == "guardian"
    assert ok.json()["status"] == "invited"


def _appoint_agent(fresh_client, make_user, subject, person, **extra):
    agent = make_user()
    response = fresh_client(person).post(
        f"/api/v1/subjects/{subject.public_id}/representatives",
        {"email": agent.email, "role": "agent", **extra},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "invited"
    # Nothing is granted until the agent accepts the invitation.
    assert not Representative.objects.filter(subject=subject, user=agent).exists()
    accepted = accept_invitation(agent, response.json()["id"])
    assert accepted.status_code == 200, accepted.content
    rep = Representative.objects.get(subject=subject, user=agent, role="agent")
    return agent, {"id": rep.public_id}


def test_an_agent_signs_within_the_delegation(make_subject, make_user, fresh_client, terms):
    subject, person = make_subject()
    agent, _ = _appoint_agent(
        fresh_client,
        make_user,
        subject,
        person,
        scope={"media": ["voice"], "activities": ["generate"], "purposes": ["advertising"]},
    )
    api = fresh_client(agent)
    inside = api.post(
        "/api/v1/consents", terms(subject, media=["voice"], purposes=["advertising"]), format="json"
    ).json()
    outside = api.post("/api/v1/consents", terms(subject, media=["face"], purposes=["advertising"]), format="json")
    outside = outside.json()

    assert api.post(f"/api/v1/consents/{inside['id']}/sign", {"method": "witnessed"}).status_code == 200
    refused = api.post(f"/api/v1/consents/{outside['id']}/sign", {"method": "witnessed"})
    assert refused.status_code == 403
    assert Consent.objects.get(public_id=outside["id"]).status == "draft"


def test_an_agent_cannot_act_after_the_delegation_ends(make_subject, make_user, fresh_client, terms):
    subject, person = make_subject()
    agent, rep = _appoint_agent(fresh_client, make_user, subject, person)
    api = fresh_client(agent)
    draft = api.post("/api/v1/consents", terms(subject), format="json").json()

    assert (
        fresh_client(person).delete(f"/api/v1/subjects/{subject.public_id}/representatives/{rep['id']}").status_code
        == 204
    )
    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    assert response.status_code == 404  # no longer a representative: the consent is not theirs to see
    assert Consent.objects.get(public_id=draft["id"]).status == "draft"


def test_an_agents_delegation_expires_on_its_date(make_subject, make_user, fresh_client):
    subject, person = make_subject()
    agent, rep = _appoint_agent(
        fresh_client, make_user, subject, person, valid_until=(timezone.now().date() + timedelta(days=5)).isoformat()
    )
    consent = services.consent_create(subject=subject, actor=agent, terms=_terms())
    Representative.objects.filter(public_id=rep["id"]).update(valid_until=timezone.now().date() - timedelta(days=1))
    with pytest.raises(Exception, match="No such subject"):
        services.consent_sign(consent=consent, actor=agent, method="witnessed", witness=fresh())


def test_only_the_person_appoints_an_agent(make_subject, make_user, fresh_client):
    subject, guardian = make_subject("minor")
    response = fresh_client(guardian).post(
        f"/api/v1/subjects/{subject.public_id}/representatives",
        {"email": make_user().email, "role": "agent"},
        format="json",
    )
    assert response.status_code == 403


def test_an_agent_may_revoke_within_the_delegation(make_subject, make_user, fresh_client, terms):
    subject, person = make_subject()
    agent, _ = _appoint_agent(fresh_client, make_user, subject, person)
    owner = fresh_client(person)
    draft = owner.post("/api/v1/consents", terms(subject), format="json").json()
    owner.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    response = fresh_client(agent).post(f"/api/v1/consents/{draft['id']}/revoke", {"reason": "on instruction"})

    assert response.status_code == 200
    assert response.json()["revoked"]["by"] == Representative.objects.get(user=agent).public_id
