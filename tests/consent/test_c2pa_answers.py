"""``c2pa_assertions`` in answers: permitted verifications (single and bulk) and every appearance of a
cleared release carry the ready-to-embed assertions (``consent.c2pa``), null anywhere else; the
receipts inside are checked with ``joserfc`` against the published JWKS."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone
from joserfc import jws
from joserfc.jwk import KeySet

from consent import services
from consent.c2pa import c2pa_assertions
from consent.rules.decision import UseQuery
from consent.verification import Check
from registry.lib.ids import new_public_id

from .conftest import as_service_terms, witness
from .test_log_proof_answers import witnessing  # noqa: F401 — a fixture

pytestmark = pytest.mark.django_db

DAY = timezone.now().date() + timedelta(days=10)


def query(subject, **over):
    return {
        "subject": subject if isinstance(subject, str) else subject.public_id,
        "medium": "face",
        "activity": "generate",
        "purpose": "film_tv",
        "territory": "ID",
        "date": DAY.isoformat(),
        **over,
    }


def check_of(asked: dict) -> Check:
    return Check(
        asked["subject"],
        UseQuery(
            medium=asked["medium"],
            activity=asked["activity"],
            purpose=asked["purpose"],
            territory=asked["territory"],
            on=date.fromisoformat(asked["date"]),
        ),
    )


def claims(anon, token: str) -> dict:
    keys = KeySet.import_key_set(anon.get("/.well-known/jwks.json").json())
    return json.loads(jws.deserialize_compact(token, keys, algorithms=["Ed25519"]).payload)


def uses(assertions) -> dict[str, str]:
    [training] = [a for a in assertions if a["label"] == "cawg.training-mining"]
    return {label: entry["use"] for label, entry in training["data"]["entries"].items()}


def test_a_permitted_answer_carries_the_assertions_with_its_own_receipt(signed, studio, anon, org):
    subject, _, consent = signed(activities=["generate", "train_model"])
    _, client = studio
    asked = query(subject)
    body = client.post("/api/v1/verifications", asked).json()
    assert body["decision"] == "permitted"
    claim, training = body["c2pa_assertions"]
    assert claim == {
        "label": "org.restu.consent",
        "data": {
            "receipt": body["receipt"],
            "consent": consent.public_id,
            "subject": subject.public_id,
            "log_proof": body["log_proof"],
        },
    }
    signed_claims = claims(anon, claim["data"]["receipt"])
    assert (signed_claims["decision"], signed_claims["consent"]) == ("permitted", consent.public_id)
    assert training["label"] == "cawg.training-mining"
    assert uses(body["c2pa_assertions"]) == {
        "cawg.ai_training": "allowed",
        "cawg.ai_generative_training": "allowed",
        "cawg.data_mining": "allowed",
        "cawg.ai_inference": "notAllowed",
    }
    # The same assertions the library makes from the person's consents now.
    expected = c2pa_assertions(
        caller=org.public_id,
        checks=[check_of(asked)],
        receipt=body["receipt"],
        consent=consent.public_id,
        log_proof=body["log_proof"],
    )
    assert body["c2pa_assertions"] == expected


def test_answers_that_are_not_permitted_carry_none(signed, studio, make_org, user):
    subject, _, _ = signed(effect="deny")
    hidden, _, _ = signed(grantee=make_org(user).public_id)
    allowed, _, _ = signed()
    _, client = studio
    for asked in (
        query(subject),
        query(hidden),
        query(new_public_id("sub")),
        query(allowed, purpose="advertising"),
        query(allowed, min_assurance="vouched"),
    ):
        body = client.post("/api/v1/verifications", asked).json()
        assert body["decision"] != "permitted"
        assert body["c2pa_assertions"] is None


def test_a_revoked_training_permit_is_not_allowed_any_more(signed, studio, make_subject, terms):
    subject, person, _ = signed()
    trainer = services.consent_create(
        subject=subject,
        actor=person,
        terms=as_service_terms(terms(subject, activities=["train_model"], intended_use="A model of my face")),
    )
    trainer = services.consent_sign(consent=trainer, actor=person, method="witnessed", witness=witness())
    _, client = studio
    assert uses(client.post("/api/v1/verifications", query(subject)).json()["c2pa_assertions"])["cawg.ai_training"] == (
        "allowed"
    )
    services.consent_revoke(consent=trainer, actor=person, reason="no", witness=witness())
    body = client.post("/api/v1/verifications", query(subject)).json()
    assert body["decision"] == "permitted"
    assert set(uses(body["c2pa_assertions"]).values()) == {"notAllowed"}


def test_each_permitted_bulk_result_carries_what_the_library_makes(signed, studio, anon, org, make_org, user):
    people = [
        signed(),
        signed(activities=["generate", "train_model"]),
        signed(activities=["generate", "train_model", "alter"], territories=["ID", "FR"]),
        signed(activities=["generate", "alter"], purposes=["film_tv", "advertising"]),
    ]
    hidden, _, _ = signed(grantee=make_org(user).public_id)
    _, client = studio
    queries = [query(subject) for subject, _, _ in people]
    queries += [query(subject, purpose="advertising") for subject, _, _ in people]
    queries += [query(people[2][0], territory="FR"), query(people[2][0], territory="US"), query(hidden)]
    queries += [query(people[1][0])] * 3  # repeats weigh once and answer the same
    response = client.post("/api/v1/verifications/bulk", {"queries": queries})
    assert response.status_code == 200
    body = response.json()
    assert claims(anon, body["receipt"])["batch"]["count"] == len(queries)
    permitted = 0
    for asked, result in zip(queries, body["results"], strict=True):
        if result["decision"] != "permitted":
            assert result["c2pa_assertions"] is None
            continue
        permitted += 1
        assert result["c2pa_assertions"] == c2pa_assertions(
            caller=org.public_id,
            checks=[check_of(asked)],
            receipt=body["receipt"],
            consent=result["consent"],
            log_proof=result["log_proof"],
        )
    assert permitted == 4 + 1 + 1 + 3
    assert uses(body["results"][2]["c2pa_assertions"]) == {
        "cawg.ai_training": "allowed",
        "cawg.ai_generative_training": "allowed",
        "cawg.data_mining": "allowed",
        "cawg.ai_inference": "allowed",
    }


def test_bulk_assertions_carry_the_log_proof_once_witnessed(signed, studio, witnessing):  # noqa: F811
    subject, _, consent = signed()
    _, client = studio
    witnessing()
    [result] = client.post("/api/v1/verifications/bulk", {"queries": [query(subject)]}).json()["results"]
    assert result["log_proof"].startswith("c2sp.org/tlog-proof@v1\n")
    assert result["c2pa_assertions"][0]["data"]["log_proof"] == result["log_proof"]
    assert result["c2pa_assertions"][0]["data"]["consent"] == consent.public_id


def release_body(*appearances, title="Layar Lebar", territories=("ID",)):
    return {
        "title": title,
        "release_date": (timezone.now().date() + timedelta(days=30)).isoformat(),
        "territories": list(territories),
        "appearances": list(appearances),
    }


def test_every_appearance_of_a_cleared_release_carries_assertions_under_its_receipt(
    signed,
    studio,
    anon,
    witnessing,  # noqa: F811
):
    subject, _, consent = signed(
        production="Layar Lebar", representation="union", media=["face", "voice"], activities=["generate", "alter"]
    )
    _, client = studio
    witnessing()
    created = client.post(
        "/api/v1/releases",
        release_body({"subject": subject.public_id, "media": ["face", "voice"], "purpose": "film_tv"}),
    )
    assert created.status_code == 201
    report = created.json()
    assert report["status"] == "cleared"
    detail = client.get(f"/api/v1/releases/{report['id']}").json()
    c2pa = client.get(f"/api/v1/releases/{report['id']}/c2pa").json()
    assert claims(anon, report["receipt"])["release"]["status"] == "cleared"
    for n, row in enumerate(report["appearances"]):
        claim, _ = row["c2pa_assertions"]
        assert claim["data"] == {
            "receipt": report["receipt"],
            "consent": consent.public_id,
            "subject": subject.public_id,
            "log_proof": row["log_proof"],
        }
        assert row["log_proof"] is not None
        assert uses(row["c2pa_assertions"])["cawg.ai_inference"] == "allowed"
        assert detail["appearances"][n]["c2pa_assertions"] == row["c2pa_assertions"]
        assert c2pa["appearances"][n]["c2pa_assertions"] == row["c2pa_assertions"]


def test_appearances_of_a_release_that_is_not_cleared_carry_none(signed, studio):
    subject, _, _ = signed(production="Layar Lebar", representation="union")
    careless, _, _ = signed(valid_until=None, production=None, representation="none")
    _, client = studio
    blocked = client.post(
        "/api/v1/releases",
        release_body(
            {"subject": subject.public_id, "media": ["face"], "purpose": "film_tv"},
            {"subject": subject.public_id, "media": ["face"], "purpose": "advertising"},
        ),
    ).json()
    assert blocked["status"] == "blocked"
    assert [row["c2pa_assertions"] for row in blocked["appearances"]] == [None, None]
    review = client.post(
        "/api/v1/releases", release_body({"subject": careless.public_id, "media": ["face"], "purpose": "film_tv"})
    ).json()
    assert review["status"] == "needs_review"
    assert [row["c2pa_assertions"] for row in review["appearances"]] == [None]
    listed = client.get("/api/v1/releases").json()["results"]
    assert {release["id"]: release["appearances"][0]["c2pa_assertions"] for release in listed} == {
        blocked["id"]: None,
        review["id"]: None,
    }


def test_the_schema_declares_the_new_fields(anon):
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    for name in ("Verification", "BulkAnswer"):
        properties = components[name]["properties"]
        assert properties["log_proof"]["nullable"] is True
        assert properties["c2pa_assertions"]["nullable"] is True
    assert components["ConsentToken"]["properties"]["log_proof"]["nullable"] is True
    appearance = components["ReleaseAppearanceOut"]["properties"]
    assert {"log_proof", "c2pa_assertions", "subject", "consent", "decision"} <= set(appearance)


def test_a_deny_on_training_refuses_it_in_bulk_as_in_a_single_answer(signed, studio, org, terms):
    subject, person, _ = signed(activities=["generate", "train_model", "alter"])
    refusal = services.consent_create(
        subject=subject,
        actor=person,
        terms=as_service_terms(terms(subject, effect="deny", activities=["train_model"], intended_use="No models")),
    )
    services.consent_sign(consent=refusal, actor=person, method="witnessed", witness=witness())
    _, client = studio
    single = client.post("/api/v1/verifications", query(subject)).json()
    [result] = client.post("/api/v1/verifications/bulk", {"queries": [query(subject)]}).json()["results"]
    expected = {
        "cawg.ai_training": "notAllowed",
        "cawg.ai_generative_training": "notAllowed",
        "cawg.data_mining": "notAllowed",
        "cawg.ai_inference": "allowed",
    }
    assert uses(single["c2pa_assertions"]) == uses(result["c2pa_assertions"]) == expected
