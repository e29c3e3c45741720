"""Release clearance: a report per appearance, review flags, signed, re-checked when a consent changes."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import AccessLogEntry, Release, ReleaseReliance
from consent.tasks import recheck_releases
from registry.events.models import OutboxEvent
from registry.lib.canonical import canonical_json, sha256_digest

from .conftest import witness


def release_body(subject, **over):
    body = {
        "title": "Layar Lebar",
        "release_date": (timezone.now().date() + timedelta(days=30)).isoformat(),
        "territories": ["ID"],
        "appearances": [{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv"}],
    }
    body.update(over)
    return body


def payload_of(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.mark.django_db
def test_a_release_with_careful_consent_is_cleared_and_signed(signed, studio, anon):
    subject, _, consent = signed(production="Layar Lebar", representation="union")
    org, client = studio
    response = client.post("/api/v1/releases", release_body(subject))
    assert response.status_code == 201
    report = response.json()
    assert report["id"].startswith("rel_")
    assert report["status"] == "cleared"
    [row] = report["appearances"]
    assert (row["subject"], row["medium"], row["decision"], row["consent"], row["flags"]) == (
        subject.public_id,
        "face",
        "permitted",
        consent.public_id,
        [],
    )
    assert anon.post("/api/v1/receipts/verify", {"receipt": report["receipt"]}).json()["valid"] is True
    stored = Release.objects.get(public_id=report["id"])
    assert payload_of(report["receipt"])["release"]["report_digest"] == sha256_digest(canonical_json(stored.report))
    assert AccessLogEntry.objects.filter(subject=subject, kind="release", caller_org=org).count() == 1


@pytest.mark.django_db
def test_review_flags_make_it_needs_review(signed, studio):
    subject, _, _ = signed(valid_until=None, production=None, representation="none")
    report = studio[1].post("/api/v1/releases", release_body(subject)).json()
    assert report["status"] == "needs_review"
    # Not "signer_unadvised": a permission for any production with no pay agreed is no employment
    # term (see tests/consent/test_trust_releases.py for when it is).
    assert report["appearances"][0]["flags"] == ["no_named_production", "term_over_10_years"]


@pytest.mark.django_db
def test_an_unadvised_replica_term_for_a_production_needs_review(signed, studio):
    subject, _, _ = signed(production="Layar Lebar", representation="none")
    report = studio[1].post("/api/v1/releases", release_body(subject)).json()
    assert (report["status"], report["appearances"][0]["flags"]) == ("needs_review", ["signer_unadvised"])


@pytest.mark.django_db
def test_a_minor_without_court_approval_is_flagged(signed, studio):
    subject, _, _ = signed("minor", production="Layar Lebar", representation="counsel")
    report = studio[1].post("/api/v1/releases", release_body(subject)).json()
    assert "minor_without_court_approval" in report["appearances"][0]["flags"]


@pytest.mark.django_db
def test_a_missing_consent_blocks_the_release_with_reasons(signed, studio):
    subject, _, _ = signed()
    body = release_body(
        subject, appearances=[{"subject": subject.public_id, "media": ["face", "voice"], "purpose": "film_tv"}]
    )
    report = studio[1].post("/api/v1/releases", body).json()
    assert report["status"] == "blocked"
    rows = {row["medium"]: row for row in report["appearances"]}
    assert rows["face"]["decision"] == "permitted"
    assert (rows["voice"]["decision"], rows["voice"]["reasons"]) == ("denied", ["medium_not_covered"])


@pytest.mark.django_db
def test_revoking_a_relied_on_consent_blocks_the_release_and_tells_the_studio(
    signed, studio, django_capture_on_commit_callbacks
):
    subject, person, consent = signed(production="Layar Lebar", representation="union")
    org, client = studio
    release_id = client.post("/api/v1/releases", release_body(subject)).json()["id"]
    assert ReleaseReliance.objects.filter(release__public_id=release_id, ref=consent.public_id).exists()
    services.consent_revoke(consent=consent, actor=person, reason="no longer", witness=witness())
    revoked = OutboxEvent.objects.get(type="consent.revoked")
    assert org.public_id in revoked.audience  # the studio got a permitted answer relying on it
    assert recheck_releases(revoked.public_id) == 1
    release = Release.objects.get(public_id=release_id)
    assert release.status == "blocked"
    assert release.report["appearances"][0]["reasons"] == ["revoked"]
    changed = OutboxEvent.objects.get(type="release.status_changed")
    assert changed.payload == {"release": release_id, "previous": "cleared", "status": "blocked"}
    assert changed.audience == [org.public_id]
    assert client.get(f"/api/v1/releases/{release_id}").json()["status"] == "blocked"


@pytest.mark.django_db
def test_recheck_without_change_announces_nothing(signed, studio):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    release_id = studio[1].post("/api/v1/releases", release_body(subject)).json()["id"]
    assert studio[1].post(f"/api/v1/releases/{release_id}/recheck").json()["status"] == "cleared"
    assert not OutboxEvent.objects.filter(type="release.status_changed").exists()


@pytest.mark.django_db
def test_other_organizations_cannot_see_a_release(signed, studio, make_user, make_org, key_client):
    subject, _, _ = signed()
    release_id = studio[1].post("/api/v1/releases", release_body(subject)).json()["id"]
    other_owner = make_user()
    other_client, _ = key_client(organization=make_org(other_owner), creator=other_owner)
    assert other_client.get(f"/api/v1/releases/{release_id}").status_code == 404
    assert other_client.post(f"/api/v1/releases/{release_id}/recheck").status_code == 404
    assert other_client.get("/api/v1/releases").json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"appearances": []}, "appearances"),
        ({"territories": ["XX"]}, "territories"),
        ({"territories": []}, "territories"),
        ({"release_date": "soon"}, "release_date"),
        ({"tools": [{"project": "org_x", "version": "1.0", "digest": "md5:abc"}]}, "tools"),
        ({"tools": [{"project": "org_x", "version": "1.0", "digest": "sha256:" + "A" * 64}]}, "tools"),
        ({"status": "cleared"}, "status"),
    ],
)
def test_bad_releases_are_refused_and_nothing_is_stored(signed, studio, change, field):
    subject, _, _ = signed()
    response = studio[1].post("/api/v1/releases", release_body(subject, **change))
    assert response.status_code == 400
    assert any(name.split(".")[0] == field for name in response.json()["errors"])
    assert not Release.objects.exists()
    assert not AccessLogEntry.objects.exists()


@pytest.mark.django_db
def test_duplicate_appearances_are_refused(signed, studio):
    subject, _, _ = signed()
    twice = [{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv"}] * 2
    response = studio[1].post("/api/v1/releases", release_body(subject, appearances=twice))
    assert response.status_code == 400
    assert not Release.objects.exists()


@pytest.mark.django_db
def test_an_unattested_tool_makes_the_release_need_review(signed, studio):
    # docs/api.md v1.1 "Releases": no attestation is "unattested" (needs review); only an attestation
    # saying a must clause is not met blocks (tests/consent/test_trust_releases.py).
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    tool = {"project": "org_" + "2" * 26, "version": "2.3.0", "digest": "sha256:" + "a" * 64}
    report = studio[1].post("/api/v1/releases", release_body(subject, tools=[tool])).json()
    assert report["status"] == "needs_review"
    assert report["tools"] == [
        {**tool, "attestation": None, "guideline": None, "decision": "unattested", "clauses_not_met": []}
    ]
