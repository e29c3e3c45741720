"""Creating an API key and adding an owner need a fresh proof of presence; keys never manage people or keys."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.accounts import services
from registry.accounts.models import ApiKey, Invitation, Membership
from registry.accounts.presence import Presence
from registry.errors import ReauthenticationRequired
from tests.registry.accounts.conftest import presence_now

REAUTH = "/problems/reauthentication-required"


@pytest.mark.django_db
def test_creating_a_key_without_a_fresh_sign_in_is_refused_and_creates_nothing(api, org):
    response = api.post("/api/v1/api-keys", {"name": "farm", "organization": org.public_id})
    assert response.status_code == 403
    assert response.json()["type"].endswith(REAUTH)
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db
def test_creating_a_key_right_after_reauthenticating_works(fresh_api, org):
    response = fresh_api.post("/api/v1/api-keys", {"name": "farm", "organization": org.public_id})
    assert response.status_code == 201
    assert ApiKey.objects.filter(public_id=response.json()["id"]).exists()


@pytest.mark.django_db
def test_the_key_service_refuses_a_missing_or_stale_presence(org, user):
    stale = Presence(authenticated_at=timezone.now() - timedelta(minutes=6), second_factor=False, method="password")
    for presence in (None, stale):
        with pytest.raises(ReauthenticationRequired):
            services.api_key_create(organization=org, creator=user, actor_role="owner", name="x", presence=presence)
    assert ApiKey.objects.count() == 0
    issued = services.api_key_create(
        organization=org, creator=user, actor_role="owner", name="x", presence=presence_now()
    )
    assert issued.api_key.membership.user == user


@pytest.mark.django_db
def test_inviting_an_owner_needs_a_fresh_sign_in(api, fresh_api, org):
    url = f"/api/v1/organizations/{org.public_id}/members"
    refused = api.post(url, {"email": "new-owner@example.org", "role": "owner"})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith(REAUTH)
    assert Invitation.objects.count() == 0
    assert fresh_api.post(url, {"email": "new-owner@example.org", "role": "owner"}).status_code == 201
    # Members and admins need no re-authentication: only the owner role hands over the organization.
    assert api.post(url, {"email": "member@example.org", "role": "member"}).status_code == 201


@pytest.mark.django_db
def test_api_keys_never_manage_members_or_keys(org, user, make_user, key_client):
    machine, _ = key_client()
    other = make_user()
    Membership.objects.create(organization=org, user=other, role="member")
    members = f"/api/v1/organizations/{org.public_id}/members"
    refused = [
        machine.post(members, {"email": "someone@example.org", "role": "member"}),
        machine.delete(f"{members}/{other.public_id}"),
        machine.post("/api/v1/api-keys", {"name": "x", "organization": org.public_id}),
        machine.get("/api/v1/api-keys"),
        machine.get(f"/api/v1/api-keys/{ApiKey.objects.get().public_id}"),
        machine.delete(f"/api/v1/api-keys/{ApiKey.objects.get().public_id}"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert Invitation.objects.count() == 0
    assert Membership.objects.filter(user=other).exists()
    assert ApiKey.objects.get().revoked_at is None


@pytest.mark.django_db
def test_api_keys_cannot_accept_invitations(org, user, make_user, key_client):
    machine, _ = key_client()
    invitation = services.member_invite(
        organization=org, actor=user, actor_role="owner", email="invitee@example.org", role="member", presence=None
    )
    response = machine.post(f"/api/v1/invitations/{invitation.public_id}/accept")
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
