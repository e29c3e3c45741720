"""A studio acknowledges a revocation it was told about; the person sees who acknowledged and when."""

import pytest

from consent import services
from registry.events.models import Acknowledgement, OutboxEvent

from .conftest import witness

USE = {"medium": "face", "activity": "generate", "purpose": "film_tv", "territory": "ID"}


@pytest.fixture
def revoked(signed, studio):
    from datetime import timedelta

    from django.utils import timezone

    subject, person, consent = signed()
    _, client = studio
    day = (timezone.now().date() + timedelta(days=3)).isoformat()
    client.post("/api/v1/verifications", {"subject": subject.public_id, **USE, "date": day})
    services.consent_revoke(consent=consent, actor=person, reason="no", witness=witness())
    return person, consent, OutboxEvent.objects.get(type="consent.revoked")


@pytest.mark.django_db
def test_studio_acknowledges_and_the_person_sees_it(revoked, studio, client_for):
    person, consent, event = revoked
    org, client = studio
    response = client.post(f"/api/v1/events/{event.public_id}/acknowledge", {"note": "Removed from the cut"})
    assert response.status_code == 201
    again = client.post(f"/api/v1/events/{event.public_id}/acknowledge", {})
    assert again.status_code == 201
    assert Acknowledgement.objects.count() == 1
    seen = client_for(person).get(f"/api/v1/consents/{consent.public_id}/acknowledgements").json()["results"]
    assert [(a["organization"], a["note"]) for a in seen] == [(org.public_id, "Removed from the cut")]


@pytest.mark.django_db
def test_acknowledging_someone_elses_event_is_404(revoked, make_user, make_org, key_client):
    _, _, event = revoked
    owner = make_user()
    outsider, _ = key_client(organization=make_org(owner), creator=owner)
    assert outsider.post(f"/api/v1/events/{event.public_id}/acknowledge", {}).status_code == 404
    assert outsider.post("/api/v1/events/evt_doesnotexist0000000000000/acknowledge", {}).status_code == 404
    assert not Acknowledgement.objects.exists()


@pytest.mark.django_db
def test_only_representatives_see_acknowledgements(revoked, studio, make_user, client_for):
    _, consent, _ = revoked
    assert client_for(make_user()).get(f"/api/v1/consents/{consent.public_id}/acknowledgements").status_code == 404
