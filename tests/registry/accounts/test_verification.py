"""Registry staff verify organizations: logged, announced, shown in the API; nobody else can."""

import json

import pytest
from django.test import Client

from registry.accounts import services
from registry.accounts.models import Organization
from registry.errors import NotAllowed
from registry.events.models import OutboxEvent
from registry.transparency.models import LogEntry


@pytest.fixture
def staff(make_user):
    person = make_user("staff@restu.example")
    person.is_staff = True
    person.is_superuser = True
    person.save()
    return person


@pytest.mark.django_db
def test_staff_verification_is_logged_announced_and_shown(api, make_org, user, staff):
    guild = make_org(user, kind="guild")
    shown = api.get(f"/api/v1/organizations/{guild.public_id}").json()
    assert shown["verification"] == {"status": "unverified", "at": None}

    services.organization_verify(organization=guild, staff_user=staff)

    guild.refresh_from_db()
    assert guild.is_verified
    assert guild.may_vouch
    leaf = LogEntry.objects.get(type="organization.verified")
    assert leaf.ref == guild.public_id
    event = OutboxEvent.objects.get(type="organization.verified")
    assert event.payload["organization"] == guild.public_id
    # Leaves and events carry ids and digests: not the staff member, not the organization's name.
    for text in (bytes(leaf.leaf).decode(), json.dumps(event.payload)):
        assert staff.email not in text
        assert guild.name not in text
    body = api.get(f"/api/v1/organizations/{guild.public_id}").json()
    assert body["verification"]["status"] == "verified"
    assert body["verification"]["at"].endswith("Z")


@pytest.mark.django_db
def test_withdrawal_is_logged_announced_and_ends_vouching(api, make_org, user, staff):
    guild = make_org(user, kind="guild")
    services.organization_verify(organization=guild, staff_user=staff)
    services.organization_verification_withdraw(organization=guild, staff_user=staff)

    guild.refresh_from_db()
    assert not guild.is_verified
    assert not guild.may_vouch
    assert LogEntry.objects.filter(type="organization.verification_withdrawn", ref=guild.public_id).count() == 1
    event = OutboxEvent.objects.get(type="organization.verification_withdrawn")
    assert event.payload["organization"] == guild.public_id
    assert api.get(f"/api/v1/organizations/{guild.public_id}").json()["verification"] == {
        "status": "unverified",
        "at": None,
    }


@pytest.mark.django_db
def test_verifying_twice_logs_once(make_org, user, staff):
    guild = make_org(user, kind="guild")
    services.organization_verify(organization=guild, staff_user=staff)
    services.organization_verify(organization=guild, staff_user=staff)
    services.organization_verification_withdraw(organization=guild, staff_user=staff)
    services.organization_verification_withdraw(organization=guild, staff_user=staff)
    assert LogEntry.objects.filter(type="organization.verified").count() == 1
    assert LogEntry.objects.filter(type="organization.verification_withdrawn").count() == 1
    assert OutboxEvent.objects.filter(type__startswith="organization.").count() == 2


@pytest.mark.django_db
def test_only_staff_verify(make_org, user):
    guild = make_org(user, kind="guild")
    with pytest.raises(NotAllowed):
        services.organization_verify(organization=guild, staff_user=user)
    guild.refresh_from_db()
    assert not guild.is_verified
    assert not LogEntry.objects.filter(type="organization.verified").exists()


@pytest.mark.django_db
def test_members_cannot_verify_through_the_api(api, make_org, user):
    guild = make_org(user, kind="guild")
    url = f"/api/v1/organizations/{guild.public_id}"
    etag = api.get(url)["ETag"]
    response = api.patch(url, {"verification": {"status": "verified"}}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    guild.refresh_from_db()
    assert not guild.is_verified


@pytest.mark.django_db
def test_admin_actions_verify_and_withdraw(make_org, user, staff):
    guild = make_org(user, kind="guild")
    browser = Client()
    browser.force_login(staff)
    url = "/admin/accounts/organization/"
    response = browser.post(url, {"action": "verify_organizations", "_selected_action": [guild.pk]})
    assert response.status_code == 302
    guild.refresh_from_db()
    assert guild.is_verified
    assert LogEntry.objects.filter(type="organization.verified", ref=guild.public_id).exists()

    response = browser.post(url, {"action": "withdraw_verification", "_selected_action": [guild.pk]})
    assert response.status_code == 302
    guild.refresh_from_db()
    assert not guild.is_verified
    assert LogEntry.objects.filter(type="organization.verification_withdrawn", ref=guild.public_id).exists()


@pytest.mark.django_db
def test_verified_at_cannot_be_edited_in_the_admin_form(make_org, user, staff):
    guild = make_org(user, kind="guild")
    browser = Client()
    browser.force_login(staff)
    page = browser.get(f"/admin/accounts/organization/{guild.pk}/change/")
    assert page.status_code == 200
    assert 'name="verified_at' not in page.content.decode()
    assert Organization.objects.get(pk=guild.pk).verified_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("refusing", ["log_append", "event_record"])
def test_a_verification_whose_leaf_or_event_fails_does_not_happen(make_org, user, staff, monkeypatch, refusing):
    guild = make_org(user, kind="guild")

    def refuse(**kwargs):
        raise RuntimeError("restu test: refused")

    monkeypatch.setattr(services, refusing, refuse)
    with pytest.raises(RuntimeError, match="restu test"):
        services.organization_verify(organization=guild, staff_user=staff)
    assert Organization.objects.get(pk=guild.pk).verified_at is None
    assert not OutboxEvent.objects.filter(type="organization.verified").exists()
    assert not LogEntry.objects.filter(type="organization.verified").exists()
    monkeypatch.undo()
    services.organization_verify(organization=guild, staff_user=staff)
    assert Organization.objects.get(pk=guild.pk).verified_at is not None
