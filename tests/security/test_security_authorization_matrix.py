"""Who may call what: every API route and method, called as every kind of caller (docs/design.md invariant 4).

The routes come from the URL configuration itself. A route or method that is in the URL conf
but not in ``EXPECTED`` fails ``test_every_api_route_is_in_the_matrix``: a new endpoint cannot
ship without someone deciding, here, who may call it.

Expected answers are status classes: ``2xx``; ``401`` (no or bad credentials); ``403`` (signed in,
not allowed, and the answer reveals nothing); ``404`` (also for objects that exist but the caller
may not see: no existence oracle); ``400``/``409`` where the operation is refused for the input or
the object's state; ``not2xx`` where only "refused, and not a 500" can be promised.

``reauth`` is a 403 whose problem ``type`` ends ``/problems/reauthentication-required`` (docs/api.md
v1.1, proof of presence); a plain ``403`` is any other refusal, never that one.

Roles (see ``World`` in this folder's conftest). People sign in with a session and have just
re-authenticated through allauth (a fresh proof of presence), except ``stale_person``:
``anon``; ``stranger`` (signed in, no relation to anything); ``member``/``admin``/``owner`` of the
studio (the consent's grantee; it owns the webhook, the release and the keys) and of the project
(the guideline, project key, proof, attestation); ``rep`` (the subject's own representative,
``self``; also runs an unverified agency); ``agent_<power>`` (seven agents the person appointed,
each holding exactly that one power, full scope: a row shows which power unlocks it, and every
other agent is the same agent without it); ``stale_person`` (owner of the studio and the project
and an agent holding every power, whose only authentication is an hour old: every sensitive
action is ``reauth`` for them, anything else as for an owner or agent). API keys, one of each kind
of organization: ``grantee_key`` (the studio's, made by its owner); ``other_key`` (a verified
guild's: another organization); ``project_key`` (the project's, made by its owner);
``agency_key`` (the unverified agency's, made by ``rep``: it must never act as its creator);
``revoked_key`` (a studio key, revoked).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from consent.models import POWERS
from registry.transparency.models import LogEntry
from tests.database_state import database_snapshot
from tests.security.routes import all_routes

AGENTS = tuple(f"agent_{power}" for power in POWERS)
PERSONS = ("stranger", "member", "admin", "owner", "rep", *AGENTS, "stale_person")
ROLES = ("anon", *PERSONS, "grantee_key", "other_key", "project_key", "agency_key", "revoked_key")
_GROUPS = {
    "persons": PERSONS,
    "agents": AGENTS,
    "reps": ("rep", *AGENTS, "stale_person"),
    "keys": ("grantee_key", "other_key", "project_key", "agency_key"),
    "staff": ("admin", "owner", "stale_person"),
    "members": ("member", "admin", "owner", "stale_person"),
    "everyone": ROLES,
}
# Methods every DRF view answers generically: OPTIONS (metadata, behind the same authentication)
# and HEAD (Django maps it to GET). They are not separate operations, so not in the matrix.
_GENERIC_METHODS = {"options", "head"}


def expect(default: str = "404", **by_role: str) -> dict[str, str]:
    """Expected status class per role: ``default`` for the signed-in roles, 401 for anon and the
    revoked key, then ``by_role`` in order (group names first, single roles after them win)."""
    table = {role: default for role in ROLES}
    table["anon"] = table["revoked_key"] = "401"
    for name, code in by_role.items():
        for role in _GROUPS.get(name, (name,)):
            table[role] = code
    return table


# Views without authentication classes: a revoked key is simply not looked at.
PUBLIC = expect("2xx", anon="2xx", revoked_key="2xx")
# Public reads behind the default authentication: a bad credential is still a 401.
PUBLIC_READ = expect("2xx", anon="2xx")
SIGNED_IN = expect("2xx")

_V = "/api/v1"
_ORG = f"{_V}/organizations/{{org_id}}"
_GDL = f"{_V}/guidelines/{{slug}}"
_VER = f"{_GDL}/versions/{{version}}"
_SUB = f"{_V}/subjects/{{subject_id}}"
_CON = f"{_V}/consents/{{consent_id}}"
_WHK = f"{_V}/webhooks/{{webhook_id}}"

EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    # --- the registry's keys and receipts -------------------------------------------------------
    ("GET", "/.well-known/jwks.json"): PUBLIC,
    ("POST", f"{_V}/receipts/verify"): PUBLIC_READ,
    ("GET", f"{_V}/schema/"): PUBLIC_READ,
    ("GET", f"{_V}/docs/"): PUBLIC_READ,
    # --- organizations, members, API keys (the studio) -----------------------------------------
    ("GET", f"{_V}/organizations"): SIGNED_IN,  # filtered: see LIST_PRIVACY
    ("POST", f"{_V}/organizations"): expect("2xx", keys="403"),
    ("GET", _ORG): expect("404", members="2xx", grantee_key="2xx"),
    # A key acts within its creator's role (owner here), so it may rename its own organization.
    ("PATCH", _ORG): expect("404", staff="2xx", member="403", keys="403"),  # people only (docs/api.md v1.1)
    ("GET", f"{_ORG}/members"): expect("404", members="2xx", grantee_key="2xx"),
    # Keys never change who belongs: a leaked key must not be able to add a person as an owner.
    # Adding an owner is sensitive (proof of presence); only an owner may, never an admin.
    ("POST", f"{_ORG}/members"): expect(
        "404", owner="2xx", admin="403", member="403", keys="403", stale_person="reauth"
    ),
    ("DELETE", f"{_ORG}/members/{{user_id}}"): expect("404", staff="2xx", member="403", keys="403"),
    ("GET", f"{_V}/api-keys"): expect("2xx", keys="403"),
    # Naming an organization you do not belong to is 403, the same for one that does not exist
    # (acting_organization: one status per case). Creating a key is sensitive.
    ("POST", f"{_V}/api-keys"): expect("403", staff="2xx", member="403", keys="403", stale_person="reauth"),
    ("GET", f"{_V}/api-keys/{{key_id}}"): expect("404", staff="2xx", keys="403"),
    ("DELETE", f"{_V}/api-keys/{{key_id}}"): expect("404", staff="2xx", keys="403"),
    # Invitations: a person reads those addressed to their verified addresses and accepts one
    # addressed to them (the stranger's, made per test); anyone else learns nothing; keys never.
    ("GET", f"{_V}/invitations"): expect("2xx", keys="403"),
    ("POST", f"{_V}/invitations/{{invitation_id}}/accept"): expect("404", stranger="2xx", keys="403"),
    ("GET", f"{_ORG}/invitations"): expect("404", staff="2xx", member="403", keys="403"),
    ("DELETE", f"{_ORG}/invitations/{{invitation_id}}"): expect("404", staff="2xx", member="403", keys="403"),
    # --- the transparency log: public, no authentication at all ---------------------------------
    ("GET", f"{_V}/log/checkpoint"): PUBLIC,
    ("GET", f"{_V}/log/key"): PUBLIC,
    ("GET", f"{_V}/log/entries"): PUBLIC,
    ("GET", f"{_V}/log/entries/{{index}}"): PUBLIC,
    ("GET", f"{_V}/log/proof/inclusion"): PUBLIC,
    ("GET", f"{_V}/log/proof/consistency"): PUBLIC,
    ("GET", f"{_V}/log/tile/entries/{{index_path}}.p/{{width}}"): PUBLIC,
    ("GET", f"{_V}/log/tile/{{level}}/{{index_path}}.p/{{width}}"): PUBLIC,
    # A full tile needs 256 entries; the small world has fewer, so it does not exist yet (404
    # for everyone alike: the route is still called as every role, and must not fail otherwise).
    ("GET", f"{_V}/log/tile/entries/{{index_path}}"): expect("404", anon="404", revoked_key="404"),
    ("GET", f"{_V}/log/tile/{{level}}/{{index_path}}"): expect("404", anon="404", revoked_key="404"),
    # --- webhooks (the studio's; admins and owners only, everyone else is told nothing) ---------
    ("GET", f"{_V}/webhooks"): SIGNED_IN,  # filtered: see LIST_PRIVACY
    # The body names the studio: another key or a non-member is refused (403, as acting_organization).
    ("POST", f"{_V}/webhooks"): expect("403", staff="2xx", member="403", grantee_key="2xx"),
    ("GET", _WHK): expect("404", staff="2xx", grantee_key="2xx"),
    ("PATCH", _WHK): expect("404", staff="2xx", grantee_key="2xx"),
    ("DELETE", _WHK): expect("404", staff="2xx", grantee_key="2xx"),
    ("POST", f"{_WHK}/rotate-secret"): expect("404", staff="2xx", grantee_key="2xx"),
    ("GET", f"{_WHK}/deliveries"): expect("404", staff="2xx", grantee_key="2xx"),
    ("POST", f"{_WHK}/deliveries/{{delivery_id}}/redeliver"): expect("404", staff="2xx", grantee_key="2xx"),
    # --- guidelines (the project's; the studio key is "another organization" here) -------------
    ("GET", f"{_V}/guidelines"): PUBLIC_READ,
    # Non-members of the project, and other organizations' keys: 403 (acting_organization).
    ("POST", f"{_V}/guidelines"): expect("403", staff="2xx", member="403", project_key="2xx"),
    ("GET", _GDL): PUBLIC_READ,  # the draft 2.0.0 is listed to members only: see LIST_PRIVACY
    # from=1.0.0&to=2.0.0: the draft exists only for the project's members.
    ("GET", f"{_GDL}/diff"): expect("404", members="2xx", project_key="2xx", anon="404"),
    ("GET", f"{_GDL}/versions"): PUBLIC_READ,  # see LIST_PRIVACY
    # Guideline drafts and publishing are machine work: the project's key may.
    ("POST", f"{_GDL}/versions"): expect("404", staff="2xx", member="403", project_key="2xx"),
    ("GET", _VER): expect("404", members="2xx", project_key="2xx", anon="404"),  # the draft
    ("PATCH", _VER): expect("404", staff="2xx", member="403", project_key="2xx"),  # the draft
    ("POST", f"{_VER}/publish"): expect("404", staff="2xx", member="403", project_key="2xx"),  # the draft
    ("POST", f"{_VER}/retire"): expect("404", staff="2xx", member="403", project_key="2xx"),  # 1.0.0
    ("GET", f"{_VER}/adoptions"): PUBLIC_READ,
    # The studio adopts 1.0.0; naming an organization you are not in is 403 (acting_organization).
    ("POST", f"{_VER}/adoptions"): expect("403", staff="2xx", member="403", grantee_key="2xx"),
    # The project's signing keys: its key reads them but never registers or retires one (a leaked
    # key alone must not forge attestations); people need a fresh proof of presence.
    ("GET", f"{_ORG}/keys"): expect("404", members="2xx", project_key="2xx"),
    ("POST", f"{_ORG}/keys"): expect("404", staff="2xx", member="403", project_key="403", stale_person="reauth"),
    ("GET", f"{_ORG}/keys/{{kid}}"): expect("404", members="2xx", project_key="2xx"),
    ("DELETE", f"{_ORG}/keys/{{kid}}"): expect(
        "404", staff="2xx", member="403", project_key="403", stale_person="reauth"
    ),
    ("GET", f"{_ORG}/proofs"): expect("404", members="2xx", project_key="2xx"),
    ("POST", f"{_ORG}/proofs"): expect("404", staff="2xx", member="403", project_key="2xx"),
    ("GET", f"{_ORG}/proofs/{{proof_id}}"): expect("404", members="2xx", project_key="2xx"),
    ("POST", f"{_ORG}/proofs/{{proof_id}}/check"): expect("404", staff="2xx", member="403", project_key="2xx"),
    ("GET", f"{_V}/attestations"): PUBLIC_READ,
    # The body names the project: anyone outside it is refused (403, acting_organization).
    ("POST", f"{_V}/attestations"): expect("403", staff="2xx", member="403", project_key="2xx"),
    ("GET", f"{_V}/attestations/{{attestation_id}}"): PUBLIC_READ,
    ("POST", f"{_V}/attestations/{{attestation_id}}/revoke"): expect(
        "404", staff="2xx", member="403", project_key="2xx"
    ),
    ("GET", f"{_V}/safeguards"): PUBLIC_READ,
    # --- subjects (private profile: only its representatives see it) ----------------------------
    # API keys never read a subject, its keys or its access log, nor manage keys or representatives
    # (people only, 403 up front); agents need the power each action names (403 without it).
    ("GET", f"{_V}/vocabulary"): PUBLIC,
    ("GET", f"{_V}/subjects"): expect("2xx", keys="403"),  # see LIST_PRIVACY
    ("POST", f"{_V}/subjects"): expect("2xx", keys="403"),
    ("GET", _SUB): expect("404", reps="2xx", keys="403"),
    # The body makes the profile public: changing who may see it is sensitive.
    ("PATCH", _SUB): expect(
        "404", rep="2xx", agents="403", agent_edit_profile="2xx", stale_person="reauth", keys="403"
    ),
    ("POST", f"{_SUB}/representatives"): expect(
        "404", rep="2xx", agents="403", agent_manage_representatives="2xx", stale_person="reauth", keys="403"
    ),
    # The target is an agent with no power: any agent holding manage_representatives may end it.
    ("DELETE", f"{_SUB}/representatives/{{rep_id}}"): expect(
        "404", rep="2xx", agents="403", agent_manage_representatives="2xx", stale_person="reauth", keys="403"
    ),
    ("GET", f"{_SUB}/keys"): expect("404", reps="2xx", keys="403"),
    ("POST", f"{_SUB}/keys"): expect(
        "404", rep="2xx", agents="403", agent_manage_keys="2xx", stale_person="reauth", keys="403"
    ),
    ("DELETE", f"{_SUB}/keys/{{kid}}"): expect(
        "404", rep="2xx", agents="403", agent_manage_keys="2xx", stale_person="reauth", keys="403"
    ),
    # The subject is private: only a verified guild or agency (or its representatives) may know it
    # exists (404 otherwise, decided before the body). The body names the guild: a representative
    # who is not in it is refused (403, as acting_organization); the guild's key already vouches
    # (409); the unverified agency's key learns nothing (404).
    ("POST", f"{_SUB}/vouches"): expect("404", reps="403", other_key="409"),
    ("DELETE", f"{_SUB}/vouches/{{vouch_id}}"): expect("404", other_key="2xx"),
    # docs/api.md: anyone signed in may dispute ("this is me, and I did not give this consent") a subject
    # they can see; this one is private, so only its representatives (404 for the rest: no oracle).
    ("POST", f"{_SUB}/disputes"): expect("404", reps="2xx", keys="403"),
    ("GET", f"{_SUB}/access-log"): expect(
        "404", rep="2xx", agents="403", agent_read_access_log="2xx", stale_person="2xx", keys="403"
    ),
    # --- consents: private to the representatives and to the named grantee ----------------------
    ("GET", f"{_V}/consents"): SIGNED_IN,  # see LIST_PRIVACY
    # "You do not represent that subject" is the same 400 as for a subject that does not exist.
    ("POST", f"{_V}/consents"): expect(
        "400", rep="2xx", agents="403", agent_sign="2xx", stale_person="2xx", keys="403"
    ),
    ("GET", _CON): expect("404", reps="2xx", members="2xx", grantee_key="2xx"),
    ("PATCH", _CON): expect(
        "404", rep="2xx", agents="403", agent_sign="2xx", stale_person="2xx", keys="403"
    ),  # the draft
    # By subject key (itself a proof of presence); stale_person signs and revokes witnessed.
    ("POST", f"{_CON}/sign"): expect(
        "404", rep="2xx", agents="403", agent_sign="2xx", stale_person="reauth", keys="403"
    ),  # the draft
    ("POST", f"{_CON}/revoke"): expect(
        "404", rep="2xx", agents="403", agent_revoke="2xx", stale_person="reauth", keys="403"
    ),
    ("GET", f"{_CON}/history"): expect("404", reps="2xx", members="2xx", grantee_key="2xx"),
    # Who acknowledged a revocation: for the person's representatives only.
    ("GET", f"{_CON}/acknowledgements"): expect("404", reps="2xx", keys="403"),
    # An organization in the event's audience (any member, or its key) confirms it; 404 for the rest.
    ("POST", f"{_V}/events/{{event_id}}/acknowledge"): expect("404", members="2xx", grantee_key="2xx"),
    # Verifications are made by organizations (keys); another organization gets a decision too
    # ("unknown"/"denied"), never the consent.
    ("POST", f"{_V}/verifications"): expect("403", keys="2xx"),
    ("POST", f"{_V}/verifications/bulk"): expect("403", keys="2xx"),
    # A token only for a permitted use: the grantee's key, or a representative naming it.
    ("POST", f"{_V}/consent-tokens"): expect("403", reps="2xx", grantee_key="2xx"),
    # --- releases (the studio's) ----------------------------------------------------------------
    ("GET", f"{_V}/releases"): SIGNED_IN,  # see LIST_PRIVACY
    ("POST", f"{_V}/releases"): expect("403", members="2xx", grantee_key="2xx"),
    ("GET", f"{_V}/releases/{{release_id}}"): expect("404", members="2xx", grantee_key="2xx"),
    ("POST", f"{_V}/releases/{{release_id}}/recheck"): expect("404", members="2xx", grantee_key="2xx"),
}


# --- the routes, from the URL configuration -------------------------------------------------------


def api_operations() -> set[tuple[str, str]]:
    """Every (method, route) under /api/v1/ and the JWKS that the URL configuration serves."""
    found = set()
    for route, callback in all_routes():
        if not (route.startswith("/api/v1/") or route == "/.well-known/jwks.json"):
            continue
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        assert view is not None, f"{route} is not a class-based view; the matrix cannot see its methods"
        for method in view.http_method_names:
            if method not in _GENERIC_METHODS and callable(getattr(view, method, None)):
                found.add((method.upper(), route))
    return found


def test_every_api_route_is_in_the_matrix() -> None:
    served = api_operations()
    unreviewed = sorted(served - set(EXPECTED))
    assert not unreviewed, (
        "These API operations are not in the authorization matrix. Add each to EXPECTED in "
        "tests/security/test_security_authorization_matrix.py (who may call it, as which role) "
        f"and a request for it to REQUESTS: {unreviewed}"
    )
    stale = sorted(set(EXPECTED) - served)
    assert not stale, f"EXPECTED names operations the URL configuration no longer serves: {stale}"


# --- the requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """How to call one operation: path values (over the defaults), a query string and a body."""

    params: Callable[[Any], dict[str, Any]] = lambda w: {}
    query: Callable[[Any], str] = lambda w: ""
    body: Callable[[Any, str], Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _defaults(w: Any) -> dict[str, Any]:
    return {
        "org_id": w.studio.public_id,
        "user_id": w.member2.public_id,
        "key_id": w.target_key.public_id,
        "webhook_id": w.webhook.public_id,
        "delivery_id": w.delivery.public_id,
        "slug": w.guideline.slug,
        "version": w.published.version,
        "proof_id": w.proof.public_id,
        "attestation_id": w.attestation.public_id,
        "subject_id": w.subject.public_id,
        "rep_id": w.agent.public_id,
        "vouch_id": w.vouch.public_id,
        "consent_id": w.consent.public_id,
        "event_id": w.revocation_event.public_id,
        "release_id": w.release.public_id,
        "index": 0,
        "level": 0,
        "index_path": "000",
        "width": LogEntry.objects.count(),
    }


def _project(w: Any) -> dict[str, Any]:
    return {"org_id": w.project.public_id, "kid": w.project_key.kid}


def _draft_version(w: Any) -> dict[str, Any]:
    return {"version": w.draft_version.version}


def _draft(w: Any) -> dict[str, Any]:
    return {"consent_id": w.draft.public_id}


def _check(w: Any) -> dict[str, Any]:
    return {
        "subject": w.subject.public_id,
        "medium": "face",
        "activity": "generate",
        "purpose": "film_tv",
        "territory": "ID",
        "date": w.consent.valid_from.isoformat(),
    }


def _token(w: Any, role: str) -> dict[str, Any]:
    # A person names the organization that will use the token; a key asks for itself.
    return {**_check(w), "grantee": w.studio.public_id} if role in PERSONS else _check(w)


def _invitation_to_stranger(w: Any) -> dict[str, Any]:
    """An invitation to the studio for the stranger, whose address is verified (rolled back per test)."""
    from allauth.account.models import EmailAddress

    from registry.accounts.services import member_invite

    stranger = w.users["stranger"]
    EmailAddress.objects.get_or_create(user=stranger, email=stranger.email, defaults={"verified": True})
    invitation = member_invite(
        organization=w.studio,
        actor=w.users["owner"],
        actor_role="owner",
        email=stranger.email,
        role="member",
        presence=None,
    )
    return {"invitation_id": invitation.public_id}


def _signed_by(role: str, signature: Callable[[], str]) -> dict[str, Any]:
    """The subject key's signature (itself a proof of presence); stale_person signs witnessed."""
    if role == "stale_person":
        return {"method": "witnessed"}
    return {"method": "subject_key", "signature": signature()}


