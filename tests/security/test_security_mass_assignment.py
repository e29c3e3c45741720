"""Mass assignment: server-owned fields sent to a writable endpoint are refused, or lose to the server.

For every create and update the API offers, each field the server owns (ids, status, digests,
timestamps, secrets, owners …) is sent inside an otherwise valid body by a caller who may make
the change. The answer must be a 400 problem document naming that field (``StrictSerializer``
rejects unknown and read-only fields) and nothing may be created or changed. Where a field is
legitimately part of the input (``organization``, ``project``) or the endpoint takes no input at
all, the server's value must win.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Model

from consent import services as consent_services
from consent.models import AccessLogEntry, Consent, Dispute, Release, Subject, SubjectKey, Vouch
from guidelines.models import Adoption, Attestation, ControlProof, Guideline, GuidelineVersion, ProjectKey
from registry.accounts.models import ApiKey, Invitation, Organization
from registry.events.models import Acknowledgement, WebhookEndpoint

_V = "/api/v1"
FORGED_AT = "2020-01-01T00:00:00Z"
FORGED_DIGEST = "sha256:" + "0" * 64

# What a forger would send for each server-owned field.
FORGED: dict[str, Any] = {
    "id": "con_forged00000000000000000000",
    "public_id": "con_forged00000000000000000000",
    "status": "active",
    "digest": FORGED_DIGEST,
    "signing_input": "e30",
    "created": FORGED_AT,
    "updated": FORGED_AT,
    "owner": "usr_forged00000000000000000000",
    "created_by": "usr_forged00000000000000000000",
    "organization": "org_forged00000000000000000000",
    "signed_at": FORGED_AT,
    "revoked_at": FORGED_AT,
    "revoked": True,
    "published_at": FORGED_AT,
    "verified_at": FORGED_AT,
    "last_used_at": FORGED_AT,
    "log_index": 0,
    "assurance": "vouched",
    "disputed": False,
    "secret": "whsec_forged",
    "key": "restu_forged_secret",
    "prefix": "forged00",
    "kid": "forged-kid",
    "token": "restu-proof-forged",
    "receipt": "e30.e30.e30",
    "report": {},
    "evaluated_at": FORGED_AT,
    "version": "9.9.9",
    "subject": "sub_forged00000000000000000000",
    "grantee_org": "org_forged00000000000000000000",
    "representatives": [],
    "decision": "permitted",
    "role": "owner",
    "is_active": True,
    "method": "witnessed",
}

COMMON = ("id", "public_id", "created", "updated")


@dataclass(frozen=True)
class Write:
    """One writable operation: who may call it, a valid body, the server-owned fields it must refuse,
    and what must stay unchanged when it is refused."""

    role: str
    method: str
    path: Callable[[Any], str]
    body: Callable[[Any], dict[str, Any]]
    fields: tuple[str, ...]
    watch: Callable[[Any], Any]
    # Puts the world in a state where the valid body succeeds (used by the guard test only).
    prepare: Callable[[Any], Any] = lambda w: None


def _rows(model: type[Model], **filters: Any) -> Callable[[Any], Any]:
    return lambda w: sorted(map(repr, model.objects.filter(**filters).values()))


def _count(model: type[Model]) -> Callable[[Any], Any]:
    return lambda w: model.objects.count()


def _one(model: type[Model], pick: Callable[[Any], Model]) -> Callable[[Any], Any]:
    return lambda w: list(model.objects.filter(pk=pick(w).pk).values())


def _check(w: Any) -> dict[str, Any]:
    return {
        "subject": w.subject.public_id,
        "medium": "face",
        "purpose": "film_tv",
        "territory": "ID",
        "date": w.consent.valid_from.isoformat(),
    }


WRITES: dict[str, Write] = {
    "create organization": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/organizations",
        lambda w: {"name": "New", "slug": "sec-new-org", "kind": "studio"},
        (*COMMON, "owner", "created_by", "organization"),
        _count(Organization),
    ),
    "update organization": Write(
        "owner",
        "PATCH",
        lambda w: f"{_V}/organizations/{w.studio.public_id}",
        lambda w: {"name": "Renamed"},
        (*COMMON, "owner", "slug_", "kind_"),
        _one(Organization, lambda w: w.studio),
    ),
    "add member": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/organizations/{w.studio.public_id}/members",
        lambda w: {"email": w.newcomer.email, "role": "member"},
        (*COMMON, "organization", "user"),
        _count(Invitation),  # members are invitations: nobody belongs before accepting
    ),
    "create API key": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/api-keys",
        lambda w: {"name": "deploy", "organization": w.studio.public_id},
        (*COMMON, "key", "prefix", "revoked", "revoked_at", "last_used_at", "created_by"),
        _count(ApiKey),
    ),
    "create webhook": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/webhooks",
        lambda w: {
            "url": "https://hooks.studio.example/new",
            "events": ["consent.revoked"],
            "organization": w.studio.public_id,
        },
        (*COMMON, "secret", "is_active_", "disabled_at"),
        _count(WebhookEndpoint),
    ),
    "update webhook": Write(
        "owner",
        "PATCH",
        lambda w: f"{_V}/webhooks/{w.webhook.public_id}",
        lambda w: {"description": "changed"},
        (*COMMON, "secret", "organization", "disabled_at"),
        _one(WebhookEndpoint, lambda w: w.webhook),
    ),
    "create guideline": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/guidelines",
        lambda w: {"organization": w.project.public_id, "slug": "sec-new", "title": "New"},
        (*COMMON, "versions"),
        _count(Guideline),
    ),
    "create guideline version": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/guidelines/{w.guideline.slug}/versions",
        lambda w: {
            "version": "3.0.0",
            "body": "# v3\n",
            "clauses": [{"key": "no-minors", "kind": "must_not", "text": "Never on children."}],
        },
        (*COMMON, "status", "digest", "published_at", "guideline"),
        _count(GuidelineVersion),
    ),
    "update guideline version": Write(
        "owner",
        "PATCH",
        lambda w: f"{_V}/guidelines/{w.guideline.slug}/versions/{w.draft_version.version}",
        lambda w: {"body": "# v2, revised\n"},
        (*COMMON, "status", "digest", "published_at", "version"),
        _one(GuidelineVersion, lambda w: w.draft_version),
    ),
    "adopt guideline": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/guidelines/{w.guideline.slug}/versions/1.0.0/adoptions",
        lambda w: {"organization": w.studio.public_id},
        (*COMMON, "version", "created_by"),
        _count(Adoption),
    ),
    "add project key": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/organizations/{w.project.public_id}/keys",
        lambda w: {"public_jwk": w.fresh_jwk()},
        (*COMMON, "kid", "retired_at", "organization"),
        _count(ProjectKey),
    ),
    "ask for a proof token": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/organizations/{w.project.public_id}/proofs",
        lambda w: {"kind": "domain", "target": "docs.open-swap.example"},
        (*COMMON, "token", "status", "verified_at", "url"),
        _count(ControlProof),
    ),
    "submit attestation": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/attestations",
        lambda w: {"envelope": w.new_attestation_envelope(), "project": w.project.public_id},
        (*COMMON, "status", "digest", "log_index", "revoked_at", "clauses"),
        _count(Attestation),
    ),
    "revoke attestation": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/attestations/{w.attestation.public_id}/revoke",
        lambda w: {"reason": "superseded"},
        ("status", "revoked_at", "log_index"),
        _one(Attestation, lambda w: w.attestation),
    ),
    "create subject": Write(
        "stranger",
        "POST",
        lambda w: f"{_V}/subjects",
        lambda w: {"display_name": "Almarhum", "status": "deceased", "deceased_on": "2020-01-01"},
        (*COMMON, "assurance", "disputed", "representatives"),
        _count(Subject),
    ),
    "update subject": Write(
        "rep",
        "PATCH",
        lambda w: f"{_V}/subjects/{w.subject.public_id}",
        lambda w: {"bio": "Actor from Bandung."},
        (*COMMON, "status", "assurance", "disputed", "representatives"),
        _rows(Subject),
    ),
    "add representative": Write(
        "rep",
        "POST",
        lambda w: f"{_V}/subjects/{w.subject.public_id}/representatives",
        lambda w: {"email": w.newcomer.email, "role": "agent"},
        (*COMMON, "subject", "delegated_by", "ended_at"),
        _count(Invitation),  # representatives are invitations too
    ),
    "add subject key": Write(
        "rep",
        "POST",
        lambda w: f"{_V}/subjects/{w.subject.public_id}/keys",
        lambda w: {"public_jwk": w.fresh_jwk()},
        (*COMMON, "kid", "retired_at", "subject"),
        _count(SubjectKey),
    ),
    "vouch": Write(
        "other_key",
        "POST",
        lambda w: f"{_V}/subjects/{w.subject.public_id}/vouches",
        lambda w: {"organization": w.guild.public_id},
        (*COMMON, "subject", "revoked_at", "assurance"),
        _rows(Vouch),
        # The guild already vouches; withdraw that so that a new vouch is possible.
        prepare=lambda w: consent_services.vouch_revoke(vouch=w.vouch, actor_role="owner"),
    ),
    # The world's subject is private: only its representatives may know it exists (and dispute).
    "open dispute": Write(
        "rep",
        "POST",
        lambda w: f"{_V}/subjects/{w.subject.public_id}/disputes",
        lambda w: {"kind": "not_me", "statement": "I never signed."},
        (*COMMON, "status", "subject", "resolution", "opened_by"),
        _count(Dispute),
    ),
    "write consent": Write(
        "rep",
        "POST",
        lambda w: f"{_V}/consents",
        lambda w: w.consent_body(intended_use="A second film"),
        (*COMMON, "status", "digest", "signing_input", "signed_at", "revoked_at", "grantee_org", "log_index"),
        _count(Consent),
    ),
    "edit draft consent": Write(
        "rep",
        "PATCH",
        lambda w: f"{_V}/consents/{w.draft.public_id}",
        lambda w: {"intended_use": "A shorter film"},
        (*COMMON, "status", "digest", "signing_input", "signed_at", "subject", "grantee_org"),
        _one(Consent, lambda w: w.draft),
    ),
    "sign consent": Write(
        "rep",
        "POST",
        lambda w: f"{_V}/consents/{w.draft.public_id}/sign",
        lambda w: {"method": "subject_key", "signature": w.draft_signature()},
        ("status", "digest", "signed_at", "log_index", "signing_input"),
        _one(Consent, lambda w: w.draft),
    ),
    "revoke consent": Write(
        "rep",
        "POST",
        lambda w: f"{_V}/consents/{w.consent.public_id}/revoke",
        lambda w: {"reason": "no more", "method": "subject_key", "signature": w.revocation_signature()},
        ("status", "revoked_at", "log_index", "digest"),
        _one(Consent, lambda w: w.consent),
    ),
    "verify": Write(
        "grantee_key",
        "POST",
        lambda w: f"{_V}/verifications",
        _check,
        ("decision", "consent", "receipt", "organization"),
        _count(AccessLogEntry),
    ),
    "ask for a consent token": Write(
        "grantee_key",
        "POST",
        lambda w: f"{_V}/consent-tokens",
        _check,
        ("decision", "consent", "token", "expires_at"),
        _count(AccessLogEntry),
    ),
    "check release": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/releases",
        lambda w: {
            "title": "Sequel",
            "release_date": w.consent.valid_from.isoformat(),
            "territories": ["ID"],
            "appearances": [{"subject": w.subject.public_id, "media": ["face"], "purpose": "film_tv"}],
            "organization": w.studio.public_id,
        },
        (*COMMON, "status", "receipt", "report", "evaluated_at"),
        _count(Release),
    ),
    "acknowledge event": Write(
        "owner",
        "POST",
        lambda w: f"{_V}/events/{w.revocation_event.public_id}/acknowledge",
        lambda w: {"note": "done", "organization": w.studio.public_id},
        (*COMMON, "event", "by_user", "by_key"),
        _rows(Acknowledgement),
        # The studio acknowledged already (an acknowledgement is kept once per organization).
        prepare=lambda w: Acknowledgement.objects.filter(organization=w.studio).delete(),
    ),
}

# Fields named with a trailing underscore are the model's own name for a field the input does
# not take (``slug``/``kind`` cannot be changed after creation; ``is_active`` is set on update).
CASES = [(name, field) for name, write in WRITES.items() for field in write.fields]


def _send(w: Any, role: str, method: str, path: str, body: dict[str, Any]) -> Any:
    return w.client(role).generic(method, path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("name", "field"), CASES, ids=[f"{name}: {field}" for name, field in CASES])
def test_a_server_owned_field_is_refused_by_name_and_changes_nothing(authz_world: Any, name: str, field: str) -> None:
    w, write = authz_world, WRITES[name]
    field = field.rstrip("_")
    body = write.body(w)
    assert field not in body, f"{field} is part of the valid body of {name}"
    before = write.watch(w)
    response = _send(w, write.role, write.method, write.path(w), {**body, field: FORGED.get(field, "forged")})
    assert response.status_code == 400, (name, field, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json().get("errors", {}), (name, field, response.json())
    assert write.watch(w) == before, f"{name}: a refused request with {field!r} changed something"


@pytest.mark.parametrize("name", list(WRITES))
def test_the_same_body_without_forged_fields_is_accepted(authz_world: Any, name: str) -> None:
    # Guards the test above: its 400 must come from the forged field, not from a broken body.
    w, write = authz_world, WRITES[name]
    write.prepare(w)
    before = write.watch(w)
    response = _send(w, write.role, write.method, write.path(w), write.body(w))
    assert 200 <= response.status_code < 300, (name, response.status_code, response.content[:300])
    assert write.watch(w) != before, f"{name}: the accepted request changed nothing that the test watches"


# --- fields the API takes, where the server's answer must still win -------------------------------


def test_a_key_cannot_register_a_webhook_for_another_organization(authz_world: Any) -> None:
    # A key naming another organization is refused as acting_organization refuses it: 403.
    w = authz_world
    body = {"url": "https://hooks.studio.example/x", "events": ["consent.revoked"], "organization": w.guild.public_id}
    response = _send(w, "grantee_key", "POST", f"{_V}/webhooks", body)
    assert response.status_code == 403, response.content[:300]
    assert not WebhookEndpoint.objects.filter(organization=w.guild).exists()


def test_a_key_cannot_check_a_release_for_another_organization(authz_world: Any) -> None:
    w = authz_world
    body = {**WRITES["check release"].body(w), "organization": w.guild.public_id}
    response = _send(w, "grantee_key", "POST", f"{_V}/releases", body)
    assert response.status_code == 403
    assert not Release.objects.filter(organization=w.guild).exists()


@pytest.mark.parametrize(
    ("name", "role"),
    [("create API key", "owner"), ("create guideline", "owner"), ("adopt guideline", "grantee_key")],
)
def test_naming_an_organization_you_are_not_in_is_refused(authz_world: Any, name: str, role: str) -> None:
    # One status for the case (acting_organization): 403, as for an organization that does not exist.
    w, write = authz_world, WRITES[name]
    before = write.watch(w)
    response = _send(w, role, write.method, write.path(w), {**write.body(w), "organization": w.guild.public_id})
    assert response.status_code == 403, response.content[:300]
    assert write.watch(w) == before


def test_an_attestation_for_a_project_you_do_not_run_is_refused(authz_world: Any) -> None:
    w = authz_world
    body = {"envelope": w.new_attestation_envelope(), "project": w.guild.public_id}
    response = _send(w, "owner", "POST", f"{_V}/attestations", body)
    assert response.status_code == 403, response.content[:300]
    assert Attestation.objects.count() == 1


def test_a_key_acknowledges_for_its_own_organization_whatever_the_body_names(authz_world: Any) -> None:
    w = authz_world
    Acknowledgement.objects.filter(organization=w.studio).delete()
    path = f"{_V}/events/{w.revocation_event.public_id}/acknowledge"
    response = _send(w, "grantee_key", "POST", path, {"note": "done", "organization": w.guild.public_id})
    assert response.status_code == 201
    assert response.json()["organization"] == w.studio.public_id
    assert list(Acknowledgement.objects.values_list("organization__public_id", flat=True)) == [w.studio.public_id]


# Endpoints that take no input: whatever the body says, the server decides.


def test_rotating_a_webhook_secret_ignores_a_secret_in_the_body(authz_world: Any) -> None:
    w = authz_world
    response = _send(w, "owner", "POST", f"{_V}/webhooks/{w.webhook.public_id}/rotate-secret", {"secret": "whsec_x"})
    assert response.status_code == 200
    stored = WebhookEndpoint.objects.get(pk=w.webhook.pk).secret
    assert stored != "whsec_x"
    assert stored.startswith("whsec_")
    assert response.json()["secret"] == stored


def test_publishing_ignores_a_digest_and_status_in_the_body(authz_world: Any) -> None:
    w = authz_world
    path = f"{_V}/guidelines/{w.guideline.slug}/versions/{w.draft_version.version}/publish"
    response = _send(w, "owner", "POST", path, {"digest": FORGED_DIGEST, "status": "retired"})
    assert response.status_code == 200
    version = GuidelineVersion.objects.get(pk=w.draft_version.pk)
    assert version.status == "published"
    assert version.digest not in ("", FORGED_DIGEST)


def test_rechecking_a_release_ignores_a_status_in_the_body(authz_world: Any) -> None:
    w = authz_world
    current = Release.objects.get(pk=w.release.pk).status
    forged = "blocked" if current != "blocked" else "cleared"
    response = _send(w, "owner", "POST", f"{_V}/releases/{w.release.public_id}/recheck", {"status": forged})
    assert response.status_code == 200
    assert Release.objects.get(pk=w.release.pk).status == current == response.json()["status"]
