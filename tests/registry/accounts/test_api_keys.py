"""The API-key lifecycle: create (shown once), use, revoke → 401; scope and storage."""

import hashlib

import pytest
from rest_framework.test import APIClient

from registry.accounts.models import ApiKey, Membership


@pytest.mark.django_db
def test_key_lifecycle_create_use_revoke(api, org):
    created = api.post("/api/v1/api-keys", {"name": "render farm", "organization": org.public_id})
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
    again = api.get(f"/api/v1/api-keys/{body['id']}").json()
    assert "key" not in again

    assert api.delete(f"/api/v1/api-keys/{body['id']}").status_code == 204
    refused = machine.get("/api/v1/organizations")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_key_is_stored_as_a_sha256_digest_only(api, org):
    secret = api.post("/api/v1/api-keys", {"name": "ci", "organization": org.public_id}).json()["key"]
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
def test_members_cannot_create_keys(org, make_user, client_for):
    member = make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    response = client_for(member).post("/api/v1/api-keys", {"name": "x", "organization": org.public_id})
    assert response.status_code == 403
    assert ApiKey.objects.count() == 0


@pytest.mark.django_db
def test_strangers_cannot_see_or_revoke_keys(api, org, make_user, client_for):
    key_id = api.post("/api/v1/api-keys", {"name": "ci", "organization": org.public_id}).json()["id"]
    stranger = client_for(make_user())
    assert stranger.get(f"/api/v1/api-keys/{key_id}").status_code == 404
    assert stranger.delete(f"/api/v1/api-keys/{key_id}").status_code == 404
    assert ApiKey.objects.get(public_id=key_id).revoked_at is None
