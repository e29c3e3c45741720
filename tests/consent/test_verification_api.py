"""Verification over HTTP: answers, reasons, receipts checked offline, access log, privacy, bad input."""

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from consent import services
from consent.models import AccessLogEntry, Consent

from .conftest import as_service_terms, witness

USE = {"medium": "face", "activity": "generate", "purpose": "film_tv", "territory": "ID"}


def query(person, **over):
    return {
        "subject": person.public_id,
        **USE,
        "date": (timezone.now().date() + timedelta(days=10)).isoformat(),
        **over,
    }


def decode(token):
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        f"{header}.{payload}".encode(),
        base64.urlsafe_b64decode(pad(signature)),
    )


def verify_with_jwks(anon, token):
    """An independent check: the JWKS's x value and `cryptography`, nothing of ours."""
    header, payload, signing_input, signature = decode(token)
    jwks = anon.get("/.well-known/jwks.json").json()
    [jwk] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    key.verify(signature, signing_input)
    assert header["alg"] == "Ed25519"
    return payload


@pytest.mark.django_db
def test_permitted_use_gets_a_signed_receipt_that_verifies_offline(signed, studio, anon):
    subject, _, consent = signed()
    org, client = studio
    response = client.post("/api/v1/verifications", query(subject))
    assert response.status_code == 200
    body = response.json()
    assert (body["decision"], body["consent"], body["reasons"]) == ("permitted", consent.public_id, [])
    assert body["conditions"]["attribution_required"] is True
    payload = verify_with_jwks(anon, body["receipt"])
    assert payload["sub"] == subject.public_id
    assert payload["aud"] == org.public_id
    assert payload["decision"] == "permitted"
    assert payload["consent_digest"] == consent.digest
    assert payload["log"]["index"] is not None
    assert payload["log"]["tree_size"] > payload["log"]["index"]
    server_check = anon.post("/api/v1/receipts/verify", {"receipt": body["receipt"]}).json()
    assert server_check["valid"] is True


@pytest.mark.django_db
def test_receipt_verifies_with_the_offline_client(signed, studio, anon):
    restu_verify = pytest.importorskip("restu_verify.receipts")
    subject, _, _ = signed()
    _, client = studio
    token = client.post("/api/v1/verifications", query(subject)).json()["receipt"]
    jwks = anon.get("/.well-known/jwks.json").json()
    names = [n for n in dir(restu_verify) if n.startswith("verify")]
    assert names, "the offline client exposes a verify function"
    verify = getattr(restu_verify, "verify_receipt", None) or getattr(restu_verify, names[0])
    result = verify(token, jwks)
    payload = result if isinstance(result, dict) else getattr(result, "payload", result)
    assert payload["sub"] == subject.public_id


@pytest.mark.django_db
def test_every_check_lands_in_the_access_log(signed, studio):
    subject, _, consent = signed()
    org, client = studio
    client.post("/api/v1/verifications", query(subject))
    client.post("/api/v1/verifications", query(subject, purpose="advertising"))
    entries = list(AccessLogEntry.objects.filter(subject=subject).order_by("created", "id"))
    assert [(e.decision, e.caller_org_id) for e in entries] == [("permitted", org.pk), ("denied", org.pk)]
    assert entries[0].consent_id == consent.pk
    assert entries[0].receipt_id.startswith("rcp_")


@pytest.mark.django_db
def test_revoked_consent_denies_new_verifications(signed, studio):
    subject, person, consent = signed()
    _, client = studio
    services.consent_revoke(consent=consent, actor=person, reason="changed my mind", witness=witness())
    body = client.post("/api/v1/verifications", query(subject)).json()
    assert (body["decision"], body["reasons"]) == ("denied", ["revoked"])


@pytest.mark.django_db
def test_deny_record_wins(signed, studio, terms):
    subject, person, _ = signed()
    deny = services.consent_create(subject=subject, actor=person, terms=as_service_terms(terms(subject, effect="deny")))
    services.consent_sign(consent=deny, actor=person, method="witnessed", witness=witness())
    body = studio[1].post("/api/v1/verifications", query(subject)).json()
    assert (body["decision"], body["reasons"], body["consent"]) == ("denied", ["denied_by_subject"], deny.public_id)


@pytest.mark.django_db
def test_unknown_subject_and_invisible_subject_get_the_same_answer(signed, studio, make_org, user):
    other = make_org(user)
    subject, _, _ = signed(grantee=other.public_id)
    _, client = studio
    invisible = client.post("/api/v1/verifications", query(subject)).json()
    missing = client.post("/api/v1/verifications", query(subject, subject="sub_" + "0" * 26)).json()
    invisible.pop("receipt")
    missing.pop("receipt")
    assert (
        invisible
        == missing
        == {
            "decision": "unknown",
            "reasons": ["subject_unknown"],
            "assurance": None,  # no level for nobody, nor for a person the caller may not know
            "consent": None,
            "consent_digest": None,
            "conditions": {},
            "log_proof": None,
            "c2pa_assertions": None,
        }
    )


