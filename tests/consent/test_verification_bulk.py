"""Bulk verification: the same answers as one at a time, every query in the access log with the
batch receipt, a fixed number of SQL statements per batch, and bad input refused whole."""

import gc
from datetime import timedelta

import pytest
from django.utils import timezone

from consent import services
from consent.models import AccessLogEntry
from registry.accounts.models import ApiKey
from registry.lib.canonical import canonical_json, sha256_digest

from .conftest import as_service_terms, witness
from .test_verification_api import decode, query, verify_with_jwks, without_throttles

ANSWER_FIELDS = ("decision", "reasons", "assurance", "consent", "consent_digest", "conditions")


def _people(signed, terms, make_org, user):
    """Four subjects whose answers differ: permitted, denied by a deny record, invisible, minor."""
    permitted, _, _ = signed()
    denied, person, _ = signed()
    deny = services.consent_create(
        subject=denied, actor=person, terms=as_service_terms(terms(denied, effect="deny", conditions={}))
    )
    services.consent_sign(consent=deny, actor=person, method="witnessed", witness=witness())
    invisible, _, _ = signed(grantee=make_org(user).public_id)
    minor, _, _ = signed(status="minor")
    return permitted, denied, invisible, minor


@pytest.mark.django_db
def test_bulk_answers_are_the_single_answers_in_order(signed, terms, make_org, user, studio):
    _, client = studio
    permitted, denied, invisible, minor = _people(signed, terms, make_org, user)
    later = (timezone.now().date() + timedelta(days=400)).isoformat()  # after every consent's validity
    queries = [
        query(permitted),
        query(denied),
        query(invisible),
        query(minor),
        query(permitted, purpose="advertising", territory="FR"),
        query(permitted, date=later),
        query(permitted, min_assurance="vouched"),
        query(permitted, subject="sub_" + "2" * 26),
        query(permitted, activity="alter", medium="voice"),
    ]
    singles = [client.post("/api/v1/verifications", q).json() for q in queries]
    response = client.post("/api/v1/verifications/bulk", {"queries": queries})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [{k: r[k] for k in ANSWER_FIELDS} for r in results] == [{k: s[k] for k in ANSWER_FIELDS} for s in singles]
    assert [r["decision"] for r in results[:4]] == ["permitted", "denied", "unknown", "permitted"]
    assert results[0]["conditions"]["attribution_required"] is True
    assert results[2] == {**results[7], "query": results[2]["query"]}  # invisible reads as made-up
    assert [r["query"]["subject"] for r in results] == [q["subject"] for q in queries]


@pytest.mark.django_db
def test_every_bulk_query_on_a_real_subject_is_logged_with_the_batch_receipt(signed, terms, make_org, user, studio):
    org, client = studio
    permitted, denied, invisible, _ = _people(signed, terms, make_org, user)
    queries = [
        query(permitted),
        query(denied, territory="id"),
        query(invisible),
        query(permitted, subject="sub_" + "3" * 26),
        query(permitted, production="Film A", min_assurance="email_verified"),
    ]
    before = timezone.now()
    body = client.post("/api/v1/verifications/bulk", {"queries": queries}).json()
    _, payload, _, _ = decode(body["receipt"])
    key = ApiKey.objects.get(organization=org)
    entries = list(AccessLogEntry.objects.order_by("id"))
    # The made-up id is noted with no subject (no person's log shows it); the invisible subject's
    # check is noted in that person's log.
    assert [e.subject_id for e in entries] == [permitted.pk, denied.pk, invisible.pk, None, permitted.pk]
    assert entries[3].decision == "unknown"
    assert {(e.kind, e.caller_org_id, e.caller_user_id, e.caller_key_id, e.receipt_id) for e in entries} == {
        ("verification", org.pk, key.created_by_id, key.pk, payload["jti"])
    }
    assert [e.decision for e in entries] == [body["results"][i]["decision"] for i in range(5)]
    assert [e.query for e in entries] == [body["results"][i]["query"] for i in range(5)]
    assert entries[1].query["territory"] == "ID"  # as validated, not as sent
    assert entries[0].consent.public_id == body["results"][0]["consent"]
    assert entries[1].consent.public_id == body["results"][1]["consent"]  # the deny that decided it
    assert entries[2].consent_id is None
    assert all(before <= e.created <= timezone.now() for e in entries)


@pytest.mark.django_db
def test_the_batch_receipt_covers_the_answers_and_verifies_offline(signed, studio, anon):
    notes = 'Jalan \u00e9t\u00e9 \u2014 \U0001f3ac "quoted" \\ tab\tline\u2028end'
    subject, _, _ = signed(conditions={"notes": notes})
    _, client = studio
    odd = 'Film "\u00e9\\ \u00ff'
    queries = [query(subject), query(subject, purpose="art"), query(subject, production=odd)]
    response = client.post("/api/v1/verifications/bulk", {"queries": queries})
    assert response["Content-Type"] == "application/json"
    assert "\u2028".encode() not in response.content  # escaped, as JSON renderers do for JavaScript's sake
    body = response.json()
    payload = verify_with_jwks(anon, body["receipt"])
    keys = ("query", "decision", "reasons", "assurance", "consent", "consent_digest")
    covered = [{k: r[k] for k in keys} for r in body["results"]]
    assert payload["batch"] == {"count": 3, "digest": sha256_digest(canonical_json(covered))}
    assert body["results"][0]["conditions"]["notes"] == notes
    assert body["results"][2]["query"]["production"] == odd
    # A changed answer no longer matches the digest.
    covered[1]["decision"] = "permitted"
    assert payload["batch"]["digest"] != sha256_digest(canonical_json(covered))


