"""Minors and coming of age (docs/api.md v1.1): no sexual or political permits for a minor, however they
are reached; on ``adult_on`` a guardian's authority ends and the person takes the record over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import Consent, Representative, Subject
from registry.errors import NotAllowed, NotFound, ValidationFailed
from tests.consent.conftest import accept_invitation, as_service_terms, witness

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("purpose", ["sexual_content", "political"])
def test_a_permit_for_a_minor_never_names_a_sexual_or_political_purpose(make_subject, fresh_client, terms, purpose):
    subject, guardian = make_subject("minor")
    api = fresh_client(guardian)
    response = api.post("/api/v1/consents", terms(subject, purposes=["film_tv", purpose]), format="json")
    assert response.status_code == 400, response.content
    assert "purposes" in response.json()["errors"]
    assert not Consent.objects.exists()

    draft = api.post("/api/v1/consents", terms(subject), format="json").json()
    changed = api.patch(f"/api/v1/consents/{draft['id']}", {"purposes": [purpose]}, format="json")
    assert changed.status_code == 400, changed.content
    assert "purposes" in changed.json()["errors"]


def test_a_deny_for_a_minor_may_name_them(make_subject, terms):
    subject, guardian = make_subject("minor")
    body = as_service_terms(terms(subject, effect="deny", purposes=["sexual_content", "political"]))
    draft = services.consent_create(subject=subject, actor=guardian, terms=body)
    assert (
        services.consent_sign(consent=draft, actor=guardian, method="witnessed", witness=witness()).status == "active"
    )


def test_a_draft_that_already_names_them_cannot_be_signed(make_subject, terms):
    # A draft written before the rule (or by any other path) still stops at the signing step.
    subject, guardian = make_subject("minor")
    draft = services.consent_create(subject=subject, actor=guardian, terms=as_service_terms(terms(subject)))
    Consent.objects.filter(pk=draft.pk).update(purposes=["sexual_content"], purpose_mask=1 << 30)
    draft.refresh_from_db()
    draft.purposes = ["sexual_content"]
    with pytest.raises(ValidationFailed) as exc:
        services.consent_sign(consent=draft, actor=guardian, method="witnessed", witness=witness())
    assert "purposes" in exc.value.errors
    assert Consent.objects.get(pk=draft.pk).status == "draft"


def _come_of_age(subject: Subject) -> Subject:
    Subject.objects.filter(pk=subject.pk).update(adult_on=timezone.now().date())
    return Subject.objects.get(pk=subject.pk)


def test_a_guardians_authority_and_access_end_on_adult_on(make_subject, fresh_client, terms):
    subject, guardian = make_subject("minor")
    subject = _come_of_age(subject)

    assert services.representative_of(user=guardian, subject=subject) is None
    api = fresh_client(guardian)
    assert api.get(f"/api/v1/subjects/{subject.public_id}").status_code == 404
    assert api.get(f"/api/v1/subjects/{subject.public_id}/access-log").status_code == 404
    assert api.get("/api/v1/subjects").json()["results"] == []
    with pytest.raises(NotFound):
        services.consent_create(subject=subject, actor=guardian, terms=as_service_terms(terms(subject)))


def test_the_daily_sweep_ends_guardianships_of_people_who_came_of_age(make_subject):
    subject, guardian = make_subject("minor")
    subject = _come_of_age(subject)
    services.consents_expire_due()
    assert Representative.objects.get(subject=subject, user=guardian).ended_at is not None


def test_a_former_guardian_hands_the_record_to_the_person(make_subject, make_user, fresh_client, terms):
    subject, guardian = make_subject("minor")
    second = make_user()
    services.representative_add(subject=subject, actor=guardian, user=second, role="guardian", presence=witness())
    subject = _come_of_age(subject)
    adult = make_user("now.an.adult@example.org")

    # Nothing else: not another guardian, not an agent.
    with pytest.raises((NotAllowed, NotFound, ValidationFailed)):
        services.representative_add(subject=subject, actor=guardian, user=make_user(), role="agent", presence=witness())

    api = fresh_client(guardian)
    response = api.post(
        f"/api/v1/subjects/{subject.public_id}/representatives",
        {"email": adult.email, "role": "self"},
        format="json",
    )
    assert response.status_code == 201, response.content
    # The guardian cannot take the person's place by inviting their own address.
    own = api.post(
        f"/api/v1/subjects/{subject.public_id}/representatives",
        {"email": guardian.email, "role": "self"},
        format="json",
    )
    assert accept_invitation(guardian, own.json()["id"]).status_code == 403
    assert services.representative_of(user=adult, subject=subject) is None  # not before accepting
    assert accept_invitation(adult, response.json()["id"]).status_code == 200, "the person accepts"

    assert services.representative_of(user=adult, subject=subject).role == "self"
    assert not Representative.objects.filter(subject=subject, role="guardian", ended_at__isnull=True).exists()
    subject.refresh_from_db()
    draft = services.consent_create(subject=subject, actor=adult, terms=as_service_terms(terms(subject)))
    assert services.consent_sign(consent=draft, actor=adult, method="witnessed", witness=witness()).status == "active"
    # Handed over once: the former guardian can do nothing more.
    with pytest.raises((NotAllowed, NotFound)):
        services.representative_add(subject=subject, actor=guardian, user=make_user(), role="self", presence=witness())


def test_a_guardian_cannot_add_self_before_the_child_comes_of_age(make_subject, make_user):
    subject, guardian = make_subject("minor")
    with pytest.raises((NotAllowed, ValidationFailed)):
        services.representative_add(subject=subject, actor=guardian, user=make_user(), role="self", presence=witness())
    assert timezone.now().date() + timedelta(days=1) <= subject.adult_on


def test_staff_end_the_guardianships_of_a_person_who_came_of_age_from_the_admin(make_subject, make_user):
    from django.test import Client

    subject, guardian = make_subject("minor")
    child, other_guardian = make_subject("minor")
    _come_of_age(subject)
    staff = make_user()
    staff.is_staff = staff.is_superuser = True
    staff.save()
    admin = Client()
    admin.force_login(staff)
    response = admin.post(
        "/admin/consent/subject/", {"action": "end_guardianships", "_selected_action": [subject.pk, child.pk]}
    )
    assert response.status_code == 302
    assert Representative.objects.get(subject=subject, user=guardian).ended_at is not None
    assert Representative.objects.get(subject=child, user=other_guardian).ended_at is None  # still a minor


@pytest.mark.django_db
def test_a_former_guardian_no_longer_sees_the_record_on_the_day_of_coming_of_age_before_any_sweep():
    # The daily sweep ends the guardianship row later; until then, reads must already stop.
    from consent.models import Consent, Representative, Subject
    from consent.selectors import consents_visible, subjects_for
    from registry.accounts.models import User

    guardian = User.objects.create_user("guardian-coa@example.org", "x" * 12)
    subject = Subject.objects.create(status="minor", adult_on=timezone.now().date())
    Representative.objects.create(subject=subject, user=guardian, role=Representative.Role.GUARDIAN)
    assert Representative.objects.filter(subject=subject, ended_at__isnull=True).exists()
    assert list(subjects_for(user=guardian)) == []
    assert not consents_visible(user=guardian).filter(subject=subject).exists()
    assert Consent.objects.filter(subject=subject).count() == 0


def test_registry_staff_hand_the_record_over_from_the_admin_and_the_person_must_accept(make_subject, make_user):
    from django.test import Client

    from registry.accounts.models import Invitation

    subject, _guardian = make_subject("minor")
    subject = _come_of_age(subject)
    adult = make_user("grown.up@example.org")
    staff = make_user("staff@example.org")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    admin = Client()
    admin.force_login(staff)
    changelist = "/admin/consent/subject/"
    asked = admin.post(changelist, {"action": "hand_over", "_selected_action": [subject.pk]})
    assert asked.status_code == 200
    assert b'name="email"' in asked.content  # the form asks for the person's address
    sent = admin.post(changelist, {"action": "hand_over", "_selected_action": [subject.pk], "email": adult.email})
    assert sent.status_code == 302
    invitation = Invitation.objects.get(email=adult.email)
    assert services.representative_of(user=adult, subject=subject) is None  # nothing before accepting
    assert accept_invitation(adult, invitation.public_id).status_code == 200
    assert services.representative_of(user=adult, subject=subject).role == "self"
    assert not Representative.objects.filter(subject=subject, role="guardian", ended_at__isnull=True).exists()


def test_staff_cannot_hand_over_a_child_who_has_not_come_of_age_and_nobody_else_can(make_subject, make_user):
    subject, guardian = make_subject("minor")
    staff = make_user()
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    from registry.errors import Conflict

    with pytest.raises(Conflict):
        services.subject_hand_over_invite(subject=subject, email="kid@example.org", staff_user=staff)
    subject = _come_of_age(subject)
    with pytest.raises(NotAllowed):
        services.subject_hand_over_invite(subject=subject, email="kid@example.org", staff_user=guardian)
