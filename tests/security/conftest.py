"""A small, complete registry for the security tests: every kind of object, every kind of caller.

Built through the services (never raw model writes), so the objects are in the states the API
itself would leave them in. One ``World`` per test: the tests may revoke, delete and sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from consent import services as consent_services
from consent.models import POWERS, Consent, Representative, Subject, SubjectKey, Vouch
from consent.services import releases
from guidelines import services as guideline_services
from guidelines.models import Attestation, ControlProof, Guideline, GuidelineVersion, ProjectKey
from registry.accounts import services as account_services
from registry.accounts.models import ApiKey, Organization, User
from registry.accounts.presence import Presence
from registry.events import services as event_services
from registry.events.models import Delivery, OutboxEvent, WebhookEndpoint
from registry.lib.canonical import canonical_json
from registry.lib.signing import dsse_sign, generate_private_key, public_jwk
from tests.consent.terms import consent_terms
from tests.presence import fresh_presence

# Agents of the subject, each holding exactly one power (appointed by the person, full scope).
AGENTS = tuple(f"agent_{power}" for power in POWERS)
# People signed in with a session that re-authenticated moments ago (a fresh proof of presence),
# and ``stale_person``, whose only authentication is an hour old.
PERSONS = ("stranger", "member", "admin", "owner", "rep", *AGENTS, "stale_person")
KEYS = ("grantee_key", "other_key", "project_key", "agency_key", "revoked_key")
ROLES = ("anon", *PERSONS, *KEYS)
PASSWORD = "correct horse battery"
MD5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SUBJECT_NAME = "Sari Pemeran"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://restu.example/attestation/guideline-conformance/v1"
CLAUSES = [
    {
        "key": "consent-of-everyone",
        "kind": "must",
        "text": "Get everyone's consent.",
        "evidence": ["visible_watermark"],
    },
    {"key": "no-minors", "kind": "must_not", "text": "Never use it on children."},
]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Signer:
    """An Ed25519 key held by the person; signs with `cryptography` directly, independent of the server."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
        members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": self.jwk["x"]}, separators=(",", ":"))
        self.kid = b64url(hashlib.sha256(members.encode()).digest())

    def sign(self, payload: bytes) -> str:
        header = b64url(json.dumps({"alg": "Ed25519", "kid": self.kid}).encode())
        body = b64url(payload)
        return f"{header}.{body}.{b64url(self.private.sign(f'{header}.{body}'.encode()))}"


def fresh_jwk() -> dict[str, str]:
    """A new Ed25519 public JWK (without kid), for the endpoints that register keys."""
    jwk = public_jwk(generate_private_key())
    del jwk["kid"]
    return jwk


def today() -> date:
    return timezone.now().date()


def service_terms(body: dict[str, Any]) -> dict[str, Any]:
    terms = {k: v for k, v in body.items() if k != "subject"}
    return {**terms, **{k: date.fromisoformat(terms[k]) for k in ("valid_from", "valid_until") if terms.get(k)}}


def conformance_statement(digest_hex: str, version: str = "2.3.0") -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": f"open-swap-{version}.tar.gz", "digest": {"sha256": digest_hex}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "guideline": "fair-swap@1.0.0",
            "clauses": {"consent-of-everyone": "met", "no-minors": "met"},
            "safeguards": ["visible_watermark"],
            "release": {"version": version, "url": f"https://open-swap.example/releases/{version}"},
        },
    }


