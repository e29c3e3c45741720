"""``log_proof`` in answers: single and bulk verifications, consent tokens and release appearances
carry a C2SP tlog-proof of the cited consent's ``consent.signed`` leaf against the newest witnessed
checkpoint (null before one covers it), checked here by the offline client ``restu_verify`` and the
receipts by ``joserfc``, neither of them the registry's own code."""

from __future__ import annotations

import base64
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from joserfc import jws
from joserfc.jwk import KeySet

from consent.models import Subject
from registry.lib.canonical import canonical_json, sha256_digest
from registry.lib.ids import new_public_id
from registry.transparency.models import LogEntry
from registry.transparency.services import checkpoint_publish
from registry.witness import selectors, services
from tests.registry.witness.reference_witness import ReferenceWitnessServer
from tests.registry.witness.test_witness_client import grow, our_log_vkey, reference, write_policy

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
if str(CLIENT) not in sys.path:
    sys.path.insert(0, str(CLIENT))

from restu_verify.witness import parse_policy, verify_receipt_with_proof, verify_tlog_proof  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def witnessing(tmp_path, settings):
    """``witness()`` publishes a checkpoint of the log as it is and has the reference witness (written
    from C2SP tlog-witness, not from our client) cosign it; returns the policy's text."""
    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "keys" / "signing-keys.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    settings.REGISTRY_WITNESS_MIN_INTERVAL = 0
    settings.REGISTRY_WITNESS_TIMEOUT = 5
    state: dict[str, object] = {"witness": reference()}

    def witness() -> str:
        checkpoint_publish()
        w = state["witness"]
        with ReferenceWitnessServer(w) as server:
            policy = write_policy(tmp_path, settings, [("ref", w.vkey, server.url)], "quorum ref")
            assert services.witness_round() == {"ref": "cosigned"}
        return policy.read_text()

    def policy_only() -> str:
        w = state["witness"]
        return write_policy(tmp_path, settings, [("ref", w.vkey, "http://127.0.0.1:9")], "quorum ref").read_text()

    witness.policy_only = policy_only  # type: ignore[attr-defined]
    return witness


def query(subject, **over):
    return {
        "subject": subject.public_id if isinstance(subject, Subject) else subject,
        "medium": "face",
        "activity": "generate",
        "purpose": "film_tv",
        "territory": "ID",
        "date": (timezone.now().date() + timedelta(days=10)).isoformat(),
        **over,
    }


def receipt_payload(anon, token: str) -> dict:
    """The receipt's claims, its signature checked by joserfc against the published JWKS."""
    keys = KeySet.import_key_set(anon.get("/.well-known/jwks.json").json())
    return json.loads(jws.deserialize_compact(token, keys, algorithms=["Ed25519"]).payload)


def signed_leaf(consent) -> LogEntry:
    return LogEntry.objects.get(type="consent.signed", ref=consent.public_id)


def test_a_single_answer_carries_a_proof_that_verifies_offline_with_its_receipt(signed, studio, anon, witnessing):
    subject, _, consent = signed()
    _, client = studio
    witnessing.policy_only()
    before = client.post("/api/v1/verifications", query(subject)).json()
    assert before["decision"] == "permitted"
    assert before["log_proof"] is None  # nothing witnessed yet
    policy = witnessing()
    grow(3)  # signed but not witnessed: the proof stays against the witnessed checkpoint
    body = client.post("/api/v1/verifications", query(subject)).json()
    payload = receipt_payload(anon, body["receipt"])
    checked = verify_receipt_with_proof(payload, body["log_proof"], our_log_vkey(), parse_policy(policy))
    assert checked.leaf["id"] == consent.public_id
    assert checked.index == signed_leaf(consent).index == payload["log"]["index"]
    assert checked.cosigned_by.keys() == {"ref"}
    assert checked.checkpoint.size == signed_leaf(consent).index + 1
    # Byte for byte what the log's own endpoint serves for that leaf.
    served = anon.get(f"/api/v1/log/proof/tlog?index={checked.index}")
    assert served.content.decode() == body["log_proof"]


def test_answers_citing_no_consent_carry_a_null_proof(signed, studio, witnessing):
    subject, _, _ = signed()
    _, client = studio
    witnessing()
    for asked in (query(subject, purpose="advertising"), query(new_public_id("sub")), query("nobody")):
        body = client.post("/api/v1/verifications", asked).json()
        assert body["decision"] in {"denied", "unknown"}
        assert body["consent"] is None
        assert body["log_proof"] is None


def test_a_denying_consent_is_proved_too(signed, studio, anon, witnessing):
    subject, _, consent = signed(effect="deny")
    _, client = studio
    policy = witnessing()
    body = client.post("/api/v1/verifications", query(subject)).json()
    assert (body["decision"], body["consent"]) == ("denied", consent.public_id)
    payload = receipt_payload(anon, body["receipt"])
    assert verify_receipt_with_proof(payload, body["log_proof"], our_log_vkey(), parse_policy(policy))


def test_without_a_policy_the_proof_is_against_the_newest_signed_checkpoint(signed, studio, anon, settings):
    settings.REGISTRY_WITNESS_POLICY = None
    subject, _, consent = signed()
    _, client = studio
    assert client.post("/api/v1/verifications", query(subject)).json()["log_proof"] is None
    checkpoint = checkpoint_publish()
    assert checkpoint is not None
    body = client.post("/api/v1/verifications", query(subject)).json()
    index = signed_leaf(consent).index
    assert body["log_proof"] == anon.get(f"/api/v1/log/proof/tlog?index={index}").content.decode()
    assert body["log_proof"].endswith(checkpoint.note)