REQUESTS: dict[tuple[str, str], Call] = {
    ("POST", f"{_V}/invitations/{{invitation_id}}/accept"): Call(params=_invitation_to_stranger, body=lambda w, r: {}),
    ("DELETE", f"{_ORG}/invitations/{{invitation_id}}"): Call(params=_invitation_to_stranger),
    ("POST", f"{_V}/receipts/verify"): Call(body=lambda w, r: {"receipt": w.release.receipt}),
    ("POST", f"{_V}/organizations"): Call(body=lambda w, r: {"name": "New", "slug": f"new-{r}", "kind": "studio"}),
    ("PATCH", _ORG): Call(body=lambda w, r: {"name": "Renamed studio"}),
    ("POST", f"{_ORG}/members"): Call(body=lambda w, r: {"email": w.newcomer.email, "role": "owner"}),
    ("POST", f"{_V}/api-keys"): Call(body=lambda w, r: {"name": "deploy", "organization": w.studio.public_id}),
    ("GET", f"{_V}/log/proof/inclusion"): Call(query=lambda w: f"index=0&tree_size={LogEntry.objects.count()}"),
    ("GET", f"{_V}/log/proof/consistency"): Call(query=lambda w: f"first=1&second={LogEntry.objects.count()}"),
    ("POST", f"{_V}/webhooks"): Call(
        body=lambda w, r: {
            "url": "https://hooks.studio.example/new",
            "events": ["consent.revoked"],
            "organization": w.studio.public_id,
        }
    ),
    ("PATCH", _WHK): Call(body=lambda w, r: {"description": "changed"}),
    ("POST", f"{_V}/guidelines"): Call(
        body=lambda w, r: {"organization": w.project.public_id, "slug": "sec-new", "title": "New"}
    ),
    ("GET", f"{_GDL}/diff"): Call(query=lambda w: "from=1.0.0&to=2.0.0"),
    ("POST", f"{_GDL}/versions"): Call(
        body=lambda w, r: {
            "version": "3.0.0",
            "language": "en",
            "body": "# Rules v3\n",
            "clauses": [{"key": "no-minors", "kind": "must_not", "text": "Never use it on children."}],
        }
    ),
    ("GET", _VER): Call(params=_draft_version),
    ("PATCH", _VER): Call(params=_draft_version, body=lambda w, r: {"body": "# Rules v2, revised\n"}),
    ("POST", f"{_VER}/publish"): Call(params=_draft_version),
    ("POST", f"{_VER}/adoptions"): Call(body=lambda w, r: {"organization": w.studio.public_id}),
    ("GET", f"{_ORG}/keys"): Call(params=_project),
    ("POST", f"{_ORG}/keys"): Call(params=_project, body=lambda w, r: {"public_jwk": w.fresh_jwk()}),
    ("GET", f"{_ORG}/keys/{{kid}}"): Call(params=_project),
    ("DELETE", f"{_ORG}/keys/{{kid}}"): Call(params=_project),
    ("GET", f"{_ORG}/proofs"): Call(params=_project),
    ("POST", f"{_ORG}/proofs"): Call(
        params=_project, body=lambda w, r: {"kind": "domain", "target": "docs.open-swap.example"}
    ),
    ("GET", f"{_ORG}/proofs/{{proof_id}}"): Call(params=_project),
    ("POST", f"{_ORG}/proofs/{{proof_id}}/check"): Call(params=_project),
    ("POST", f"{_V}/attestations"): Call(
        body=lambda w, r: {"envelope": w.new_attestation_envelope(), "project": w.project.public_id}
    ),
    ("POST", f"{_V}/attestations/{{attestation_id}}/revoke"): Call(body=lambda w, r: {"reason": "superseded"}),
    ("POST", f"{_V}/subjects"): Call(
        body=lambda w, r: {"display_name": "Almarhum", "status": "deceased", "deceased_on": "2020-01-01"}
    ),
    ("PATCH", _SUB): Call(body=lambda w, r: {"bio": "Actor from Bandung.", "is_public": True}),
    # An agent with no power: any agent holding manage_representatives may appoint it.
    ("POST", f"{_SUB}/representatives"): Call(
        body=lambda w, r: {"email": w.newcomer.email, "role": "agent", "powers": []}
    ),
    ("POST", f"{_SUB}/keys"): Call(body=lambda w, r: {"public_jwk": w.fresh_jwk()}),
    ("DELETE", f"{_SUB}/keys/{{kid}}"): Call(params=lambda w: {"kid": w.subject_key.kid}),
    ("POST", f"{_SUB}/vouches"): Call(body=lambda w, r: {"organization": w.guild.public_id}),
    ("POST", f"{_SUB}/disputes"): Call(body=lambda w, r: {"kind": "not_me", "statement": "I never signed."}),
    ("POST", f"{_V}/consents"): Call(body=lambda w, r: w.consent_body(intended_use="A second film")),
    ("PATCH", _CON): Call(params=_draft, body=lambda w, r: {"intended_use": "A shorter film"}),
    ("POST", f"{_CON}/sign"): Call(params=_draft, body=lambda w, r: _signed_by(r, w.draft_signature)),
    ("POST", f"{_CON}/revoke"): Call(
        body=lambda w, r: {"reason": "changed my mind", **_signed_by(r, w.revocation_signature)}
    ),
    ("GET", f"{_CON}/acknowledgements"): Call(params=lambda w: {"consent_id": w.withdrawn.public_id}),
    # A person names the organization it acknowledges for; a key always acts for its own.
    ("POST", f"{_V}/events/{{event_id}}/acknowledge"): Call(
        body=lambda w, r: {"note": "done", "organization": w.studio.public_id} if r in PERSONS else {"note": "done"}
    ),
    ("POST", f"{_V}/verifications"): Call(body=lambda w, r: _check(w)),
    ("POST", f"{_V}/verifications/bulk"): Call(body=lambda w, r: {"queries": [_check(w)]}),
    ("POST", f"{_V}/consent-tokens"): Call(body=_token),
    ("POST", f"{_V}/releases"): Call(
        body=lambda w, r: {
            "title": "Sequel",
            "release_date": w.consent.valid_from.isoformat(),
            "territories": ["ID"],
            "appearances": [{"subject": w.subject.public_id, "media": ["face"], "purpose": "film_tv"}],
            "organization": w.studio.public_id,
        }
    ),
}