@pytest.mark.django_db
def test_a_bulk_request_costs_the_same_statements_for_3_or_60_queries(
    signed, studio, settings, django_assert_max_num_queries
):
    _, client = studio
    people = [signed()[0] for _ in range(6)]
    without_throttles(settings)
    client.post("/api/v1/verifications/bulk", {"queries": [query(people[0])]})  # warm the key ring and caches
    # The API key, the subjects with their consents, the chosen consents' digests and conditions,
    # the checkpoint the log proofs are against, the tree head, and one access-log insert for the batch.
    with django_assert_max_num_queries(6) as few:
        client.post("/api/v1/verifications/bulk", {"queries": [query(p) for p in people[:3]]})
    uses = ({}, {"purpose": "art"}, {"territory": "US"}, {"medium": "voice"}, {"date": "2030-01-01"})
    many = [query(p, **use) for p in people for use in uses] * 2
    assert len(many) == 60
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.post("/api/v1/verifications/bulk", {"queries": many})
    assert len(response.json()["results"]) == 60
    assert AccessLogEntry.objects.count() == 1 + 3 + 60


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"territory": "XX"}, "queries.1.territory"),
        ({"date": "2027-02-30"}, "queries.1.date"),
        ({"medium": ["face"]}, "queries.1.medium"),
        ({"studio": "me"}, "queries.1.studio"),
        ({"subject": None}, "queries.1.subject"),
    ],
)
def test_one_bad_query_refuses_the_whole_batch_and_logs_nothing(signed, studio, bad, field):
    subject, _, _ = signed()
    _, client = studio
    queries = [query(subject), {**query(subject), **bad}, query(subject)]
    response = client.post("/api/v1/verifications/bulk", {"queries": queries})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    assert AccessLogEntry.objects.count() == 0
    assert gc.isenabled()  # the collector paused for the batch is running again


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"queries": []}, {"queries": "all"}, {"queries": [None]}, {}, {"queries": [], "extra": 1}, []],
)
def test_malformed_batches_are_400(signed, studio, body):
    _, client = studio
    response = client.post("/api/v1/verifications/bulk", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert AccessLogEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_single_receipt_still_cites_the_consents_log_leaf(signed, studio, anon):
    subject, _, consent = signed()
    _, client = studio
    body = client.post("/api/v1/verifications", query(subject)).json()
    payload = verify_with_jwks(anon, body["receipt"])
    leaf = anon.get(f"/api/v1/log/entries/{payload['log']['index']}").json()["leaf"]
    assert (leaf["type"], leaf["id"], leaf["digest"]) == ("consent.signed", consent.public_id, consent.digest)
    entry = AccessLogEntry.objects.get(subject=subject)
    assert (entry.receipt_id, entry.consent_id, entry.decision) == (payload["jti"], consent.pk, "permitted")


@pytest.mark.django_db
def test_a_cited_consent_gone_between_the_two_reads_is_decided_again_from_one_read(signed, monkeypatch):
    # The bulk path reads the pairs, then the cited consents. A consent that vanished in between
    # (signed consents never do; this is the guard) must not crash the batch: the checks are
    # decided again from one read, and answer as the single path does without that consent.
    from django.db import connection

    from consent import verification
    from consent.rules.decision import UseQuery
    from consent.verification import bulk

    subject, _, consent = signed()
    check = verification.Check(subject.public_id, UseQuery("face", "generate", "film_tv", "ID", timezone.now().date()))
    assert verification.verification_decide_bulk(caller="org_x", checks=[check])[0].consent_pk == consent.pk
    real_cited = bulk._cited

    def cited_after_a_deletion(pks):
        with connection.cursor() as cursor:  # the row goes, with the rows that point at it
            cursor.execute("DELETE FROM consent_consentevent WHERE consent_id = %s", [consent.pk])
            cursor.execute("DELETE FROM consent_consent WHERE id = %s", [consent.pk])
        return real_cited(pks)

    monkeypatch.setattr(bulk, "_cited", cited_after_a_deletion)
    [answer] = verification.verification_decide_bulk(caller="org_x", checks=[check])
    [single] = verification.verification_decide(caller="org_x", checks=[check])
    assert (answer.decision.decision, answer.decision.reasons) == (single.decision.decision, single.decision.reasons)
    assert answer.consent_pk is None
    assert answer.log_index is None