def test_every_bulk_result_carries_its_own_proof_outside_the_batch_digest(
    signed, studio, anon, witnessing, make_subject
):
    people = [signed() for _ in range(4)]
    stranger, _ = make_subject()
    _, client = studio
    policy = parse_policy(witnessing())
    queries = [query(subject) for subject, _, _ in people]
    queries += [query(people[0][0], purpose="advertising"), query(stranger), query(new_public_id("sub"))]
    response = client.post("/api/v1/verifications/bulk", {"queries": queries})
    assert response.status_code == 200
    body = response.json()
    payload = receipt_payload(anon, body["receipt"])
    for result, (_, _, consent) in zip(body["results"], people, strict=False):
        checked = verify_tlog_proof(result["log_proof"], our_log_vkey(), policy)
        assert checked.leaf == {**checked.leaf, "type": "consent.signed", "id": consent.public_id}
        assert checked.leaf["digest"] == result["consent_digest"]
        assert checked.index == signed_leaf(consent).index
    assert [result["log_proof"] for result in body["results"][4:]] == [None, None, None]
    # The batch digest covers the same six fields as before: the proof is outside it.
    fields = ("query", "decision", "reasons", "assurance", "consent", "consent_digest")
    covered = [{name: result[name] for name in fields} for result in body["results"]]
    assert payload["batch"]["digest"] == sha256_digest(canonical_json(covered))


def test_a_consent_token_answer_carries_the_proof(signed, studio, anon, witnessing):
    subject, _, consent = signed()
    _, client = studio
    policy = witnessing()
    response = client.post("/api/v1/consent-tokens", query(subject))
    assert response.status_code == 201
    body = response.json()
    claims = receipt_payload(anon, body["token"])
    assert claims["consent"] == consent.public_id
    checked = verify_tlog_proof(body["log_proof"], our_log_vkey(), parse_policy(policy))
    assert (checked.leaf["id"], checked.leaf["digest"]) == (consent.public_id, claims["consent_digest"])
    assert checked.index == claims["log"]["index"]


def test_release_appearances_carry_the_proof_of_their_consent(signed, studio, witnessing):
    subject, _, consent = signed(production="Layar Lebar", representation="union")
    other, _, _ = signed()
    _, client = studio
    policy = parse_policy(witnessing())
    body = {
        "title": "Layar Lebar",
        "release_date": (timezone.now().date() + timedelta(days=30)).isoformat(),
        "territories": ["ID"],
        "appearances": [
            {"subject": subject.public_id, "media": ["face"], "purpose": "film_tv"},
            {"subject": other.public_id, "media": ["voice"], "purpose": "advertising"},
        ],
    }
    created = client.post("/api/v1/releases", body)
    assert created.status_code == 201
    for report in (created.json(), client.get(f"/api/v1/releases/{created.json()['id']}").json()):
        cited, refused = report["appearances"]
        checked = verify_tlog_proof(cited["log_proof"], our_log_vkey(), policy)
        assert checked.leaf["id"] == consent.public_id
        assert refused["consent"] is None
        assert refused["log_proof"] is None


def test_many_proofs_are_read_together_and_match_the_one_leaf_proofs(witnessing):
    grow(40)
    witnessing()
    indices = list(range(0, 40, 3))
    with CaptureQueriesContext(connection) as first:
        proofs = selectors.log_proofs([*indices, None, 40, 10_000])
    # The checkpoint, then every leaf and node at once.
    assert len(first.captured_queries) == 2
    assert sorted(proofs) == indices
    for index in indices:
        assert proofs[index] == selectors.tlog_proof(index).format()  # type: ignore[union-attr]
    with CaptureQueriesContext(connection) as again:
        assert selectors.log_proofs(indices) == proofs
    assert len(again.captured_queries) == 1  # made once per (leaf, size)
    with CaptureQueriesContext(connection) as none:
        assert selectors.log_proofs([None]) == {}
    assert len(none.captured_queries) == 1  # the same checkpoint read whatever is cited


def test_a_proofs_leaf_is_the_canonical_consent_signed_leaf(signed, studio, witnessing):
    subject, _, consent = signed()
    _, client = studio
    witnessing()
    proof = client.post("/api/v1/verifications", query(subject)).json()["log_proof"]
    extra = next(line for line in proof.split("\n") if line.startswith("extra "))[6:]
    assert base64.b64decode(extra) == bytes(signed_leaf(consent).leaf)


def test_the_log_position_is_the_tree_head_and_the_proof_checkpoint_in_one_read(signed, witnessing, settings):
    from registry.transparency.services import tree_head

    empty = selectors.log_position()
    assert (empty.head, empty.checkpoint) == (tree_head(), None)
    signed()
    checkpoint_publish()
    signed()  # the tree grows past the checkpoint: the head and the checkpoint differ
    with CaptureQueriesContext(connection) as reads:
        position = selectors.log_position()
    assert len(reads.captured_queries) == 1
    assert position.head == tree_head()
    assert position.checkpoint == selectors._proof_checkpoint_row()
    assert position.checkpoint is not None
    assert position.checkpoint[0] < position.head.size
    # With a witness policy the proofs are against the newest witnessed checkpoint (none yet here),
    # whatever the log's own newest one.
    witnessing.policy_only()
    assert selectors.log_position().checkpoint == selectors._proof_checkpoint_row() is None
    witnessing()
    assert selectors.log_position().checkpoint == selectors._proof_checkpoint_row() is not None