_REPS = _GROUPS["reps"]
_STUDIO = _GROUPS["members"]  # of the studio and of the project alike
# Lists answer 2xx to every signed-in caller but must hold only what the caller may see: each
# object's id appears for these roles and for nobody else.
LIST_PRIVACY: dict[tuple[str, str], list[tuple[Callable[[Any], str], tuple[str, ...]]]] = {
    ("GET", f"{_V}/organizations"): [(lambda w: w.studio.public_id, (*_STUDIO, "grantee_key"))],
    ("GET", f"{_V}/api-keys"): [(lambda w: w.target_key.public_id, ("admin", "owner", "stale_person"))],
    ("GET", f"{_V}/webhooks"): [(lambda w: w.webhook.public_id, ("admin", "owner", "stale_person", "grantee_key"))],
    ("GET", f"{_V}/subjects"): [(lambda w: w.subject.public_id, _REPS)],
    ("GET", f"{_V}/consents"): [
        (lambda w: w.consent.public_id, (*_REPS, *_STUDIO, "grantee_key")),
        (lambda w: w.draft.public_id, _REPS),  # drafts are the representatives' alone
    ],
    ("GET", f"{_V}/releases"): [(lambda w: w.release.public_id, (*_STUDIO, "grantee_key"))],
    ("GET", _GDL): [(lambda w: f'"{w.draft_version.version}"', (*_STUDIO, "project_key"))],
    ("GET", f"{_GDL}/versions"): [(lambda w: w.draft_version.public_id, (*_STUDIO, "project_key"))],
}
# Roles with no relation to the subject never see the person's name, whatever they call: the
# agency's key included, though its creator represents the person (a key never acts as them).
UNRELATED = ("anon", "stranger", "other_key", "project_key", "agency_key", "revoked_key")
# Secrets are shown once, by the operation that makes them, and never again.
SHOWS_A_WEBHOOK_SECRET = {("POST", f"{_V}/webhooks"), ("POST", f"{_WHK}/rotate-secret")}

