"""Representatives are invitations (docs/api.md v1.1): the same answer whether or not the address has an
account, and no authority until the invitee accepts; the inviter's authority is checked again then."""

from __future__ import annotations

import pytest

from consent import services
from consent.models import Representative
from tests.consent.conftest import accept_invitation, witness

pytestmark = pytest.mark.django_db


def _invite(api, subject, email, role="agent", **extra):
    return api.post(
        f"/api/v1/subjects/{subject.public_id}/representatives", {"email": email, "role": role, **extra}, format="json"
    )


def test_an_address_with_and_without_an_account_get_the_same_answer(make_subject, make_user, fresh_client):
    subject, person = make_subject()
    known = make_user("known.agent@example.org")
    api = fresh_client(person)

    with_account = _invite(api, subject, known.email)
    without = _invite(api, subject, "nobody.here@example.org")

    assert with_account.status_code == without.status_code == 201, (with_account.content, without.content)
    assert set(with_account.json()) == set(without.json())
    assert with_account.json()["status"] == without.json()["status"] == "invited"
    assert not Representative.objects.filter(subject=subject, role="agent").exists()


def test_only_the_invitee_accepts_and_only_then_authority_starts(make_subject, make_user, fresh_client):
    subject, person = make_subject()
    agent, intruder = make_user(), make_user()
    invitation = _invite(fresh_client(person), subject, agent.email).json()

    assert accept_invitation(intruder, invitation["id"]).status_code == 404
    assert services.representative_of(user=agent, subject=subject) is None
    assert accept_invitation(agent, invitation["id"]).status_code == 200
    assert services.representative_of(user=agent, subject=subject).role == "agent"
    assert accept_invitation(agent, invitation["id"]).status_code == 409


def test_an_invitation_dies_with_its_inviters_authority(make_subject, make_user, fresh_client):
    subject, person = make_subject()
    manager, invitee = make_user(), make_user()
    delegation = services.representative_add(
        subject=subject,
        actor=person,
        user=manager,
        role="agent",
        powers=["manage_representatives", "sign"],
        presence=witness(),
    )
    invitation = _invite(fresh_client(manager), subject, invitee.email, powers=["sign"]).json()
    services.representative_end(representative=delegation, actor=person, presence=witness())

    assert accept_invitation(invitee, invitation["id"]).status_code == 409
    assert not Representative.objects.filter(user=invitee).exists()
