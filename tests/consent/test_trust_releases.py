"""Releases you can rely on (docs/api.md "v1.1 — trust", "Releases"): a tool's attestation must say every
``must`` and ``must_not`` clause is met, a release holds at most 10,000 checks, and each check is
charged to the organization's verification rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pycountry
import pytest
from django.utils import timezone

from consent.models import AccessLogEntry, Release, Vouch
from consent.services import releases
from guidelines import services as guidelines
from registry.accounts.models import Organization, User
from registry.errors import ValidationFailed
from registry.lib.signing import generate_private_key, public_jwk
from tests.guidelines.conftest import DIGEST, content, sign, statement
from tests.guidelines.presence import present

from .test_release_api import release_body
from .test_verification_api import query


@pytest.fixture
def attest(make_user: Callable[..., User], make_org: Callable[..., Organization]) -> Callable[..., dict[str, Any]]:
    """``attest(clauses)``: a project attests its release (digest ``DIGEST``) with these clause
    outcomes against a published guideline (two ``must`` clauses, one ``must_not``); the tool as
    a release names it."""
    maintainer = make_user()
    project = make_org(maintainer, kind="project")
    guideline = guidelines.guideline_create(organization=project, actor_role="owner", slug="fair-swap", title="Fair")
    version = guidelines.guideline_version_create(
        guideline=guideline, actor_role="owner", actor=maintainer, **content()
    )
    guidelines.guideline_version_publish(version=version, actor_role="owner")
    private = generate_private_key()
    jwk = public_jwk(private)
    kid = jwk.pop("kid")
    guidelines.project_key_add(
        organization=project, actor_role="owner", actor=maintainer, public_jwk=jwk, presence=present()
    )

    def make(clauses: dict[str, str]) -> dict[str, Any]:
        envelope = sign(statement(clauses=clauses), private, kid)
        attestation = guidelines.attestation_store(project=project, actor_role="owner", envelope=envelope)
        return {"project": project.public_id, "version": "2.3.0", "digest": DIGEST, "attestation": attestation}

    return make


MET = {"consent-of-everyone": "met", "label-output": "met", "no-minors": "met"}


def _tool(made: dict[str, Any]) -> dict[str, str]:
    return {key: made[key] for key in ("project", "version", "digest")}


@pytest.mark.django_db
def test_a_tool_whose_attestation_says_a_must_clause_is_not_met_blocks_the_release(signed, studio, attest):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    made = attest({**MET, "consent-of-everyone": "not_met"})
    report = studio[1].post("/api/v1/releases", release_body(subject, tools=[_tool(made)])).json()
    assert report["status"] == "blocked"
    [tool] = report["tools"]
    assert tool["decision"] == "not_conforming"
    assert tool["attestation"] == made["attestation"].public_id
    assert tool["clauses_not_met"] == ["consent-of-everyone"]


@pytest.mark.django_db
def test_a_must_not_clause_not_met_blocks_too(signed, studio, attest):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    made = attest({**MET, "no-minors": "not_met"})
    report = studio[1].post("/api/v1/releases", release_body(subject, tools=[_tool(made)])).json()
    assert (report["status"], report["tools"][0]["decision"]) == ("blocked", "not_conforming")


@pytest.mark.django_db
def test_a_conforming_attestation_clears_the_tool(signed, studio, attest):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    made = attest({**MET, "no-minors": "not_applicable"})
    report = studio[1].post("/api/v1/releases", release_body(subject, tools=[_tool(made)])).json()
    assert report["status"] == "cleared"
    assert report["tools"][0]["decision"] == "attested"
    assert report["tools"][0]["clauses_not_met"] == []


@pytest.mark.django_db
def test_a_revoked_attestation_leaves_the_tool_unattested_and_the_release_needs_review(signed, studio, attest):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    made = attest(MET)
    guidelines.attestation_revoke(attestation=made["attestation"], actor_role="owner", reason="bad build")
    report = studio[1].post("/api/v1/releases", release_body(subject, tools=[_tool(made)])).json()
    assert report["status"] == "needs_review"
    assert (report["tools"][0]["decision"], report["tools"][0]["attestation"]) == ("unattested", None)


@pytest.mark.django_db
def test_a_newer_attestation_saying_not_met_overrides_an_older_conforming_one(signed, studio, attest):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    attest(MET)
    newer = attest({**MET, "label-output": "not_met"})
    report = studio[1].post("/api/v1/releases", release_body(subject, tools=[_tool(newer)])).json()
    assert (report["status"], report["tools"][0]["attestation"]) == ("blocked", newer["attestation"].public_id)


# --- At most 10,000 checks, each charged to the verification rate -----------------------------------


def _many_appearances(subjects: list[Any], count: int) -> list[dict[str, Any]]:
    purposes = ("film_tv", "advertising", "education", "art", "research")
    return [
        {
            "subject": subjects[n % len(subjects)].public_id,
            "media": ["likeness"],
            "purpose": purposes[n // len(subjects)],
        }
        for n in range(count)
    ]


@pytest.mark.django_db
def test_a_release_of_more_than_10000_checks_is_refused_naming_the_field(signed, studio, settings):
    subject, _, _ = signed()
    territories = [country.alpha_2 for country in pycountry.countries][:90]
    assert len(set(territories)) == 90
    # 10 appearances x 3 media x 90 territories = 2,700 checks; 40 appearances: 10,800.
    subjects = [signed()[0] for _ in range(8)]
    ok = release_body(subject, territories=territories, appearances=_many_appearances(subjects, 37))
    too_many = release_body(subject, territories=territories, appearances=_many_appearances(subjects, 38))
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "100000/min"},
    }
    response = studio[1].post("/api/v1/releases", too_many)
    assert response.status_code == 400
    assert "appearances" in response.json()["errors"]
    assert not Release.objects.exists()
    assert not AccessLogEntry.objects.exists()
    assert studio[1].post("/api/v1/releases", ok).status_code == 201  # 37 x 3 x 90 = 9,990


@pytest.mark.django_db
def test_the_service_refuses_more_than_10000_checks_for_pages_and_commands_too(signed, org):
    subject, _, _ = signed()
    appearance = {"subject": subject.public_id, "media": ["face", "voice", "body"], "purpose": "film_tv"}
    with pytest.raises(ValidationFailed) as refused:
        releases.release_create(
            organization=org,
            title="Layar Lebar",
            release_date=timezone.now().date(),
            territories=[country.alpha_2 for country in pycountry.countries][:90],
            appearances=[appearance] * 38,  # 38 x 3 x 90 = 10,260
            tools=[],
        )
    assert "appearances" in refused.value.errors
    assert not Release.objects.exists()
    assert not AccessLogEntry.objects.exists()


def _rate(settings: Any, verify: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": verify},
    }


@pytest.mark.django_db
def test_each_check_of_a_release_counts_against_the_verification_rate(signed, studio, settings):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    _, client = studio
    _rate(settings, "8/min")
    # 1 appearance x 3 media x 2 territories: 6 checks of a budget of 8.
    body = release_body(
        subject,
        territories=["ID", "US"],
        appearances=[{"subject": subject.public_id, "media": ["likeness"], "purpose": "film_tv"}],
    )
    assert client.post("/api/v1/releases", body).status_code == 201
    statuses = [client.post("/api/v1/verifications", query(subject)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db
def test_a_release_is_refused_when_the_verification_budget_is_spent_and_nothing_is_stored(signed, studio, settings):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    _, client = studio
    _rate(settings, "2/min")
    assert [client.post("/api/v1/verifications", query(subject)).status_code for _ in range(2)] == [200, 200]
    logged = AccessLogEntry.objects.count()
    response = client.post("/api/v1/releases", release_body(subject))
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert not Release.objects.exists()
    assert AccessLogEntry.objects.count() == logged
    release_id = None
    _rate(settings, "1000/min")
    release_id = client.post("/api/v1/releases", release_body(subject)).json()["id"]
    _rate(settings, "1/min")
    # The counter already holds 3 checks this window: a re-check is refused as well.
    assert client.post(f"/api/v1/releases/{release_id}/recheck").status_code == 429


# --- signer_unadvised: the digital-replica terms California and New York law protect -----------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "activity", "flagged"),
    [
        # A self-service permission for any production, nothing paid: not an employment term.
        ({}, "generate", False),
        # An engagement for a named production, no lawyer or union: the term the laws void.
        ({"production": "Layar Lebar"}, "generate", True),
        ({"activities": ["create_replica"], "conditions": {"compensation_ref": "PO-2027-118"}}, "create_replica", True),
        # Advised by a union or a lawyer: nothing to flag.
        ({"production": "Layar Lebar", "representation": "union"}, "generate", False),
        ({"production": "Layar Lebar", "representation": "counsel"}, "generate", False),
        # Altering existing recordings is not making a replica in the signer's place.
        ({"production": "Layar Lebar", "activities": ["alter"]}, "alter", False),
        ({"production": "Layar Lebar", "activities": ["train_model"]}, "train_model", False),
    ],
)
def test_signer_unadvised_flags_only_unrepresented_replica_terms_of_an_engagement(
    signed, studio, overrides, activity, flagged
):
    subject, _, _ = signed(**overrides)
    appearance = {"subject": subject.public_id, "media": ["face"], "purpose": "film_tv", "activity": activity}
    report = studio[1].post("/api/v1/releases", release_body(subject, appearances=[appearance])).json()
    [row] = report["appearances"]
    assert row["decision"] == "permitted"
    assert ("signer_unadvised" in row["flags"]) is flagged


@pytest.mark.django_db
def test_a_self_service_consent_naming_the_production_clears(signed, studio):
    subject, _, _ = signed(production="Layar Lebar", representation="none", activities=["alter"])
    appearance = {"subject": subject.public_id, "media": ["face"], "purpose": "film_tv", "activity": "alter"}
    report = studio[1].post("/api/v1/releases", release_body(subject, appearances=[appearance])).json()
    assert (report["status"], report["appearances"][0]["flags"]) == ("cleared", [])


# --- A guardian or an estate nobody verified -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["minor", "deceased"])
def test_a_release_relying_on_unverified_authority_needs_review_until_a_verified_vouch(
    status, signed, studio, make_org, make_user
):
    subject, _, _ = signed(status, production="Layar Lebar", representation="union", court_approval_ref="PN 12/2027")
    report = studio[1].post("/api/v1/releases", release_body(subject)).json()
    assert (report["status"], report["appearances"][0]["flags"]) == ("needs_review", ["authority_unverified"])
    guild = make_org(make_user(), kind="guild")
    Organization.objects.filter(pk=guild.pk).update(verified_at=timezone.now())
    Vouch.objects.create(subject=subject, organization=guild)
    report = studio[1].post(f"/api/v1/releases/{report['id']}/recheck").json()
    assert (report["status"], report["appearances"][0]["flags"]) == ("cleared", [])


# --- Re-checks one after the other ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_recheck_reads_the_release_and_the_consents_under_the_release_lock(signed, studio, monkeypatch):
    """Two re-checks of one release never store an older evaluation over a newer one: each evaluates
    inside the transaction that holds the release's row lock, from the row it locked."""
    from django.db import connection

    subject, _, _ = signed()
    created = studio[1].post("/api/v1/releases", release_body(subject)).json()
    release = Release.objects.get(public_id=created["id"])
    stale = Release.objects.get(pk=release.pk)  # read before the change, as a queued task would hold it
    Release.objects.filter(pk=release.pk).update(title="Retitled before the re-check")
    seen: list[tuple[bool, str]] = []
    real = releases.release_evaluate

    def evaluating(**kwargs: Any) -> Any:
        seen.append((connection.in_atomic_block, kwargs["title"]))
        return real(**kwargs)

    monkeypatch.setattr(releases, "release_evaluate", evaluating)
    rechecked = releases.release_recheck(release=stale)
    assert seen == [(True, "Retitled before the re-check")]
    assert rechecked.status == created["status"]