# --- provenance (issue 16): anyone may check a file; the matrix sends JSON, which is not a file (400).
EXPECTED[("POST", f"{_V}/provenance/checks")] = expect("400", anon="400")
EXPECTED[("GET", f"{_V}/provenance/checks/{{check_id}}")] = expect("404", anon="404")
REQUESTS[("GET", f"{_V}/provenance/checks/{{check_id}}")] = Call(params=lambda w: {"check_id": "chk_unknown"})
# The world's release needs review: its organization learns it is not cleared (409), others 404.
EXPECTED[("GET", f"{_V}/releases/{{release_id}}/c2pa")] = expect("404", members="409", grantee_key="409")

# --- witnessing (C2SP tlog-witness): public, as the log is ---------------------------------------
EXPECTED[("GET", f"{_V}/log/checkpoint/latest")] = PUBLIC
EXPECTED[("GET", f"{_V}/log/witnesses")] = PUBLIC
EXPECTED[("GET", f"{_V}/log/proof/tlog")] = PUBLIC
REQUESTS[("GET", f"{_V}/log/proof/tlog")] = Call(query=lambda w: "index=0")
EXPECTED[("GET", f"{_V}/witness/key")] = PUBLIC
# Anyone may submit; the only authentication is the log's signature (a JSON body is not a request).
EXPECTED[("POST", f"{_V}/witness/add-checkpoint")] = expect("400", anon="400", revoked_key="400")
# No log's checkpoint was cosigned here: 404 for everyone alike.
EXPECTED[("GET", f"{_V}/witness/{{origin_hash}}/checkpoint")] = expect("404", anon="404", revoked_key="404")
REQUESTS[("GET", f"{_V}/witness/{{origin_hash}}/checkpoint")] = Call(params=lambda w: {"origin_hash": "0" * 64})
# --- erasure (issue 13): the caller's own person, with a fresh proof of presence ------------------
EXPECTED[("POST", f"{_V}/me/erasure")] = expect("2xx", keys="403", stale_person="reauth")
REQUESTS[("POST", f"{_V}/me/erasure")] = Call(body=lambda w, r: {"confirm": "erase"})