@dataclass
class World:
    """Every object and caller the security tests need; the attributes name what they are."""

    users: dict[str, User]
    newcomer: User  # has an account but belongs to nothing: the one members/representatives add
    member2: User  # a second plain member of the studio, the one removed in DELETE /members
    studio: Organization  # kind studio: the grantee of the consent; owns the webhook, release, keys
    project: Organization  # kind project: the guideline, project key, proof and attestation
    guild: Organization  # the other organization (kind guild, verified by staff): vouches for the subject
    agency: Organization  # kind agency, NOT verified (may not vouch), run by users["rep"]
    secrets: dict[str, str]  # role -> Bearer secret for the key roles
    grantee_key: ApiKey
    target_key: ApiKey  # a live key of the studio that GET/DELETE /api-keys/{id} act on
    subject: Subject  # private profile; represented by users["rep"]
    agent: Representative  # an agent the person appointed with no power (DELETE representatives/{id})
    agents: dict[str, Representative]  # role -> the agent holding that one power, and stale_person's
    signer: Signer  # the subject's registered key
    subject_key: SubjectKey
    consent: Consent  # active permit granted to the studio
    draft: Consent  # an unsigned draft of the same subject
    vouch: Vouch  # the guild's vouch for the subject
    withdrawn: Consent  # a revoked consent granted to the studio
    revocation_event: OutboxEvent  # its consent.revoked event (audience: the studio), acknowledged by it
    guideline: Guideline
    published: GuidelineVersion  # 1.0.0
    draft_version: GuidelineVersion  # 2.0.0, visible only to the project's members
    project_private_key: Ed25519PrivateKey
    project_key: ProjectKey
    proof: ControlProof
    attestation: Attestation
    webhook: WebhookEndpoint
    delivery: Delivery
    release: Any
    clients: dict[str, APIClient] = field(default_factory=dict)
    signed_in: set[str] = field(default_factory=set)  # person roles signed in during this test
    subject_name: str = SUBJECT_NAME  # private: the profile is not public

    # Helpers for request bodies (test modules cannot import this conftest by name).
    def fresh_jwk(self) -> dict[str, str]:
        return fresh_jwk()

    def consent_body(self, **changes: Any) -> dict[str, Any]:
        return consent_terms(self.subject, self.studio.public_id, **changes)

    def new_attestation_envelope(self) -> dict[str, Any]:
        return new_attestation_envelope(self)

    def draft_signature(self) -> str:
        """The subject key's JWS over the draft's signing input (what ``/sign`` takes)."""
        return self.signer.sign(canonical_json(self.draft.terms))

    def revocation_signature(self) -> str:
        """The subject key's JWS over the active consent's revocation statement."""
        return self.signer.sign(canonical_json(consent_services.revocation_statement(self.consent)))

    def client(self, role: str) -> APIClient:
        """The client acting as ``role``; one per role, because each new client's first request
        loads the middleware again (whitenoise scans every static file: ~0.1 s).

        A person signs in with a session and re-authenticates through allauth's page at the first
        request of each test (sessions live in the database, rolled back with the test): a fresh
        proof of presence. ``stale_person``'s authentication record is then put back an hour."""
        if role not in self.clients:
            self.clients[role] = self._new_client(role)
        api = self.clients[role]
        if role in self.users and role not in self.signed_in:
            sign_in(api, self.users[role], stale=role == "stale_person")
            self.signed_in.add(role)
        return api

    def _new_client(self, role: str) -> APIClient:
        api = APIClient()
        if role in self.secrets:
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {self.secrets[role]}")
        return api


def sign_in(api: APIClient, person: User, *, stale: bool = False) -> None:
    """Sign ``person`` in with a session and re-authenticate with the password (allauth's page);
    ``stale``: then age every authentication record of the session by an hour."""
    api.logout()
    api.force_login(person)
    response = api.post("/accounts/reauthenticate/", {"password": PASSWORD}, format="multipart")
    assert response.status_code == 302, response.content[:500]
    if stale:
        session = api.session
        records = session[AUTHENTICATION_METHODS_SESSION_KEY]
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**r, "at": r["at"] - 3600} for r in records]
        session.save()


def _person(email: str) -> User:
    # A real password (they re-authenticate with it), hashed with the tests' cheap hasher.
    with override_settings(PASSWORD_HASHERS=MD5):
        return User.objects.create_user(email, PASSWORD)


