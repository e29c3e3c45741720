"""Disputes reach the organizations that relied on the subject (docs/api.md v1.1): ``subject.disputed``
when one is opened, ``subject.dispute_resolved`` when staff resolve it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import AccessLogEntry, Release, ReleaseReliance
from registry.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_a_dispute_is_sent_to_every_organization_that_relied_on_the_subject(make_subject, make_user, make_org):
    subject, _ = make_subject()
    relied = make_org(make_user())
    long_ago = make_org(make_user())
    denied = make_org(make_user())
    releasing = make_org(make_user())
    bystander = make_org(make_user())
    query = {"medium": "face"}
    services.access_log_record(subject=subject, query=query, decision="permitted", caller_org=relied)
    old = services.access_log_record(subject=subject, query=query, decision="permitted", caller_org=long_ago)
    AccessLogEntry.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=366))
    services.access_log_record(subject=subject, query=query, decision="denied", caller_org=denied)
    release = Release.objects.create(
        organization=releasing,
        title="Film",
        release_date=timezone.now().date(),
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face"]}],
        status="cleared",
    )
    ReleaseReliance.objects.create(release=release, ref=subject.public_id)
    assert bystander

    dispute = services.dispute_open(subject=subject, opened_by=make_user(), kind="impersonation")

    event = OutboxEvent.objects.get(type="subject.disputed")
    assert sorted(event.audience) == sorted([relied.public_id, releasing.public_id])
    assert event.payload["subject"] == subject.public_id

    staff = make_user()
    staff.is_staff = True
    staff.save()
    services.dispute_resolve(dispute=dispute, staff_user=staff, resolution="It is her.")
    resolved = OutboxEvent.objects.get(type="subject.dispute_resolved")
    assert sorted(resolved.audience) == sorted(event.audience)


def test_organizations_can_subscribe_to_dispute_events(make_user, make_org, client_for):
    owner = make_user()
    studio = make_org(owner)
    response = client_for(owner).post(
        "/api/v1/webhooks",
        {
            "url": "https://hooks.studio.example/disputes",
            "events": ["subject.disputed", "subject.dispute_resolved"],
            "organization": studio.public_id,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
