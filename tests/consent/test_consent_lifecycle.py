"""Expiry, disputes, vouches, notifications, and the selectors the verification issue relies on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import Consent, Dispute, Subject, SubjectProfile
from consent.tasks import expire_consents
from registry.accounts.presence import Presence
from registry.errors import ReauthenticationRequired
from registry.events.models import OutboxEvent
from registry.transparency.models import LogEntry

pytestmark = pytest.mark.django_db


def fresh() -> Presence:
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def today():
    return timezone.now().date()


def signed(subject, actor, **override):
    terms = {
        "effect": "permit",
        "grantee": "*",
        "media": ["face"],
        "activities": ["generate"],
        "purposes": ["film_tv"],
        "intended_use": "A period drama filmed in Bandung",
        "territories": ["ID"],
        "valid_from": today(),
        "valid_until": today() + timedelta(days=30),
    }
    terms.update(override)
    consent = services.consent_create(subject=subject, actor=actor, terms=terms)
    return services.consent_sign(consent=consent, actor=actor, method="witnessed", witness=fresh())


# --- Expiry (date rules: on verification_decide, test_trust_verification.py) ---------------------------


def test_the_sweep_expires_consents_past_their_end_and_logs_it(make_subject, monkeypatch):
    subject, person = make_subject()
    consent = signed(subject, person, valid_until=today())
    keeps = signed(subject, person, media=["voice"])
    # A day passes: a signed consent's end date never moves (a database trigger refuses), the clock does.
    tomorrow = today() + timedelta(days=1)
    monkeypatch.setattr("consent.services._common.today", lambda: tomorrow)

    assert expire_consents() == 1
    assert expire_consents() == 0  # idempotent

    consent.refresh_from_db()
    assert consent.status == "expired"
    assert Consent.objects.get(pk=keeps.pk).status == "active"
    leaf = LogEntry.objects.get(type="consent.expired", ref=consent.public_id)
    assert set(json.loads(bytes(leaf.leaf))) == {"type", "id", "digest", "at"}
    assert OutboxEvent.objects.filter(type="consent.expired", payload__consent=consent.public_id).exists()
    assert [e.type for e in consent.events.all()] == ["created", "signed", "expired"]


def test_the_sweep_expires_a_minors_consents_when_they_come_of_age(make_subject):
    subject, guardian = make_subject("minor")
    consent = signed(subject, guardian)
    Subject.objects.filter(pk=subject.pk).update(adult_on=today())
    assert expire_consents() == 1
    assert Consent.objects.get(pk=consent.pk).status == "expired"


# --- Disputes --------------------------------------------------------------------------------------------


def test_a_dispute_freezes_permits_until_staff_resolve_it(make_subject, make_user, client_for, fresh_client, terms):
    subject, person = make_subject()
    # A stranger can only dispute a subject they can see (docs/api.md v1.1: no existence oracle).
    SubjectProfile.objects.filter(subject=subject).update(is_public=True)
    claimant = make_user()
    response = client_for(claimant).post(
        f"/api/v1/subjects/{subject.public_id}/disputes",
        {"kind": "not_me", "statement": "That is my face, I never agreed."},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Subject.objects.get(pk=subject.pk).disputed

    api = fresh_client(person)
    draft = api.post("/api/v1/consents", terms(subject), format="json").json()
    assert api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}).status_code == 409
    deny = api.post("/api/v1/consents", terms(subject, effect="deny"), format="json").json()
    assert api.post(f"/api/v1/consents/{deny['id']}/sign", {"method": "witnessed"}).status_code == 200

    staff = make_user()
    staff.is_staff = True
    staff.is_superuser = True
    staff.save()
    admin = client_for(staff)
    admin.force_login(staff)
    dispute = Dispute.objects.get()
    result = admin.post(
        "/admin/consent/dispute/",
        {"action": "resolve", "_selected_action": [dispute.pk]},
        format="multipart",
    )
    assert result.status_code == 302
    assert Dispute.objects.get().status == "resolved"
    assert not Subject.objects.get(pk=subject.pk).disputed
    assert api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}).status_code == 200


def test_a_dispute_needs_a_signed_in_person_and_an_existing_subject(make_subject, anon, api):
    subject, _ = make_subject()
    assert anon.post(f"/api/v1/subjects/{subject.public_id}/disputes", {"kind": "not_me"}).status_code in (401, 403)
    assert api.post("/api/v1/subjects/sub_nope/disputes", {"kind": "not_me"}, format="json").status_code == 404
    # A private subject reads as a missing one, whatever the body (docs/api.md v1.1: no existence oracle).
    assert api.post(f"/api/v1/subjects/{subject.public_id}/disputes", {"kind": "meh"}, format="json").status_code == 404
    SubjectProfile.objects.filter(subject=subject).update(is_public=True)
    assert api.post(f"/api/v1/subjects/{subject.public_id}/disputes", {"kind": "meh"}, format="json").status_code == 400


# --- Vouches ---------------------------------------------------------------------------------------------


def test_a_guild_member_vouches_and_the_vouch_can_be_withdrawn(make_subject, make_user, make_org, client_for):
    subject, _ = make_subject()
    officer = make_user()
    guild = make_org(officer, kind="guild")
    api = client_for(officer)

    response = api.post(f"/api/v1/subjects/{subject.public_id}/vouches", {"organization": guild.public_id})

    assert response.status_code == 201, response.content
    vouch = response.json()
    assert Subject.objects.get(pk=subject.pk).assurance == "vouched"
    assert LogEntry.objects.filter(type="vouch.given", ref=vouch["id"]).exists()
    again = api.post(f"/api/v1/subjects/{subject.public_id}/vouches", {"organization": guild.public_id})
    assert again.status_code == 409

    withdrawn = api.delete(f"/api/v1/subjects/{subject.public_id}/vouches/{vouch['id']}")
    assert withdrawn.status_code == 200
    assert Subject.objects.get(pk=subject.pk).assurance == "self_asserted"
    assert LogEntry.objects.filter(type="vouch.revoked", ref=vouch["id"]).exists()


def test_withdrawing_a_vouch_twice_through_stale_copies_logs_it_once(make_subject, make_user, make_org):
    # Two requests that both loaded the vouch before either withdrew it.
    from consent import services
    from consent.models import Vouch
    from registry.events.models import OutboxEvent

    subject, _ = make_subject()
    officer = make_user()
    guild = make_org(officer, kind="guild")
    services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=officer)
    first, second = Vouch.objects.get(subject=subject), Vouch.objects.get(subject=subject)

    services.vouch_revoke(vouch=first, actor_role="owner")
    again = services.vouch_revoke(vouch=second, actor_role="owner")

    assert again.revoked_at == Vouch.objects.get(pk=first.pk).revoked_at
    assert LogEntry.objects.filter(type="vouch.revoked").count() == 1
    assert OutboxEvent.objects.filter(type="vouch.revoked").count() == 1


def test_retiring_a_subject_key_twice_through_stale_copies_logs_it_once(make_subject):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from joserfc.jwk import OKPKey

    from consent import services
    from consent.models import SubjectKey
    from registry.events.models import OutboxEvent

    subject, person = make_subject()
    jwk = OKPKey.import_key(Ed25519PrivateKey.generate()).as_dict(private=False)
    services.subject_key_add(subject=subject, actor=person, public_jwk=jwk, presence=fresh())
    first, second = SubjectKey.objects.get(subject=subject), SubjectKey.objects.get(subject=subject)

    services.subject_key_retire(key=first, actor=person, presence=fresh())
    services.subject_key_retire(key=second, actor=person, presence=fresh())

    assert LogEntry.objects.filter(type="subject_key.retired").count() == 1
    assert OutboxEvent.objects.filter(type="subject_key.retired").count() == 1


def test_a_studio_cannot_vouch_and_a_stranger_cannot_use_someone_elses_guild(
    make_subject, make_user, make_org, client_for
):
    subject, _ = make_subject()
    SubjectProfile.objects.filter(subject=subject).update(is_public=True)  # reachable by anyone
    boss = make_user()
    studio = make_org(boss, kind="studio")
    guild = make_org(make_user(), kind="guild")
    api = client_for(boss)
    assert (
        api.post(f"/api/v1/subjects/{subject.public_id}/vouches", {"organization": studio.public_id}).status_code == 403
    )
    # Naming an organization you are not in is 403, as everywhere (acting_organization).
    assert (
        api.post(f"/api/v1/subjects/{subject.public_id}/vouches", {"organization": guild.public_id}).status_code == 403
    )
    assert Subject.objects.get(pk=subject.pk).assurance == "self_asserted"


# --- Notifications ---------------------------------------------------------------------------------------


def test_nothing_is_emailed_when_the_change_is_rolled_back(make_subject, django_capture_on_commit_callbacks):
    subject, person = make_subject()
    consent = services.consent_create(
        subject=subject,
        actor=person,
        terms={"effect": "deny", "grantee": "*", "media": ["likeness"], "purposes": ["*"], "territories": ["*"]},
    )
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ReauthenticationRequired):
        services.consent_sign(consent=consent, actor=person, method="witnessed", witness=None)
    assert callbacks == []