# docs/api.md v1.1: the sensitive actions, each needing a fresh proof of presence. stale_person (signed
# in an hour ago, with every authority otherwise) is asked to re-authenticate for exactly these.
SENSITIVE = {
    ("POST", f"{_CON}/sign"),  # witnessed
    ("POST", f"{_CON}/revoke"),  # witnessed
    ("POST", f"{_SUB}/keys"),
    ("DELETE", f"{_SUB}/keys/{{kid}}"),
    ("POST", f"{_SUB}/representatives"),
    ("DELETE", f"{_SUB}/representatives/{{rep_id}}"),
    ("PATCH", _SUB),  # making the profile public
    ("POST", f"{_V}/me/erasure"),
    ("POST", f"{_ORG}/keys"),
    ("DELETE", f"{_ORG}/keys/{{kid}}"),
    ("POST", f"{_V}/api-keys"),
    ("POST", f"{_ORG}/members"),  # adding an owner
}


def test_a_stale_session_is_asked_to_reauthenticate_for_exactly_the_sensitive_actions() -> None:
    asked = {operation for operation, row in EXPECTED.items() if row["stale_person"] == "reauth"}
    assert asked == SENSITIVE, {"missing": SENSITIVE - asked, "not sensitive": asked - SENSITIVE}
    assert not any(row[role] == "reauth" for row in EXPECTED.values() for role in ROLES if role != "stale_person")


