"""consent/c2pa.py: the C2PA assertions a studio embeds, derived from the person's consents now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consent import services
from consent.c2pa import c2pa_assertions, release_c2pa, training_mining_entries
from consent.rules.decision import UseQuery
from consent.services import releases
from consent.verification import Check

from .conftest import witness


def _check(subject, on, activity="generate", purpose="film_tv"):
    return Check(subject.public_id, UseQuery(medium="face", activity=activity, purpose=purpose, territory="ID", on=on))


def _uses(entries):
    return {label: entry["use"] for label, entry in entries.items()}


@pytest.mark.django_db
def test_a_generate_only_permit_allows_no_training_mining_or_inference(signed, org):
    subject, _, consent = signed()
    entries = training_mining_entries(caller=org.public_id, checks=[_check(subject, consent.valid_from)])
    assert _uses(entries) == {
        "cawg.ai_training": "notAllowed",
        "cawg.ai_generative_training": "notAllowed",
        "cawg.data_mining": "notAllowed",
        "cawg.ai_inference": "notAllowed",
    }


@pytest.mark.django_db
def test_a_train_model_permit_for_the_purpose_allows_training(signed, org):
    subject, _, consent = signed(activities=["generate", "train_model"])
    entries = training_mining_entries(caller=org.public_id, checks=[_check(subject, consent.valid_from)])
    assert _uses(entries) == {
        "cawg.ai_training": "allowed",
        "cawg.ai_generative_training": "allowed",
        "cawg.data_mining": "allowed",
        "cawg.ai_inference": "notAllowed",
    }


@pytest.mark.django_db
def test_training_for_another_purpose_is_not_allowed(signed, org):
    subject, _, consent = signed(activities=["generate", "train_model", "alter"], purposes=["film_tv"])
    check = _check(subject, consent.valid_from, purpose="advertising")
    assert set(_uses(training_mining_entries(caller=org.public_id, checks=[check])).values()) == {"notAllowed"}


@pytest.mark.django_db
def test_training_without_generating_allows_no_generative_training(signed, org):
    subject, _, consent = signed(activities=["train_model", "alter"])
    entries = training_mining_entries(caller=org.public_id, checks=[_check(subject, consent.valid_from)])
    assert _uses(entries) == {
        "cawg.ai_training": "allowed",
        "cawg.ai_generative_training": "notAllowed",
        "cawg.data_mining": "allowed",
        "cawg.ai_inference": "allowed",
    }


@pytest.mark.django_db
def test_a_revoked_consent_allows_nothing(signed, org):
    subject, person, consent = signed(activities=["generate", "train_model", "alter"])
    services.consent_revoke(consent=consent, actor=person, reason="no", witness=witness())
    entries = training_mining_entries(caller=org.public_id, checks=[_check(subject, consent.valid_from)])
    assert set(_uses(entries).values()) == {"notAllowed"}


@pytest.mark.django_db
def test_the_assertions_carry_the_receipt_consent_subject_and_log_proof(signed, org):
    subject, _, consent = signed()
    assertions = c2pa_assertions(
        caller=org.public_id, checks=[_check(subject, consent.valid_from)], receipt="h.p.s", consent=consent.public_id
    )
    assert [a["label"] for a in assertions] == ["org.restu.consent", "cawg.training-mining"]
    assert assertions[0]["data"] == {
        "receipt": "h.p.s",
        "consent": consent.public_id,
        "subject": subject.public_id,
        "log_proof": None,
    }
    assert set(assertions[1]["data"]) == {"entries"}


def test_the_assertions_need_the_answers_query():
    with pytest.raises(ValueError, match="query"):
        c2pa_assertions(caller="org_x", checks=[], receipt="h.p.s", consent="con_x")


def _cleared_release(signed, org, user, **terms):
    subject, _, consent = signed(production="Malam di Jakarta", representation="counsel", **terms)
    release = releases.release_create(
        organization=org,
        title="Malam di Jakarta",
        release_date=consent.valid_from + timedelta(days=10),
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv", "activity": "generate"}],
        tools=[],
        user=user,
    )
    return subject, consent, release


@pytest.mark.django_db
def test_every_appearance_of_a_cleared_release_carries_assertions(signed, org, user):
    subject, consent, release = _cleared_release(signed, org, user)
    assert release.status == "cleared", release.report
    body = release_c2pa(release=release)
    [appearance] = body["appearances"]
    assert (appearance["subject"], appearance["consent"]) == (subject.public_id, consent.public_id)
    claim, training = appearance["c2pa_assertions"]
    assert claim["data"]["receipt"] == release.receipt
    assert training["data"]["entries"]["cawg.ai_training"] == {"use": "notAllowed"}


@pytest.mark.django_db
def test_the_release_endpoint_answers_the_studio_only_and_only_when_cleared(
    signed, org, user, api, make_user, client_for
):
    _, consent, release = _cleared_release(signed, org, user)
    response = api.get(f"/api/v1/releases/{release.public_id}/c2pa")
    assert response.status_code == 200
    assert response.json()["release"] == release.public_id
    stranger = client_for(make_user())
    assert stranger.get(f"/api/v1/releases/{release.public_id}/c2pa").status_code == 404
    blocked = releases.release_create(
        organization=org,
        title="Another film",
        release_date=consent.valid_from,
        territories=["FR"],
        appearances=[{"subject": consent.subject.public_id, "media": ["face"], "purpose": "film_tv"}],
        tools=[],
        user=user,
    )
    refused = api.get(f"/api/v1/releases/{blocked.public_id}/c2pa")
    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
