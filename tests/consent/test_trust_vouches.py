"""Vouches only from verified guilds and agencies; ``vouched`` only while such a vouch stands; and no
existence oracles on vouches, disputes and representatives (docs/api.md v1.1)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from consent import services
from consent.models import Dispute, Subject, SubjectProfile, Vouch
from registry.accounts.models import Organization
from registry.errors import NotAllowed
from registry.events.services import event_record
from registry.transparency.models import LogEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["guild", "agency", "studio"])
def test_an_unverified_organization_cannot_vouch_and_nothing_is_written(
    make_subject, make_user, make_org, client_for, kind
):
    subject, _ = make_subject()
    SubjectProfile.objects.filter(subject=subject).update(is_public=True)  # reachable: the refusal is about the org
    officer = make_user()
    organization = make_org(officer, kind=kind, verified=False)
    response = client_for(officer).post(
        f"/api/v1/subjects/{subject.public_id}/vouches", {"organization": organization.public_id}, format="json"
    )
    assert response.status_code == 403, response.content
    assert not Vouch.objects.exists()
    assert not LogEntry.objects.filter(type="vouch.given").exists()
    assert Subject.objects.get(pk=subject.pk).assurance != "vouched"


def test_a_verified_studio_still_cannot_vouch(make_subject, make_user, make_org):
    subject, _ = make_subject()
    officer = make_user()
    studio = make_org(officer, kind="studio", verified=True)
    with pytest.raises(NotAllowed):
        services.vouch_give(subject=subject, organization=studio, actor_role="owner", user=officer)


def test_vouched_lasts_only_while_the_vouching_organization_stays_verified(make_subject, make_user, make_org):
    subject, _ = make_subject()
    officer = make_user()
    guild = make_org(officer, kind="guild")
    services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=officer)
    assert Subject.objects.get(pk=subject.pk).assurance == "vouched"

    from django.db import transaction

    with transaction.atomic():
        Organization.objects.filter(pk=guild.pk).update(verified_at=None)
        event = event_record(type="organization.verification_withdrawn", payload={"organization": guild.public_id})
    from consent.tasks import assurance_refresh_for_organization

    assurance_refresh_for_organization(event.public_id)
    assert Subject.objects.get(pk=subject.pk).assurance != "vouched"


def test_the_withdrawal_handler_is_registered():
    from registry.events.services import handlers_for

    assert "consent.tasks.assurance_refresh_for_organization" in handlers_for("organization.verification_withdrawn")


def test_the_assurance_is_recomputed_from_verified_vouches_only(make_subject, make_user, make_org):
    subject, _ = make_subject()
    officer = make_user()
    guild = make_org(officer, kind="guild")
    services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=officer)
    Organization.objects.filter(pk=guild.pk).update(verified_at=None)
    assert services.subject_assurance_refresh(subject=Subject.objects.get(pk=subject.pk)).assurance != "vouched"
    Organization.objects.filter(pk=guild.pk).update(verified_at=timezone.now())
    assert services.subject_assurance_refresh(subject=Subject.objects.get(pk=subject.pk)).assurance == "vouched"


@pytest.mark.parametrize("endpoint", ["vouches", "disputes"])
@pytest.mark.parametrize("body", [{}, {"organization": 5, "kind": "nonsense"}])
def test_a_private_subject_and_a_missing_one_answer_alike(make_subject, make_user, client_for, endpoint, body):
    subject, _ = make_subject()
    stranger = client_for(make_user())
    private = stranger.post(f"/api/v1/subjects/{subject.public_id}/{endpoint}", body, format="json")
    missing = stranger.post(f"/api/v1/subjects/sub_{'0' * 26}/{endpoint}", body, format="json")
    assert private.status_code == missing.status_code == 404, (private.content, missing.content)
    assert not Dispute.objects.exists()


def test_anyone_may_still_dispute_a_public_subject(make_subject, make_user, client_for):
    subject, _ = make_subject()
    SubjectProfile.objects.filter(subject=subject).update(is_public=True)
    response = client_for(make_user()).post(
        f"/api/v1/subjects/{subject.public_id}/disputes", {"kind": "not_me"}, format="json"
    )
    assert response.status_code == 201, response.content