def without_throttles(settings):
    """Throttle counters off: on the embedded default they live in a database table, and their
    statements depend on where the request falls in the counting window, not on the verification."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": dict.fromkeys(rates)}


@pytest.mark.django_db
def test_constant_number_of_queries_whatever_the_number_of_consents(
    signed, studio, terms, settings, django_assert_max_num_queries
):
    subject, person, _ = signed()
    _, client = studio
    without_throttles(settings)
    client.post("/api/v1/verifications", query(subject))  # warm the key ring and caches
    # The API key with its creator's role, the subject with its signed consents, the tree head the
    # receipt cites with the checkpoint the log proof is against (one statement), and the access-log insert.
    with django_assert_max_num_queries(4) as few:
        client.post("/api/v1/verifications", query(subject))
    for n in range(15):
        draft = services.consent_create(
            subject=subject,
            actor=person,
            terms=as_service_terms(terms(subject, purposes=["art"], intended_use=f"Gallery artwork number {n}")),
        )
        services.consent_sign(consent=draft, actor=person, method="witnessed", witness=witness())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.post("/api/v1/verifications", query(subject)).json()["decision"] == "permitted"


@pytest.mark.django_db
def test_bulk_answers_in_order_under_one_receipt(signed, studio, anon):
    subject, _, _ = signed()
    _, client = studio
    queries = [query(subject), query(subject, purpose="advertising"), query(subject, subject="sub_" + "1" * 26)]
    response = client.post("/api/v1/verifications/bulk", {"queries": queries})
    assert response.status_code == 200
    body = response.json()
    assert [r["decision"] for r in body["results"]] == ["permitted", "denied", "unknown"]
    payload = verify_with_jwks(anon, body["receipt"])
    assert payload["batch"]["count"] == 3
    from registry.lib.canonical import canonical_json, sha256_digest

    covered = [
        {k: r[k] for k in ("query", "decision", "reasons", "assurance", "consent", "consent_digest")}
        for r in body["results"]
    ]
    assert payload["batch"]["digest"] == sha256_digest(canonical_json(covered))
    assert AccessLogEntry.objects.filter(subject=subject).count() == 2


@pytest.mark.django_db
def test_more_than_1000_bulk_queries_are_refused(signed, studio):
    subject, _, _ = signed()
    response = studio[1].post("/api/v1/verifications/bulk", {"queries": [query(subject)] * 1001})
    assert response.status_code == 400
    assert AccessLogEntry.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"territory": "XX"}, "territory"),
        ({"territory": "Indonesia"}, "territory"),
        ({"medium": "smell"}, "medium"),
        ({"activity": "clone"}, "activity"),
        ({"purpose": "propaganda"}, "purpose"),
        ({"date": "2027-02-30"}, "date"),
        ({"date": "tomorrow"}, "date"),
        ({"min_assurance": "certain"}, "min_assurance"),
        ({"studio": "me"}, "studio"),
    ],
)
def test_bad_queries_are_400_and_not_logged(signed, studio, override, field):
    subject, _, _ = signed()
    response = studio[1].post("/api/v1/verifications", {**query(subject), **override})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert AccessLogEntry.objects.count() == 0


@pytest.mark.django_db
def test_people_must_use_an_api_key_to_verify(signed, api):
    subject, _, _ = signed()
    assert api.post("/api/v1/verifications", query(subject)).status_code == 403


@pytest.mark.django_db
def test_verification_is_throttled_per_organization(signed, studio, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify": "2/min"},
    }
    subject, _, _ = signed()
    statuses = [studio[1].post("/api/v1/verifications", query(subject)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.django_db
def test_consent_token_for_a_permitted_grantee_verifies_offline(signed, studio, anon):
    subject, _, consent = signed()
    org, client = studio
    response = client.post("/api/v1/consent-tokens", query(subject))
    assert response.status_code == 201
    header, payload, _, _ = decode(response.json()["token"])
    assert header["typ"] == "restu-consent-token+jws"
    verify_with_jwks(anon, response.json()["token"])
    assert payload["aud"] == org.public_id
    assert payload["consent"] == consent.public_id
    assert payload["exp"] - payload["nbf"] == 600
    from restu_verify import verify_consent_token

    offline = verify_consent_token(response.json()["token"], anon.get("/.well-known/jwks.json").json())
    assert offline["consent"] == consent.public_id
    # A token is not a receipt: the receipt check refuses it.
    assert anon.post("/api/v1/receipts/verify", {"receipt": response.json()["token"]}).json()["valid"] is False


@pytest.mark.django_db
def test_no_token_without_consent(signed, studio):
    subject, _, _ = signed()
    response = studio[1].post("/api/v1/consent-tokens", query(subject, purpose="advertising"))
    assert response.status_code == 403
    assert AccessLogEntry.objects.filter(kind="token", decision="denied").count() == 1


@pytest.mark.django_db
def test_representative_gets_a_token_for_a_named_grantee(signed, client_for, org):
    subject, person, _ = signed()
    response = client_for(person).post("/api/v1/consent-tokens", {**query(subject), "grantee": org.public_id})
    assert response.status_code == 201
    stranger_subject, _, _ = signed()
    refused = client_for(person).post("/api/v1/consent-tokens", {**query(stranger_subject), "grantee": org.public_id})
    assert refused.status_code == 403


@pytest.mark.django_db
def test_expired_by_date_even_before_the_sweep(signed, studio):
    # Valid until 5 days from now, asked about 10 days from now: still "active" (no sweep ran).
    subject, _, consent = signed(valid_until=(timezone.now().date() + timedelta(days=5)).isoformat())
    assert consent.status == Consent.Status.ACTIVE
    body = studio[1].post("/api/v1/verifications", query(subject)).json()
    assert (body["decision"], body["reasons"]) == ("denied", ["expired"])
    inside = studio[1].post("/api/v1/verifications", query(subject, date=consent.valid_until.isoformat())).json()
    assert inside["decision"] == "permitted"