def test_each_power_is_what_lets_its_agent_do_something() -> None:
    """The agents differ only by their one power: for each, a row that only that agent (of the seven)
    may call. ``erase`` acts on the caller's own person (``POST /me/erasure``, no power needed), so no
    row of this subject tells it apart."""
    for power in POWERS:
        alone = [
            operation
            for operation, row in EXPECTED.items()
            if row[f"agent_{power}"] == "2xx" and all(row[a] == "403" for a in AGENTS if a != f"agent_{power}")
        ]
        assert bool(alone) == (power != "erase"), (power, alone)


CASES = [(method, route, role) for (method, route) in sorted(EXPECTED) for role in ROLES]
# (routes x methods) x roles; kept here so a change in the matrix's size shows in review.
MATRIX_SIZE = len(CASES)
assert len(EXPECTED) * len(ROLES) == MATRIX_SIZE


def _classify(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


REAUTH = "/problems/reauthentication-required"


def _matches(expected: str, status: int, problem_type: str) -> bool:
    if expected == "not2xx":
        return not 200 <= status < 300 and status < 500
    if expected == "reauth":
        return status == 403 and problem_type.endswith(REAUTH)
    if expected == "403" and problem_type.endswith(REAUTH):
        return False  # a fresh session was asked to re-authenticate, or a refusal hides behind it
    return _classify(status) == expected


@pytest.mark.parametrize(("method", "route", "role"), CASES, ids=[f"{m} {r} as {role}" for m, r, role in CASES])
def test_the_caller_gets_the_expected_answer(authz_world: Any, method: str, route: str, role: str) -> None:
    w = authz_world
    call = REQUESTS.get((method, route), Call())
    path = route.format(**{**_defaults(w), **call.params(w)})
    query = call.query(w)
    url = f"{path}?{query}" if query else path
    body = call.body(w, role) if call.body else None
    expected = EXPECTED[(method, route)][role]
    client = w.client(role)
    # docs/api.md v1.1: without a fresh proof of presence, "nothing changes".
    before = database_snapshot() if expected == "reauth" else None
    response = client.generic(
        method, url, data=None if body is None else json.dumps(body), content_type="application/json"
    )
    if before is not None:
        assert database_snapshot() == before, f"{method} {url} as {role}: refused for presence, yet wrote"
    detail = response.content[:300].decode("utf-8", "replace")
    assert response.status_code < 500, f"{method} {url} as {role}: server error {response.status_code}: {detail}"
    problem_type = ""
    if response.headers.get("Content-Type", "").startswith("application/problem+json"):
        problem_type = str(response.json().get("type", ""))
    assert _matches(expected, response.status_code, problem_type), (
        f"{method} {url} as {role}: expected {expected}, got {response.status_code}: {detail}"
    )
    text = response.content.decode("utf-8", "replace")
    if 200 <= response.status_code < 300:
        for private_id, allowed in LIST_PRIVACY.get((method, route), []):
            shown = private_id(w) in text
            assert shown == (role in allowed), f"{method} {url} as {role}: {private_id(w)} shown={shown}"
    if role in UNRELATED:
        assert w.subject_name not in text, f"{method} {url} as {role} shows the subject's name"
    assert not any(secret in text for secret in w.secrets.values()), f"{method} {url} shows an API key secret"
    if (method, route) not in SHOWS_A_WEBHOOK_SECRET:
        assert "whsec_" not in text, f"{method} {url} as {role} shows a webhook secret"
