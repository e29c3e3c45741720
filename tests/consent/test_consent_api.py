"""Subjects and consents through the HTTP API: create, sign (both ways), bad input, revoke, history."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from consent.models import Consent, ConsentEvent, Subject, SubjectProfile
from registry.events.models import OutboxEvent
from registry.transparency.models import LogEntry

pytestmark = pytest.mark.django_db


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def today():
    return timezone.now().date()


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    return body


# --- Subjects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "extra", "role"),
    [
        ("living", {}, "self"),
        ("minor", {"adult_on": "2099-01-01"}, "guardian"),
        ("deceased", {"deceased_on": "2020-05-01"}, "estate"),
    ],
)
def test_creating_a_subject_makes_the_creator_its_representative(user, api, status, extra, role):
    response = api.post("/api/v1/subjects", {"display_name": "Sari", "status": status, **extra}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("sub_")
    assert body["status"] == status
    assert [r["role"] for r in body["representatives"]] == [role]
    assert body["assurance"] == "self_asserted"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "minor"}, "adult_on"),
        ({"status": "minor", "adult_on": "2001-01-01"}, "adult_on"),
        ({"status": "deceased"}, "deceased_on"),
        ({"status": "deceased", "deceased_on": "2999-01-01"}, "deceased_on"),
        ({"status": "living", "adult_on": "2099-01-01"}, "adult_on"),
    ],
)
def test_subject_dates_must_fit_the_status(api, payload, field):
    response = api.post("/api/v1/subjects", {"display_name": "X", **payload}, format="json")
    assert_problem(response, 400, field)
    assert Subject.objects.count() == 0


def test_a_person_registers_themselves_only_once(api):
    assert api.post("/api/v1/subjects", {"display_name": "A", "status": "living"}, format="json").status_code == 201
    assert_problem(api.post("/api/v1/subjects", {"display_name": "B", "status": "living"}, format="json"), 409)


def test_strangers_get_404_for_a_private_subject_and_the_public_profile_when_made_public(
    make_subject, make_user, client_for
):
    subject, person = make_subject()
    stranger = client_for(make_user())
    assert_problem(stranger.get(f"/api/v1/subjects/{subject.public_id}"), 404)

    SubjectProfile.objects.filter(subject=subject).update(is_public=True, bio="Actor")
    body = stranger.get(f"/api/v1/subjects/{subject.public_id}").json()
    assert body == {
        "id": subject.public_id,
        "assurance": "self_asserted",
        "public_profile": {"display_name": "Sari Pemeran", "bio": "Actor"},
    }
    own = client_for(person).get(f"/api/v1/subjects/{subject.public_id}")
    assert own.json()["profile"]["display_name"] == "Sari Pemeran"
    assert own.has_header("ETag")


def test_profile_update_honours_if_match(make_subject, client_for):
    subject, person = make_subject()
    api = client_for(person)
    etag = api.get(f"/api/v1/subjects/{subject.public_id}")["ETag"]
    stale = api.patch(f"/api/v1/subjects/{subject.public_id}", {"bio": "x"}, format="json", HTTP_IF_MATCH='"stale"')
    assert_problem(stale, 412)
    ok = api.patch(f"/api/v1/subjects/{subject.public_id}", {"bio": "Voice actor"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200
    assert ok.json()["profile"]["bio"] == "Voice actor"


# --- Drafts and bad input ---------------------------------------------------------------------------


def test_a_draft_shows_the_canonical_signing_input_and_its_digest(make_subject, client_for, terms):
    subject, person = make_subject()
    response = client_for(person).post("/api/v1/consents", terms(subject), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    signed_bytes = unb64url(body["signing_input"])
    assert body["digest"] == "sha256:" + hashlib.sha256(signed_bytes).hexdigest()
    document = json.loads(signed_bytes)
    # RFC 8785: sorted keys, no insignificant whitespace.
    assert signed_bytes == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert document["id"] == body["id"]
    assert document["subject"] == subject.public_id
    assert document["territories"] == ["ID"]
    assert "Sari" not in signed_bytes.decode()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"territories": ["XX"]}, "territories"),
        ({"territories": ["id"]}, "territories"),
        ({"territories": ["*", "ID"]}, "territories"),
        ({"purposes": ["cooking"]}, "purposes"),
        ({"media": ["smell"]}, "media"),
        ({"activities": ["dance"]}, "activities"),
        ({"valid_from": "2030-01-02", "valid_until": "2030-01-01"}, "valid_until"),
        ({"purposes": ["sexual_*"]}, "purposes"),
        ({"purposes": ["*sensitive"]}, "purposes"),
        ({"guideline": "no-such-guideline@1.0.0"}, "guideline"),
        ({"guideline": "not a reference"}, "guideline"),
        ({"grantee": "org_doesnotexist00000000000000"}, "grantee"),
        ({"revocation": {"policy": "notice", "notice_days": 0}}, "revocation.notice_days"),
        ({"intended_use": ""}, "intended_use"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_terms_are_refused_with_a_problem_and_nothing_is_stored(make_subject, client_for, terms, override, field):
    subject, person = make_subject()
    response = client_for(person).post("/api/v1/consents", terms(subject, **override), format="json")
    assert_problem(response, 400, field)
    assert Consent.objects.count() == 0


def test_a_minors_consent_ends_when_they_come_of_age(make_subject, client_for, terms):
    subject, guardian = make_subject("minor")
    api = client_for(guardian)
    too_long = (subject.adult_on + timedelta(days=1)).isoformat()
    assert_problem(
        api.post("/api/v1/consents", terms(subject, valid_until=too_long), format="json"), 400, "valid_until"
    )

    open_ended = api.post("/api/v1/consents", terms(subject, valid_until=None), format="json")
    assert open_ended.status_code == 201
    assert open_ended.json()["valid_until"] == subject.adult_on.isoformat()


def test_only_a_representative_can_write_a_draft(make_subject, make_user, client_for, terms):
    subject, _ = make_subject()
    response = client_for(make_user()).post("/api/v1/consents", terms(subject), format="json")
    assert_problem(response, 400, "subject")


def test_a_draft_can_be_edited_but_a_signed_consent_cannot(make_subject, client_for, fresh_client, terms):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = api.post("/api/v1/consents", terms(subject), format="json").json()

    edited = api.patch(f"/api/v1/consents/{draft['id']}", {"territories": ["ID", "MY"]}, format="json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["territories"] == ["ID", "MY"]
    assert edited.json()["digest"] != draft["digest"]

    assert api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}, format="json").status_code == 200
    refused = api.patch(f"/api/v1/consents/{draft['id']}", {"territories": ["US"]}, format="json")
    assert_problem(refused, 409)
    assert Consent.objects.get(public_id=draft["id"]).territories == ["ID", "MY"]


# --- Signing with a subject key -------------------------------------------------------------------------


def _draft(api, terms, subject, **override):
    response = api.post("/api/v1/consents", terms(subject, **override), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_signing_with_the_subjects_key_activates_and_logs_the_consent(make_subject, fresh_client, terms, signer):
    subject, person = make_subject()
    api = fresh_client(person)
    key = signer()
    added = api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["kid"] == key.kid
    draft = _draft(api, terms, subject)

    signature = key.sign(unb64url(draft["signing_input"]))
    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "subject_key", "signature": signature})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["signature"]["kid"] == key.kid
    assert body["signature"]["notice_digest"] == "sha256:" + hashlib.sha256(body["summary"].encode()).hexdigest()
    assert "may generate new material of your face for film and TV, in Indonesia" in body["summary"]
    leaf = LogEntry.objects.get(type="consent.signed", ref=draft["id"])
    assert json.loads(bytes(leaf.leaf)) == {
        "type": "consent.signed",
        "id": draft["id"],
        "digest": draft["digest"],
        "at": json.loads(bytes(leaf.leaf))["at"],
    }
    assert OutboxEvent.objects.filter(type="consent.signed", payload__consent=draft["id"]).exists()


def test_signing_twice_is_a_conflict(make_subject, fresh_client, terms, signer):
    subject, person = make_subject()
    api = fresh_client(person)
    key = signer()
    api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")
    draft = _draft(api, terms, subject)
    body = {"method": "subject_key", "signature": key.sign(unb64url(draft["signing_input"]))}
    assert api.post(f"/api/v1/consents/{draft['id']}/sign", body).status_code == 200

    assert_problem(api.post(f"/api/v1/consents/{draft['id']}/sign", body), 409)
    assert LogEntry.objects.filter(type="consent.signed").count() == 1


@pytest.mark.parametrize("case", ["other_bytes", "retired_key", "foreign_key", "unknown_key", "garbage"])
def test_a_bad_signature_is_refused_and_the_draft_stays_a_draft(make_subject, fresh_client, terms, signer, case):
    subject, person = make_subject()
    api = fresh_client(person)
    key = signer()
    api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")
    draft = _draft(api, terms, subject)
    signing_input = unb64url(draft["signing_input"])
    if case == "other_bytes":
        signature = key.sign(signing_input.replace(b'"ID"', b'"US"'))
    elif case == "retired_key":
        assert api.delete(f"/api/v1/subjects/{subject.public_id}/keys/{key.kid}").status_code == 200
        signature = key.sign(signing_input)
    elif case == "foreign_key":
        other_subject, other_person = make_subject()
        foreign = signer()
        fresh_client(other_person).post(
            f"/api/v1/subjects/{other_subject.public_id}/keys", {"public_jwk": foreign.jwk}, format="json"
        )
        signature = foreign.sign(signing_input)
    elif case == "unknown_key":
        signature = signer().sign(signing_input)
    else:
        signature = "not.a.jws"

    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "subject_key", "signature": signature})

    assert_problem(response, 400, "signature")
    consent = Consent.objects.get(public_id=draft["id"])
    assert consent.status == "draft"
    assert consent.digest == draft["digest"]
    assert not LogEntry.objects.filter(type="consent.signed").exists()


def test_retired_keys_stay_listed_and_are_logged(make_subject, fresh_client, signer):
    subject, person = make_subject()
    api = fresh_client(person)
    key = signer()
    added = api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json").json()
    api.delete(f"/api/v1/subjects/{subject.public_id}/keys/{key.kid}")

    listed = api.get(f"/api/v1/subjects/{subject.public_id}/keys").json()["results"]
    assert [k["kid"] for k in listed] == [key.kid]
    assert listed[0]["retired_at"] is not None
    assert list(LogEntry.objects.filter(ref=added["id"]).values_list("type", flat=True).order_by("index")) == [
        "subject_key.added",
        "subject_key.retired",
    ]
    again = api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")
    assert_problem(again, 409)


def test_a_key_that_is_not_ed25519_is_refused(make_subject, fresh_client):
    subject, person = make_subject()
    response = fresh_client(person).post(
        f"/api/v1/subjects/{subject.public_id}/keys",
        {"public_jwk": {"kty": "RSA", "n": "x", "e": "AQAB"}},
        format="json",
    )
    assert_problem(response, 400, "public_jwk")


# --- Witnessed signing -----------------------------------------------------------------------------------


def test_witnessed_signing_needs_a_fresh_reauthentication(make_subject, client_for, terms):
    subject, person = make_subject()
    api = client_for(person)
    draft = _draft(api, terms, subject)

    assert_problem(api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}), 403)
    assert Consent.objects.get(public_id=draft["id"]).status == "draft"


def test_a_stale_reauthentication_does_not_witness(make_subject, fresh_client, terms, monkeypatch):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = _draft(api, terms, subject)
    later = timezone.now() + timedelta(minutes=6)
    monkeypatch.setattr("consent.services._common.timezone.now", lambda: later)

    assert_problem(api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}), 403)


def test_witnessed_signing_is_countersigned_by_the_registrys_receipt_key(make_subject, fresh_client, anon, terms):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = _draft(api, terms, subject)

    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed", "language": "id"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["signature"]["method"] == "witnessed"
    assert body["signature"]["second_factor"] is False
    assert body["signature"]["notice_language"] == "id"
    assert "boleh" in body["summary"]
    header_b64, payload_b64, signature_b64 = body["signature"]["jws"].split(".")
    header = json.loads(unb64url(header_b64))
    jwks = anon.get("/.well-known/jwks.json").json()["keys"]
    jwk = next(k for k in jwks if k["kid"] == header["kid"])
    public = Ed25519PublicKey.from_public_bytes(unb64url(jwk["x"]))
    public.verify(unb64url(signature_b64), f"{header_b64}.{payload_b64}".encode())
    claims = json.loads(unb64url(payload_b64))
    assert claims["consent"] == draft["id"]
    assert claims["digest"] == draft["digest"]
    assert claims["notice_digest"] == body["signature"]["notice_digest"]
    with pytest.raises(InvalidSignature):
        public.verify(unb64url(signature_b64), f"{header_b64}.{payload_b64}x".encode())


def test_a_second_factor_is_noted_when_the_reauthentication_used_one(make_subject, fresh_client, terms):
    from allauth.mfa.totp.internal.auth import (
        TOTP,
        format_hotp_value,
        generate_totp_secret,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    subject, person = make_subject()
    api = fresh_client(person)
    secret = generate_totp_secret()
    TOTP.activate(person, secret)
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    assert api.post("/accounts/2fa/reauthenticate/", {"code": code}, format="multipart").status_code == 302
    draft = _draft(api, terms, subject)

    body = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}).json()

    assert body["signature"]["second_factor"] is True


def test_signing_refuses_a_summary_the_signer_did_not_see(make_subject, fresh_client, terms):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = _draft(api, terms, subject)
    stale = "sha256:" + "0" * 64
    response = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed", "notice_digest": stale})
    assert_problem(response, 409)


# --- Revocation and history -----------------------------------------------------------------------------


def test_revoking_someone_elses_consent_is_404(make_subject, fresh_client, make_user, terms):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = _draft(api, terms, subject)
    api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    stranger = fresh_client(make_user())
    assert_problem(stranger.post(f"/api/v1/consents/{draft['id']}/revoke", {"reason": "mine now"}), 404)
    assert Consent.objects.get(public_id=draft["id"]).status == "active"


def test_revocation_is_effective_now_logged_and_in_the_history(make_subject, fresh_client, terms):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = _draft(api, terms, subject)
    api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    response = api.post(f"/api/v1/consents/{draft['id']}/revoke", {"reason": "changed my mind"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    assert LogEntry.objects.filter(type="consent.revoked", ref=draft["id"]).count() == 1
    history = api.get(f"/api/v1/consents/{draft['id']}/history").json()["results"]
    assert [h["type"] for h in history] == ["created", "signed", "revoked"]
    assert history[1]["log_index"] is not None
    assert_problem(api.post(f"/api/v1/consents/{draft['id']}/revoke", {"reason": "again"}), 409)


def test_revocation_needs_the_same_strength_as_signing(make_subject, fresh_client, client_for, terms):
    subject, person = make_subject()
    draft = _draft(fresh_client(person), terms, subject)
    fresh_client(person).post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    stale = client_for(person)  # signed in, but not re-authenticated
    assert_problem(stale.post(f"/api/v1/consents/{draft['id']}/revoke", {"reason": "x"}), 403)
    assert Consent.objects.get(public_id=draft["id"]).status == "active"


def test_revocation_by_subject_key_signs_the_revocation_statement(make_subject, fresh_client, terms, signer):
    subject, person = make_subject()
    api = fresh_client(person)
    key = signer()
    api.post(f"/api/v1/subjects/{subject.public_id}/keys", {"public_jwk": key.jwk}, format="json")
    draft = _draft(api, terms, subject)
    active = api.post(
        f"/api/v1/consents/{draft['id']}/sign",
        {"method": "subject_key", "signature": key.sign(unb64url(draft["signing_input"]))},
    ).json()

    wrong = api.post(
        f"/api/v1/consents/{draft['id']}/revoke",
        {"method": "subject_key", "signature": key.sign(unb64url(draft["signing_input"]))},
    )
    assert_problem(wrong, 400, "signature")

    statement = unb64url(active["revocation_signing_input"])
    ok = api.post(f"/api/v1/consents/{draft['id']}/revoke", {"method": "subject_key", "signature": key.sign(statement)})
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "revoked"


def test_a_notice_policy_delays_the_end_of_a_revoked_consent(make_subject, fresh_client, terms):
    subject, person = make_subject()
    api = fresh_client(person)
    draft = _draft(api, terms, subject, revocation={"policy": "notice", "notice_days": 30})
    api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"})

    body = api.post(f"/api/v1/consents/{draft['id']}/revoke", {"reason": "moving on"}).json()

    effective = body["revoked"]["effective_at"]
    assert effective[:10] == (today() + timedelta(days=30)).isoformat()
    assert ConsentEvent.objects.filter(consent__public_id=draft["id"], type="revoked").exists()


def test_vocabulary_is_public_and_labelled_in_english_and_indonesian(anon):
    body = anon.get("/api/v1/vocabulary").json()
    purposes = {p["key"]: p for p in body["purposes"]}
    assert purposes["film_tv"]["label"] == {"en": "Film and TV", "id": "Film dan TV"}
    assert purposes["political"]["sensitive"] is True
    assert purposes["film_tv"]["sensitive"] is False
    assert {m["key"] for m in body["media"]} == {"face", "voice", "body", "likeness"}
    assert [a["key"] for a in body["activities"]] == ["create_replica", "train_model", "generate", "alter"]


def test_a_published_guideline_is_referenced_with_its_digest_and_a_draft_is_refused(
    make_subject, make_user, make_org, client_for, terms
):
    guidelines = pytest.importorskip("guidelines.services")
    maintainer = make_user()
    project = make_org(maintainer, kind="project")
    guideline = guidelines.guideline_create(organization=project, actor_role="owner", slug="fair-use", title="Fair use")
    version = guidelines.guideline_version_create(
        guideline=guideline,
        actor_role="owner",
        actor=maintainer,
        version="1.0.0",
        body="Use faces only with consent.",
        clauses=[{"key": "no-nonconsensual", "kind": "must", "text": "Check consent before use."}],
    )
    subject, person = make_subject()
    api = client_for(person)
    assert_problem(api.post("/api/v1/consents", terms(subject, guideline="fair-use@1.0.0"), format="json"), 400)

    version = guidelines.guideline_version_publish(version=version, actor_role="owner")
    response = api.post("/api/v1/consents", terms(subject, guideline="fair-use@1.0.0"), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["guideline"] == {"ref": "fair-use@1.0.0", "digest": version.digest}
