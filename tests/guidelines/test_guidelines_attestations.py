"""Project keys and attestations: DSSE verification, clause reading, listing, revocation, the release look-up."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guidelines import selectors, services
from guidelines.models import Attestation, ProjectKey
from registry.errors import Conflict, ValidationFailed
from registry.events.models import OutboxEvent
from registry.lib.canonical import b64url_decode
from registry.lib.signing import generate_private_key, jwk_thumbprint, public_jwk
from registry.transparency.models import LogEntry
from tests.guidelines.presence import present

PAYLOAD_TYPE = "application/vnd.in-toto+json"
DIGEST = "sha256:" + "ab" * 32


def _jwk(private_key):
    jwk = public_jwk(private_key)
    del jwk["kid"]
    return jwk


# --- keys ---------------------------------------------------------------------------------


def test_a_project_registers_a_key_whose_kid_is_its_thumbprint(project, fresh_maintainer_api, private_key):
    url = f"/api/v1/organizations/{project.public_id}/keys"
    response = fresh_maintainer_api.post(url, {"public_jwk": _jwk(private_key)}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["kid"] == jwk_thumbprint(_jwk(private_key))
    assert body["status"] == "active"
    leaf = LogEntry.objects.get(type="project_key.added")
    assert leaf.ref == body["id"]
    assert set(json.loads(bytes(leaf.leaf))) == {"type", "id", "digest", "at"}
    assert [k["kid"] for k in fresh_maintainer_api.get(url).json()["results"]] == [body["kid"]]
    assert fresh_maintainer_api.post(url, {"public_jwk": _jwk(private_key)}, format="json").status_code == 409


def test_retiring_a_key_keeps_it_listed_and_logs_it(project, project_key, fresh_maintainer_api):
    url = f"/api/v1/organizations/{project.public_id}/keys/{project_key.kid}"
    assert fresh_maintainer_api.delete(url).status_code == 204
    assert fresh_maintainer_api.get(url).json()["status"] == "retired"
    assert ProjectKey.objects.filter(pk=project_key.pk).exists()
    assert LogEntry.objects.filter(type="project_key.retired", ref=project_key.public_id).count() == 1
    assert fresh_maintainer_api.delete(url).status_code == 204  # harmless again, not logged twice
    assert LogEntry.objects.filter(type="project_key.retired").count() == 1


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "abc"},
        {"kty": "OKP", "crv": "Ed25519", "x": "tooshort"},
        "not an object",
    ],
)
def test_bad_keys_are_refused(project, fresh_maintainer_api, jwk):
    response = fresh_maintainer_api.post(
        f"/api/v1/organizations/{project.public_id}/keys", {"public_jwk": jwk}, format="json"
    )
    assert response.status_code == 400
    assert "public_jwk" in response.json()["errors"]
    assert not ProjectKey.objects.exists()


def test_a_private_key_is_refused_and_not_stored(project, fresh_maintainer_api, private_key):
    from registry.lib.signing import private_key_to_jwk

    response = fresh_maintainer_api.post(
        f"/api/v1/organizations/{project.public_id}/keys",
        {"public_jwk": private_key_to_jwk(private_key)},
        format="json",
    )
    assert response.status_code == 400
    assert not ProjectKey.objects.exists()


def test_keys_and_proofs_are_hidden_from_non_members(project, project_key, make_user, client_for, private_key):
    stranger = client_for(make_user())
    base = f"/api/v1/organizations/{project.public_id}"
    assert stranger.get(f"{base}/keys").status_code == 404
    assert stranger.post(f"{base}/keys", {"public_jwk": _jwk(generate_private_key())}, format="json").status_code == 404
    assert stranger.delete(f"{base}/keys/{project_key.kid}").status_code == 404
    assert stranger.get(f"{base}/proofs").status_code == 404
    project_key.refresh_from_db()
    assert project_key.is_active


# --- attestations -------------------------------------------------------------------------


def test_an_attestation_is_verified_read_stored_and_logged(
    published, project, project_key, private_key, maintainer_api, statement, sign, anon
):
    envelope = sign(statement(), private_key, project_key.kid)

    response = maintainer_api.post("/api/v1/attestations", {"envelope": envelope}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].startswith("att_")
    assert body["project"] == project.public_id
    assert body["guideline"] == "fair-swap@1.0.0"
    assert body["clauses"] == {
        "consent-of-everyone": "asserted",  # met, but consent_token_check was not claimed
        "label-output": "evidenced",  # visible_watermark backs it
        "no-minors": "asserted",  # names no evidence
    }
    assert body["subjects"] == [{"name": "open-swap-2.3.0.tar.gz", "digest": DIGEST}]

    leaf = LogEntry.objects.get(type="attestation.stored")
    assert leaf.ref == body["id"]
    assert leaf.digest == body["payload_digest"]
    assert set(json.loads(bytes(leaf.leaf))) == {"type", "id", "digest", "at"}
    assert OutboxEvent.objects.filter(type="attestation.stored").count() == 1

    # Anyone can check the stored signature again, with nothing but `cryptography`.
    stored = anon.get(f"/api/v1/attestations/{body['id']}").json()["envelope"]
    payload = base64.b64decode(stored["payload"])
    pae = b"DSSEv1 %d %b %d %b" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload), payload)
    public = Ed25519PublicKey.from_public_bytes(b64url_decode(project_key.public_jwk["x"]))
    public.verify(base64.b64decode(stored["signatures"][0]["sig"]), pae)


def test_clauses_left_out_are_not_met_and_not_applicable_is_kept(
    published, project, project_key, private_key, statement, sign
):
    doc = statement(clauses={"no-minors": "not_applicable", "label-output": "not_met"}, safeguards=[])
    attestation = services.attestation_store(
        project=project, actor_role="owner", envelope=sign(doc, private_key, project_key.kid)
    )
    assert attestation.results == {
        "consent-of-everyone": "not_met",
        "label-output": "not_met",
        "no-minors": "not_applicable",
    }


def test_the_public_list_filters_by_project_and_digest(
    published, project, project_key, private_key, statement, sign, anon, make_user, make_org
):
    attestation = services.attestation_store(
        project=project, actor_role="owner", envelope=sign(statement(), private_key, project_key.kid)
    )
    other = make_org(make_user(), kind="project")

    def ids(query):
        response = anon.get(f"/api/v1/attestations{query}")
        assert response.status_code == 200
        return [a["id"] for a in response.json()["results"]]

    assert ids("") == [attestation.public_id]
    assert ids(f"?project={project.public_id}&digest={DIGEST}") == [attestation.public_id]
    assert ids(f"?project={other.public_id}") == []
    assert ids("?digest=sha256:" + "cd" * 32) == []
    assert ids("?guideline=fair-swap@1.0.0&revoked=false") == [attestation.public_id]


def test_revocation_is_logged_and_the_release_lookup_skips_it(
    published, project, project_key, private_key, statement, sign, maintainer_api, make_user, client_for
):
    first = services.attestation_store(
        project=project, actor_role="owner", envelope=sign(statement(), private_key, project_key.kid)
    )
    second = services.attestation_store(
        project=project,
        actor_role="owner",
        envelope=sign(statement(safeguards=["c2pa_manifest"]), private_key, project_key.kid),
    )
    assert selectors.attestation_for_release(project_public_id=project.public_id, digest=DIGEST) == second

    assert client_for(make_user()).post(f"/api/v1/attestations/{second.public_id}/revoke").status_code == 404
    response = maintainer_api.post(
        f"/api/v1/attestations/{second.public_id}/revoke", {"reason": "Watermark was off by default."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    leaf = LogEntry.objects.get(type="attestation.revoked")
    assert (leaf.ref, leaf.digest) == (second.public_id, second.payload_digest)
    event = OutboxEvent.objects.get(type="attestation.revoked")
    assert event.payload["attestation"] == second.public_id
    assert "Watermark" not in json.dumps(event.payload)

    assert selectors.attestation_for_release(project_public_id=project.public_id, digest=DIGEST) == first
    assert selectors.attestation_for_release(project_public_id=project.public_id, digest="sha256:" + "00" * 32) is None
    assert maintainer_api.post(f"/api/v1/attestations/{second.public_id}/revoke").status_code == 409


def test_an_attestation_made_before_a_key_was_retired_stays_valid(
    published, project, project_key, private_key, statement, sign
):
    attestation = services.attestation_store(
        project=project, actor_role="owner", envelope=sign(statement(), private_key, project_key.kid)
    )
    services.project_key_retire(key=project_key, actor_role="owner", presence=present())
    assert selectors.attestation_for_release(project_public_id=project.public_id, digest=DIGEST) == attestation


def test_the_same_statement_twice_is_a_conflict(published, project, project_key, private_key, statement, sign):
    envelope = sign(statement(), private_key, project_key.kid)
    services.attestation_store(project=project, actor_role="owner", envelope=envelope)
    with pytest.raises(Conflict):
        services.attestation_store(project=project, actor_role="owner", envelope=envelope)


def _post(api, envelope):
    return api.post("/api/v1/attestations", {"envelope": envelope}, format="json")


def _assert_refused(response, field=None):
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    if field:
        assert field in response.json()["errors"], response.json()
    assert not Attestation.objects.exists()
    assert not LogEntry.objects.filter(type="attestation.stored").exists()


def test_malformed_envelopes_are_refused(published, project_key, private_key, maintainer_api, statement, sign):
    good = sign(statement(), private_key, project_key.kid)
    _assert_refused(_post(maintainer_api, "not an object"))
    _assert_refused(_post(maintainer_api, {"payload": good["payload"]}), "envelope")
    _assert_refused(_post(maintainer_api, {**good, "payload": "%%%not base64%%%"}), "envelope")
    _assert_refused(
        _post(maintainer_api, {**good, "signatures": [{"keyid": project_key.kid, "sig": "@@"}]}), "envelope"
    )
    _assert_refused(_post(maintainer_api, {**good, "signatures": []}), "envelope")


def test_a_tampered_payload_fails_the_signature(published, project_key, private_key, maintainer_api, statement, sign):
    good = sign(statement(), private_key, project_key.kid)
    tampered = base64.b64encode(json.dumps(statement(safeguards=["c2pa_manifest"])).encode()).decode()
    _assert_refused(_post(maintainer_api, {**good, "payload": tampered}), "envelope")


def test_signatures_by_unknown_retired_or_other_projects_keys_are_refused(
    published, project, project_key, private_key, maintainer, maintainer_api, statement, sign, make_org
):
    stranger_key = generate_private_key()
    _assert_refused(_post(maintainer_api, sign(statement(), stranger_key, jwk_thumbprint(_jwk(stranger_key)))))

    other_project = make_org(maintainer, kind="project")
    other_key = generate_private_key()
    registered = services.project_key_add(
        organization=other_project, actor_role="owner", actor=maintainer, public_jwk=_jwk(other_key), presence=present()
    )
    body = {"envelope": sign(statement(), other_key, registered.kid), "project": project.public_id}
    _assert_refused(maintainer_api.post("/api/v1/attestations", body, format="json"), "envelope")

    services.project_key_retire(key=project_key, actor_role="owner", presence=present())
    body = {"envelope": sign(statement(), private_key, project_key.kid), "project": project.public_id}
    _assert_refused(maintainer_api.post("/api/v1/attestations", body, format="json"), "envelope")


def test_a_payload_type_mismatch_is_refused(published, project_key, private_key, maintainer_api, statement, sign):
    envelope = sign(statement(), private_key, project_key.kid, payload_type="application/json")
    _assert_refused(_post(maintainer_api, envelope), "envelope.payloadType")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(subject=[]), "statement.subject"),
        (lambda d: d.pop("subject"), "statement.subject"),
        (lambda d: d["subject"][0].update(digest={}), "statement.subject.0.digest.sha256"),
        (lambda d: d["subject"][0].update(digest={"sha256": "XYZ"}), "statement.subject.0.digest.sha256"),
        (lambda d: d.update(_type="https://in-toto.io/Statement/v0.1"), "statement._type"),
        (lambda d: d.update(predicateType="https://slsa.dev/provenance/v1"), "statement.predicateType"),
        (lambda d: d["predicate"].update(guideline="fair-swap@9.0.0"), "guideline"),
        (lambda d: d["predicate"].update(clauses={"made-up": "met"}), "predicate.clauses.made-up"),
        (lambda d: d["predicate"].update(clauses={"no-minors": "mostly"}), "predicate.clauses.no-minors"),
        (lambda d: d["predicate"].update(safeguards=["magic_shield"]), "predicate.safeguards"),
        (lambda d: d["predicate"].pop("release"), "predicate.release.version"),
    ],
)
def test_bad_statements_are_refused(
    published, project_key, private_key, maintainer_api, statement, sign, mutate, field
):
    doc = statement()
    mutate(doc)
    _assert_refused(_post(maintainer_api, sign(doc, private_key, project_key.kid)), field)


def test_a_draft_or_retired_guideline_cannot_be_attested(
    published, project, project_key, private_key, statement, sign, maintainer
):
    services.guideline_version_retire(version=published, actor_role="owner")
    with pytest.raises(ValidationFailed):
        services.attestation_store(
            project=project, actor_role="owner", envelope=sign(statement(), private_key, project_key.kid)
        )


def test_an_envelope_over_256_kib_is_413(published, project_key, private_key, maintainer_api, statement, sign):
    doc = statement(release={"version": "2.3.0", "url": "https://example.org/" + "a" * (300 * 1024)})
    response = _post(maintainer_api, sign(doc, private_key, project_key.kid))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert not Attestation.objects.exists()


def test_only_the_projects_admins_or_its_api_key_may_attest(
    published, project, project_key, private_key, maintainer, statement, sign, key_client, make_user, client_for
):
    from registry.accounts.services import membership_add

    member = make_user()
    membership_add(organization=project, actor_role="owner", user=member, role="member")
    envelope = sign(statement(), private_key, project_key.kid)
    assert _post(client_for(member), envelope).status_code in (400, 403)
    stranger_body = {"envelope": envelope, "project": project.public_id}
    # Naming a project one does not belong to is 403 (registry.api.caller.acting_organization), no longer 400.
    assert client_for(make_user()).post("/api/v1/attestations", stranger_body, format="json").status_code == 403
    assert not Attestation.objects.exists()

    api, _ = key_client(organization=project, creator=maintainer)
    assert _post(api, envelope).status_code == 201


def test_the_safeguard_vocabulary_has_english_and_indonesian_labels(anon, db):
    results = anon.get("/api/v1/safeguards").json()["results"]
    labels = {item["key"]: item["label"] for item in results}
    assert labels["visible_watermark"] == {"en": "Visible watermark", "id": "Tanda air yang terlihat"}
    assert {"invisible_watermark", "c2pa_manifest", "consent_token_check", "nsfw_filter"} <= set(labels)
