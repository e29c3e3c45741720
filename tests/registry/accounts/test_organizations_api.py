"""Organizations and members through the API, for each role."""

import pytest

from registry.accounts.models import Invitation, Membership, Organization


@pytest.mark.django_db
def test_creator_becomes_owner(api, user):
    response = api.post("/api/v1/organizations", {"name": "Studio Satu", "slug": "studio-satu", "kind": "studio"})
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("org_")
    assert Membership.objects.get(organization__public_id=body["id"], user=user).role == "owner"


@pytest.mark.django_db
def test_duplicate_slug_is_a_conflict_and_creates_nothing(api, org):
    response = api.post("/api/v1/organizations", {"name": "Again", "slug": org.slug, "kind": "studio"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_unknown_kind_is_a_validation_problem(api):
    response = api.post("/api/v1/organizations", {"name": "X", "slug": "x", "kind": "bank"})
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]
    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_only_projects_have_repositories(api):
    response = api.post(
        "/api/v1/organizations",
        {"name": "S", "slug": "s", "kind": "studio", "repository_url": "https://example.org/repo"},
    )
    assert response.status_code == 400
    assert "repository_url" in response.json()["errors"]


@pytest.mark.django_db
def test_list_shows_only_my_organizations(api, org, make_user, make_org):
    make_org(make_user())
    response = api.get("/api/v1/organizations")
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["results"]] == [org.public_id]
    assert set(response.json()) == {"results", "next", "previous"}


@pytest.mark.django_db
def test_non_member_gets_404_for_organization_and_members(org, make_user, client_for):
    stranger = client_for(make_user())
    assert stranger.get(f"/api/v1/organizations/{org.public_id}").status_code == 404
    response = stranger.get(f"/api/v1/organizations/{org.public_id}/members")
    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.django_db
def test_member_cannot_invite_owner_or_anyone(org, make_user, client_for):
    member = make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    newcomer = make_user()
    response = client_for(member).post(
        f"/api/v1/organizations/{org.public_id}/members", {"email": newcomer.email, "role": "owner"}
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_admin_invites_members_but_not_owners(org, make_user, client_for):
    admin = make_user()
    Membership.objects.create(organization=org, user=admin, role="admin")
    newcomer = make_user()
    url = f"/api/v1/organizations/{org.public_id}/members"
    assert client_for(admin).post(url, {"email": newcomer.email, "role": "owner"}).status_code == 403
    response = client_for(admin).post(url, {"email": newcomer.email, "role": "member"})
    assert response.status_code == 201
    assert response.json()["status"] == "invited"
    assert response.json()["role"] == "member"
    # An invitation, not a membership: authority starts when the newcomer accepts.
    assert not Membership.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_owner_invites_owner_who_accepts(fresh_api, org, make_user, client_for, verified):
    newcomer = verified(make_user())
    response = fresh_api.post(
        f"/api/v1/organizations/{org.public_id}/members", {"email": newcomer.email, "role": "owner"}
    )
    assert response.status_code == 201
    assert not Membership.objects.filter(user=newcomer).exists()
    accepted = client_for(newcomer).post(f"/api/v1/invitations/{response.json()['id']}/accept")
    assert accepted.status_code == 200
    assert Membership.objects.get(user=newcomer).role == "owner"


@pytest.mark.django_db
def test_inviting_an_email_without_an_account_answers_like_any_other(api, org):
    # Before invitations this was a 400 naming the email: an oracle telling who has an account.
    response = api.post(f"/api/v1/organizations/{org.public_id}/members", {"email": "nobody@example.org"})
    assert response.status_code == 201
    assert response.json()["status"] == "invited"


@pytest.mark.django_db
def test_last_owner_cannot_leave(api, org, user):
    response = api.delete(f"/api/v1/organizations/{org.public_id}/members/{user.public_id}")
    assert response.status_code == 409
    assert Membership.objects.filter(organization=org, user=user).exists()


@pytest.mark.django_db
def test_owner_can_leave_when_another_owner_remains(api, org, user, make_user):
    Membership.objects.create(organization=org, user=make_user(), role="owner")
    response = api.delete(f"/api/v1/organizations/{org.public_id}/members/{user.public_id}")
    assert response.status_code == 204
    assert not Membership.objects.filter(organization=org, user=user).exists()


@pytest.mark.django_db
def test_admin_cannot_remove_an_owner(org, user, make_user, client_for):
    admin = make_user()
    Membership.objects.create(organization=org, user=admin, role="admin")
    response = client_for(admin).delete(f"/api/v1/organizations/{org.public_id}/members/{user.public_id}")
    assert response.status_code == 403


@pytest.mark.django_db
def test_etag_and_if_match_guard_updates(api, org):
    url = f"/api/v1/organizations/{org.public_id}"
    etag = api.get(url)["ETag"]
    assert etag
    stale = api.patch(url, {"name": "Renamed"}, HTTP_IF_MATCH='"not-the-etag"')
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    org.refresh_from_db()
    assert org.name != "Renamed"
    fresh = api.patch(url, {"name": "Renamed"}, HTTP_IF_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    org.refresh_from_db()
    assert org.name == "Renamed"


@pytest.mark.django_db
def test_members_cannot_rename(org, make_user, client_for):
    member = make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    response = client_for(member).patch(f"/api/v1/organizations/{org.public_id}", {"name": "Mine now"})
    assert response.status_code == 403