def build_world() -> World:
    users = {name: _person(f"{name.replace('_', '-')}@security.example") for name in PERSONS}
    other_owner = _person("guild-owner@security.example")
    newcomer, member2 = _person("newcomer@security.example"), _person("member2@security.example")
    owner = users["owner"]

    studio = account_services.organization_create(creator=owner, name="Studio", slug="sec-studio", kind="studio")
    project = account_services.organization_create(
        creator=owner,
        name="Open Swap",
        slug="sec-project",
        kind="project",
        repository_url="https://code.open-swap.example/open-swap",
    )
    guild = account_services.organization_create(creator=other_owner, name="Guild", slug="sec-guild", kind="guild")
    # The representative also runs an agency (not verified): its key must never act as them.
    agency = account_services.organization_create(creator=users["rep"], name="Agency", slug="sec-agency", kind="agency")
    for organization in (studio, project):
        for name in ("admin", "member"):
            account_services.membership_add(organization=organization, actor_role="owner", user=users[name], role=name)
    account_services.membership_add(organization=studio, actor_role="owner", user=member2, role="member")
    # stale_person owns the studio and the project too (and is an agent of the subject with every
    # power, below): whatever they try, only the missing proof of presence stands in the way.
    for organization in (studio, project):
        account_services.membership_add(
            organization=organization,
            actor_role="owner",
            user=users["stale_person"],
            role="owner",
            presence=fresh_presence(),
        )

    issued = account_services.api_key_create(
        organization=studio, creator=owner, actor_role="owner", name="grantee", presence=fresh_presence()
    )
    other = account_services.api_key_create(
        organization=guild, creator=other_owner, actor_role="owner", name="other", presence=fresh_presence()
    )
    revoked = account_services.api_key_create(
        organization=studio, creator=owner, actor_role="owner", name="old", presence=fresh_presence()
    )
    account_services.api_key_revoke(api_key=revoked.api_key)
    project_issued = account_services.api_key_create(
        organization=project, creator=owner, actor_role="owner", name="ci", presence=fresh_presence()
    )
    agency_issued = account_services.api_key_create(
        organization=agency, creator=users["rep"], actor_role="owner", name="agency", presence=fresh_presence()
    )
    target = account_services.api_key_create(
        organization=studio, creator=owner, actor_role="owner", name="target", presence=fresh_presence()
    )

    rep = users["rep"]
    subject = consent_services.subject_create(creator=rep, display_name=SUBJECT_NAME, status="living")
    agent_user = _person("agent@security.example")
    witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    agent = consent_services.representative_add(
        subject=subject, actor=rep, user=agent_user, role="agent", powers=[], presence=witness
    )
    agents = {
        role: consent_services.representative_add(
            subject=subject,
            actor=rep,
            user=users[role],
            role="agent",
            powers=[role.removeprefix("agent_")] if role != "stale_person" else list(POWERS),
            presence=witness,
        )
        for role in (*AGENTS, "stale_person")
    }
    signer = Signer()
    subject_key = consent_services.subject_key_add(subject=subject, actor=rep, public_jwk=signer.jwk, presence=witness)
    terms = service_terms(consent_terms(subject, studio.public_id))
    drafted = consent_services.consent_create(subject=subject, actor=rep, terms=terms)
    consent = consent_services.consent_sign(consent=drafted, actor=rep, method="witnessed", witness=witness)
    draft = consent_services.consent_create(subject=subject, actor=rep, terms=terms)
    # A second consent, signed then revoked: its consent.revoked event is addressed to the studio.
    other_terms = service_terms(consent_terms(subject, studio.public_id, intended_use="A television series"))
    withdrawn = consent_services.consent_sign(
        consent=consent_services.consent_create(subject=subject, actor=rep, terms=other_terms),
        actor=rep,
        method="witnessed",
        witness=witness,
    )
    withdrawn = consent_services.consent_revoke(consent=withdrawn, actor=rep, reason="no more", witness=witness)
    revocation_event = OutboxEvent.objects.get(type="consent.revoked", payload__consent=withdrawn.public_id)
    event_services.event_acknowledge(
        public_id=revocation_event.public_id, organization=studio, user=owner, note="Removed from the edit."
    )
    # Only a guild that registry staff verified may vouch.
    guild.verified_at = timezone.now()
    guild.save(update_fields=["verified_at"])
    vouch = consent_services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=other_owner)

    guideline = guideline_services.guideline_create(
        organization=project, actor_role="owner", slug="sec-fair-swap", title="Fair swap", summary="How to use it."
    )
    v1 = guideline_services.guideline_version_create(
        guideline=guideline, actor_role="owner", actor=owner, version="1.0.0", body="# Rules\n", clauses=CLAUSES
    )
    published = guideline_services.guideline_version_publish(version=v1, actor_role="owner")
    draft_version = guideline_services.guideline_version_create(
        guideline=guideline, actor_role="owner", actor=owner, version="2.0.0", body="# Rules v2\n", clauses=CLAUSES
    )
    project_private_key = generate_private_key()
    project_key = guideline_services.project_key_add(
        organization=project,
        actor_role="owner",
        actor=owner,
        public_jwk=fresh_jwk_of(project_private_key),
        presence=witness,
    )
    proof = guideline_services.control_proof_create(
        organization=project, actor_role="owner", kind="domain", target="open-swap.example"
    )
    statement = conformance_statement("ab" * 32)
    statement["predicate"]["guideline"] = "sec-fair-swap@1.0.0"
    envelope = dsse_sign(PAYLOAD_TYPE, json.dumps(statement).encode(), project_private_key, project_key.kid)
    attestation = guideline_services.attestation_store(project=project, actor_role="owner", envelope=envelope)

    webhook = event_services.webhook_create(
        organization=studio,
        actor_role="owner",
        url="https://hooks.studio.example/restu",
        events=["release.status_changed"],
    )
    release = releases.release_create(
        organization=studio,
        title="Malam di Jakarta",
        release_date=today() + timedelta(days=30),
        territories=["ID"],
        appearances=[{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv", "activity": "generate"}],
        tools=[],
        user=owner,
    )
    event_services.event_record(
        type="release.status_changed",
        payload={"release": release.public_id, "previous": "needs_review", "status": release.status},
        audience=[studio.public_id],
    )
    event_services.outbox_dispatch()
    delivery = Delivery.objects.get(endpoint=webhook)

    return World(
        users=users,
        newcomer=newcomer,
        member2=member2,
        studio=studio,
        project=project,
        guild=guild,
        agency=agency,
        secrets={
            "grantee_key": issued.secret,
            "other_key": other.secret,
            "project_key": project_issued.secret,
            "agency_key": agency_issued.secret,
            "revoked_key": revoked.secret,
        },
        grantee_key=issued.api_key,
        target_key=target.api_key,
        subject=subject,
        agent=agent,
        agents=agents,
        signer=signer,
        subject_key=subject_key,
        consent=consent,
        draft=draft,
        vouch=vouch,
        withdrawn=withdrawn,
        revocation_event=revocation_event,
        guideline=guideline,
        published=published,
        draft_version=draft_version,
        project_private_key=project_private_key,
        project_key=project_key,
        proof=proof,
        attestation=attestation,
        webhook=webhook,
        delivery=delivery,
        release=release,
    )


def fresh_jwk_of(private_key: Ed25519PrivateKey) -> dict[str, str]:
    jwk = public_jwk(private_key)
    del jwk["kid"]
    return jwk


def new_attestation_envelope(world: World) -> dict[str, Any]:
    """A correctly signed statement the registry has not seen yet (another artefact digest)."""
    statement = conformance_statement("cd" * 32, version="2.4.0")
    statement["predicate"]["guideline"] = f"{world.guideline.slug}@1.0.0"
    return dsse_sign(PAYLOAD_TYPE, json.dumps(statement).encode(), world.project_private_key, world.project_key.kid)


@pytest.fixture
def proof_fetcher_serving_the_token(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], bytes]:
    """The proof fetcher is pluggable: serve every proof's token without any network."""

    def fetch(url: str) -> bytes:
        return "\n".join(ControlProof.objects.filter(url=url).values_list("token", flat=True)).encode()

    module = types.ModuleType("restu_security_fetcher")
    module.fetch = fetch  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "restu_security_fetcher", module)
    settings.REGISTRY_PROOF_FETCHER = "restu_security_fetcher.fetch"
    return fetch


@pytest.fixture(scope="module")
def authz_world_built(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """One world per test module, inside a transaction that is rolled back at the module's end.

    Building it costs ~0.3 s and the matrix has hundreds of cases, so it is built once. Each
    test still starts from the same state: pytest-django's ``db`` wraps every test in a
    savepoint nested in this transaction and rolls it back afterwards.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def authz_world(authz_world_built: World, db: None, proof_fetcher_serving_the_token: Callable[[str], bytes]) -> World:
    # Sessions made by the previous test were rolled back with it: sign in again when asked.
    authz_world_built.signed_in.clear()
    return authz_world_built
