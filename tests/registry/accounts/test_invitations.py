"""Members are invitations: the same answer for every email, authority only once the invitee accepts."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.accounts import services
from registry.accounts.models import Invitation, Membership
from registry.errors import Conflict, ValidationFailed
from tests.registry.accounts.conftest import presence_now

TOKEN = re.compile(r"/invitations/([A-Za-z0-9_-]{20,})/")


def _members_url(org):
    return f"/api/v1/organizations/{org.public_id}/members"


def _token_from(message):
    found = TOKEN.search(message.body)
    assert found, message.body
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_inviting_answers_alike_whether_or_not_an_account_exists(api, org, make_user):
    known = make_user("known@example.org")
    answers = [api.post(_members_url(org), {"email": email, "role": "member"}) for email in (known.email, "x@ex.org")]
    assert [a.status_code for a in answers] == [201, 201]
    first, second = (a.json() for a in answers)
    assert first["status"] == second["status"] == "invited"
    assert set(first) == set(second)
    assert {k: v for k, v in first.items() if k not in {"id", "email", "expires", "created"}} == {
        k: v for k, v in second.items() if k not in {"id", "email", "expires", "created"}
    }
    # Nobody holds authority before accepting.
    assert not Membership.objects.filter(user=known).exists()
    # Both were emailed (after commit), each with its own link.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([known.email, "x@ex.org"])
    assert _token_from(mail.outbox[0]) != _token_from(mail.outbox[1])


@pytest.mark.django_db
def test_inviting_does_the_same_database_work_for_known_and_unknown_emails(api, org, make_user):
    make_user("known@example.org")
    counts = []
    for email in ("known@example.org", "unknown@example.org"):
        with CaptureQueriesContext(connection) as queries:
            assert api.post(_members_url(org), {"email": email, "role": "member"}).status_code == 201
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db(transaction=True)
def test_the_link_token_is_stored_only_as_a_digest(api, org):
    api.post(_members_url(org), {"email": "new@example.org", "role": "member"})
    token = _token_from(mail.outbox[0])
    invitation = Invitation.objects.get()
    assert token not in {str(getattr(invitation, f.attname)) for f in Invitation._meta.fields}
    assert token not in str(invitation.payload)


@pytest.mark.django_db
def test_the_invitee_accepts_and_only_then_becomes_a_member(api, org, make_user, client_for, verified):
    invitee = verified(make_user("invitee@example.org"))
    invitation_id = api.post(_members_url(org), {"email": "Invitee@Example.org", "role": "admin"}).json()["id"]
    assert not Membership.objects.filter(user=invitee).exists()

    mine = client_for(invitee).get("/api/v1/invitations").json()["results"]
    assert [i["id"] for i in mine] == [invitation_id]
    assert mine[0]["status"] == "pending"

    accepted = client_for(invitee).post(f"/api/v1/invitations/{invitation_id}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert Membership.objects.get(organization=org, user=invitee).role == "admin"
    assert client_for(invitee).post(f"/api/v1/invitations/{invitation_id}/accept").status_code == 409
    assert Membership.objects.filter(organization=org, user=invitee).count() == 1


@pytest.mark.django_db
def test_someone_else_cannot_accept(api, org, make_user, client_for, verified):
    intruder = verified(make_user("intruder@example.org"))
    invitation_id = api.post(_members_url(org), {"email": "invitee@example.org", "role": "member"}).json()["id"]
    response = client_for(intruder).post(f"/api/v1/invitations/{invitation_id}/accept")
    assert response.status_code == 404
    assert client_for(intruder).get("/api/v1/invitations").json()["results"] == []
    assert not Membership.objects.filter(user=intruder).exists()
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.django_db
def test_an_unverified_email_cannot_accept(api, org, make_user, client_for):
    invitee = make_user("invitee@example.org")  # the account exists, its email is not verified
    invitation_id = api.post(_members_url(org), {"email": invitee.email, "role": "member"}).json()["id"]
    response = client_for(invitee).post(f"/api/v1/invitations/{invitation_id}/accept")
    assert response.status_code == 403
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_an_expired_invitation_cannot_be_accepted(api, org, make_user, client_for, verified):
    invitee = verified(make_user("invitee@example.org"))
    invitation_id = api.post(_members_url(org), {"email": invitee.email, "role": "member"}).json()["id"]
    Invitation.objects.filter(public_id=invitation_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(invitee).post(f"/api/v1/invitations/{invitation_id}/accept")
    assert response.status_code == 409
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_an_invitation_dies_with_its_inviters_authority(org, user, make_user, client_for, verified):
    admin = make_user()
    Membership.objects.create(organization=org, user=admin, role="admin")
    invitee = verified(make_user("invitee@example.org"))
    invitation = services.member_invite(
        organization=org, actor=admin, actor_role="admin", email=invitee.email, role="member", presence=None
    )
    Membership.objects.filter(user=admin).update(role="member")
    response = client_for(invitee).post(f"/api/v1/invitations/{invitation.public_id}/accept")
    assert response.status_code == 409
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_roles_decide_who_may_invite_whom(org, make_user, client_for):
    member, admin = make_user(), make_user()
    Membership.objects.create(organization=org, user=member, role="member")
    Membership.objects.create(organization=org, user=admin, role="admin")
    assert client_for(member).post(_members_url(org), {"email": "a@example.org", "role": "member"}).status_code == 403
    assert client_for(admin).post(_members_url(org), {"email": "a@example.org", "role": "owner"}).status_code == 403
    assert client_for(admin).post(_members_url(org), {"email": "a@example.org", "role": "admin"}).status_code == 201
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_strangers_learn_nothing_from_inviting(org, make_user, client_for):
    stranger = client_for(make_user())
    assert stranger.post(_members_url(org), {"email": "a@example.org", "role": "member"}).status_code == 404
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_bad_invitations_are_validation_problems(api, org):
    for body in ({"email": "not-an-email"}, {"email": "a@example.org", "role": "emperor"}, {"role": "member"}):
        response = api.post(_members_url(org), body)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
    assert Invitation.objects.count() == 0


@pytest.mark.django_db
def test_unknown_or_malformed_invitation_ids_are_404(make_user, client_for, verified):
    person = client_for(verified(make_user()))
    for invitation_id in ("inv_00000000000000000000000000", "nonsense", "inv_" + "z" * 200):
        assert person.post(f"/api/v1/invitations/{invitation_id}/accept").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_emailed_link_accepts_for_the_signed_in_invitee(api, org, make_user):
    from django.test import Client

    invitee = make_user("invitee@example.org")
    api.post(_members_url(org), {"email": invitee.email, "role": "member"})
    token = _token_from(mail.outbox[0])
    browser = Client()
    assert browser.get(f"/invitations/{token}/").status_code == 302  # sign in first
    browser.force_login(invitee)
    page = browser.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert org.name in page.content.decode()
    assert not Membership.objects.filter(user=invitee).exists()
    assert browser.post(f"/invitations/{token}/").status_code == 302
    assert Membership.objects.get(organization=org, user=invitee).role == "member"


@pytest.mark.django_db(transaction=True)
def test_the_emailed_link_does_nothing_for_another_account(api, org, make_user):
    from django.test import Client

    api.post(_members_url(org), {"email": "invitee@example.org", "role": "member"})
    token = _token_from(mail.outbox[0])
    other = make_user("other@example.org")
    browser = Client()
    browser.force_login(other)
    assert browser.post(f"/invitations/{token}/").status_code == 404
    assert not Membership.objects.filter(user=other).exists()


@pytest.mark.django_db
def test_kinds_registered_by_other_apps_are_accepted_through_their_callable(org, user, make_user, verified):
    seen = []
    services.invitation_kind_register(
        "test-kind", accept=lambda invitation, person: seen.append((invitation.payload, person.pk))
    )
    invitee = verified(make_user("invitee@example.org"))
    invitation = services.invitation_create(
        kind="test-kind", email=invitee.email, created_by=user, target="sub_" + "a" * 26, payload={"role": "agent"}
    )
    services.invitation_accept(invitation=invitation, user=invitee)
    assert seen == [({"role": "agent"}, invitee.pk)]
    with pytest.raises(Conflict):
        services.invitation_accept(invitation=invitation, user=invitee)
    with pytest.raises(ValidationFailed):
        services.invitation_create(kind="no-such-kind", email="a@example.org", created_by=user, target="x")


@pytest.mark.django_db
def test_accepting_a_new_owner_invitation_makes_an_owner(org, user, make_user, verified):
    invitee = verified(make_user("invitee@example.org"))
    invitation = services.member_invite(
        organization=org, actor=user, actor_role="owner", email=invitee.email, role="owner", presence=presence_now()
    )
    services.invitation_accept(invitation=invitation, user=invitee)
    assert Membership.objects.get(organization=org, user=invitee).role == "owner"


@pytest.mark.django_db
def test_accepting_with_an_empty_json_body_or_the_token_in_the_body(api, org, make_user, client_for):
    invitee = make_user("invitee@example.org")
    api.post(_members_url(org), {"email": invitee.email, "role": "member"})
    invitation = Invitation.objects.get()
    person = client_for(invitee)
    url = f"/api/v1/invitations/{invitation.public_id}/accept"
    # Unverified address, no token: not yet; an empty JSON body is no parse error.
    assert person.generic("POST", url, data="", content_type="application/json").status_code == 403
    assert person.post(url, {"token": "not-the-token"}).status_code == 404
    assert person.post(url, {"token": "x", "role": "owner"}).status_code == 400
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_erasure_removes_invitations_to_and_from_the_person(org, user, make_user, verified):
    person = verified(make_user("leaving@example.org"))
    Membership.objects.create(organization=org, user=person, role="admin")
    to_them = services.member_invite(
        organization=org, actor=user, actor_role="owner", email=person.email, role="member", presence=None
    )
    pending = services.member_invite(
        organization=org, actor=person, actor_role="admin", email="pending@example.org", role="member", presence=None
    )
    accepted = services.member_invite(
        organization=org, actor=person, actor_role="admin", email="accepted@example.org", role="member", presence=None
    )
    Invitation.objects.filter(pk=accepted.pk).update(accepted_at=timezone.now())

    services.invitations_erase_for(user=person)

    assert not Invitation.objects.filter(pk__in=[to_them.pk, pending.pk]).exists()
    assert Invitation.objects.get(pk=accepted.pk).created_by is None
    assert not Invitation.objects.filter(email=person.email).exists()


@pytest.mark.django_db
def test_access_is_decided_before_the_body_is_read(api, org, make_user, client_for, verified):
    api.post(_members_url(org), {"email": "invitee@example.org", "role": "member"})
    invitation = Invitation.objects.get()
    outsider = client_for(verified(make_user("outsider@example.org")))
    url = f"/api/v1/invitations/{invitation.public_id}/accept"
    assert outsider.generic("POST", url, data="{not json", content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_admins_see_and_withdraw_pending_invitations(org, make_user, client_for, fresh_api, verified):
    admin, member = make_user(), make_user()
    Membership.objects.create(organization=org, user=admin, role="admin")
    Membership.objects.create(organization=org, user=member, role="member")
    url = f"/api/v1/organizations/{org.public_id}/invitations"
    as_member = fresh_api.post(_members_url(org), {"email": "m@example.org", "role": "member"}).json()["id"]
    as_owner = fresh_api.post(_members_url(org), {"email": "o@example.org", "role": "owner"}).json()["id"]

    listed = client_for(admin).get(url).json()["results"]
    assert {i["id"] for i in listed} == {as_member, as_owner}
    assert client_for(member).get(url).status_code == 403
    assert client_for(make_user()).get(url).status_code == 404

    # An admin may withdraw a member invitation, not an owner invitation.
    assert client_for(admin).delete(f"{url}/{as_owner}").status_code == 403
    assert client_for(member).delete(f"{url}/{as_member}").status_code == 403
    assert client_for(admin).delete(f"{url}/{as_member}").status_code == 204
    assert fresh_api.delete(f"{url}/{as_owner}").status_code == 204
    assert client_for(admin).get(url).json()["results"] == []

    invitee = verified(make_user("m@example.org"))
    assert client_for(invitee).post(f"/api/v1/invitations/{as_member}/accept").status_code == 409
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_an_invitation_of_another_organization_cannot_be_withdrawn_through_mine(org, user, make_org, fresh_api):
    mine = make_org(user)
    other = fresh_api.post(_members_url(org), {"email": "x@example.org", "role": "member"}).json()["id"]
    response = fresh_api.delete(f"/api/v1/organizations/{mine.public_id}/invitations/{other}")
    assert response.status_code == 404
    assert Invitation.objects.get(public_id=other).cancelled_at is None
