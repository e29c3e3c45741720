"""The API-key lifecycle: create (shown once), use, revoke → 401; scope and storage."""

import hashlib
import secrets

import pytest
from rest_framework.test import APIClient

from registry.accounts import services
from registry.accounts.models import ApiKey, Membership
from registry.errors import Conflict
from tests.registry.accounts.conftest import presence_now as now


@pytest.mark.django_db
def test_key_lifecycle_create_use_revoke(fresh_api, org):
    created = fresh_api.post("/api/v1/api-keys", {"name": "render farm", "organization": org.public_id})
    assert created.status_code == 201
    body = created.json()
    secret = body["key"]
    assert body["id"].startswith("key_")
    assert secret.startswith(f"restu_{body['prefix']}_")

    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    listed = machine.get("/api/v1/organizations")
    assert listed.status_code == 200
    assert [o["id"] for o in listed.json()["results"]] == [org.public_id]
    assert ApiKey.objects.get(public_id=body["id"]).last_used_at is not None

    # The secret is never shown again.
    again = fresh_api.get(f"/api/v1/api-keys/{body['id']}").json()
    assert "key" not in again

    assert fresh_api.delete(f"/api/v1/api-keys/{body['id']}").status_code == 204
    refused = machine.get("/api/v1/organizations")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_key_is_stored_as_a_sha256_digest_only(fresh_api, org):
    secret = fresh_api.post("/api/v1/api-keys", {"name": "ci", "organization": org.public_id}).json()["key"]
    stored = ApiKey.objects.get()
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(getattr(stored, f.attname)) for f in ApiKey._meta.fields}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Bearer restu_deadbeef_forged", "Bearer not-a-restu-key", "Bearer "],
)
def test_forged_keys_get_401(header, org):
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=header)
    response = machine.get("/api/v1/organizations")
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


@pytest.mark.django_db
def test_key_acts_only_for_its_organization(org, user, make_org, key_client):
    other = make_org(user)
    machine, _ = key_client()
    assert machine.get(f"/api/v1/organizations/{org.public_id}").status_code == 200
    assert machine.get(f"/api/v1/organizations/{other.public_id}").status_code == 404


@pytest.mark.django_db
def test_key_cannot_mint_keys_or_organizations(key_client, org):
    machine, _ = key_client()
    assert machine.post("/api/v1/api-keys", {"name": "x", "organization": org.public_id}).status_code == 403
    assert machine.post("/api/v1/organizations", {"name": "x", "slug": "x", "kind": "studio"}).status_code == 403
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
def test_key_stops_working_when_its_creator_leaves(org, user, make_user, key_client):
    machine, _ = key_client()
    Membership.objects.create(organization=org, user=make_user(), role="owner")
    Membership.objects.filter(organization=org, user=user).delete()
    assert machine.get("/api/v1/organizations").status_code == 401


@pytest.mark.django_db
def test_members_cannot_create_keys(org, make_user, fresh_client):
    member = make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    response = fresh_client(member).post("/api/v1/api-keys", {"name": "x", "organization": org.public_id})
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db
def test_strangers_cannot_see_or_revoke_keys(fresh_api, org, make_user, client_for):
    key_id = fresh_api.post("/api/v1/api-keys", {"name": "ci", "organization": org.public_id}).json()["id"]
    stranger = client_for(make_user())
    assert stranger.get(f"/api/v1/api-keys/{key_id}").status_code == 404
    assert stranger.delete(f"/api/v1/api-keys/{key_id}").status_code == 404
    assert ApiKey.objects.get(public_id=key_id).revoked_at is None


@pytest.mark.django_db
def test_a_key_whose_creator_left_stays_dead_when_they_are_re_added(org, user, make_user, fresh_client, verified):
    """Removed through the API, then invited back and accepted: the old key is refused for good."""
    co_owner = make_user()
    Membership.objects.create(organization=org, user=co_owner, role="owner")
    machine, _ = key_client_for(org, user)
    assert machine.get("/api/v1/organizations").status_code == 200

    owner_api = fresh_client(co_owner)
    url = f"/api/v1/organizations/{org.public_id}/members"
    assert owner_api.delete(f"{url}/{user.public_id}").status_code == 204
    assert machine.get("/api/v1/organizations").status_code == 401

    verified(user)
    invitation_id = owner_api.post(url, {"email": user.email, "role": "owner"}).json()["id"]
    assert fresh_client(user).post(f"/api/v1/invitations/{invitation_id}/accept").status_code == 200
    assert Membership.objects.get(organization=org, user=user).role == "owner"
    assert machine.get("/api/v1/organizations").status_code == 401
    assert ApiKey.objects.get().revoked_at is not None


@pytest.mark.django_db
def test_a_key_stays_dead_even_when_the_membership_row_is_deleted_and_recreated(org, user, make_user):
    """However the membership ends (admin inline, a cascade, a queryset delete), its keys end with it."""
    Membership.objects.create(organization=org, user=make_user(), role="owner")
    machine, _ = key_client_for(org, user)
    Membership.objects.filter(organization=org, user=user).delete()
    Membership.objects.create(organization=org, user=user, role="owner")
    assert machine.get("/api/v1/organizations").status_code == 401


@pytest.mark.django_db
def test_a_prefix_collision_is_retried_with_a_new_prefix(org, user, monkeypatch):
    real = secrets.token_hex
    repeats = iter(["c011151f", "c011151f"])

    def token_hex(nbytes=None):
        if nbytes == 4:
            return next(repeats, None) or real(nbytes)
        return real(nbytes)

    monkeypatch.setattr(secrets, "token_hex", token_hex)
    first = services.api_key_create(organization=org, creator=user, actor_role="owner", name="a", presence=now())
    second = services.api_key_create(organization=org, creator=user, actor_role="owner", name="b", presence=now())
    assert first.api_key.prefix == "c011151f"
    assert second.api_key.prefix != "c011151f"
    assert second.secret.startswith(f"restu_{second.api_key.prefix}_")
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {second.secret}")
    assert machine.get("/api/v1/organizations").status_code == 200


@pytest.mark.django_db
def test_prefix_retries_are_bounded(org, user, monkeypatch):
    services.api_key_create(organization=org, creator=user, actor_role="owner", name="a", presence=now())
    taken = ApiKey.objects.get().prefix
    real = secrets.token_hex
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes=None: taken if nbytes == 4 else real(nbytes))
    with pytest.raises(Conflict):
        services.api_key_create(organization=org, creator=user, actor_role="owner", name="b", presence=now())
    assert ApiKey.objects.count() == 1


def key_client_for(organization, creator):
    issued = services.api_key_create(
        organization=organization, creator=creator, actor_role="owner", name="ci", presence=now()
    )
    machine = APIClient()
    machine.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return machine, issued.secret
