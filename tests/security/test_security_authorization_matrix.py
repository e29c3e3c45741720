"""Who may call what: every API route and method, called as every kind of caller (DESIGN.md invariant 4).

The routes come from the URL configuration itself. A route or method that is in the URL conf
but not in ``EXPECTED`` fails ``test_every_api_route_is_in_the_matrix``: a new endpoint cannot
ship without someone deciding, here, who may call it.

Expected answers are status classes: ``2xx``; ``401`` (no or bad credentials); ``403`` (signed in,
not allowed, and the answer reveals nothing); ``404`` (also for objects that exist but the caller
may not see: no existence oracle); ``400``/``409`` where the operation is refused for the input or
the object's state; ``not2xx`` where only "refused, and not a 500" can be promised.

Roles (see ``World`` in this folder's conftest): ``anon``; ``stranger`` (signed in, no relation
to anything); ``member``/``admin``/``owner`` of the studio (the consent's grantee; it owns the
webhook, the release and the keys) and of the project (the guideline, project key, proof,
attestation); ``rep`` (the subject's representative, in no organization); ``grantee_key`` (the
studio's API key, made by its owner); ``other_key`` (a guild's key: another organization);
``revoked_key`` (a studio key, revoked).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from registry.transparency.models import LogEntry
from tests.security.routes import all_routes

PERSONS = ("stranger", "member", "admin", "owner", "rep")
ROLES = ("anon", *PERSONS, "grantee_key", "other_key", "revoked_key")
_GROUPS = {
    "persons": PERSONS,
    "keys": ("grantee_key", "other_key"),
    "staff": ("admin", "owner"),
    "members": ("member", "admin", "owner"),
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
    ("PATCH", _ORG): expect("404", staff="2xx", member="403", grantee_key="2xx"),
    ("GET", f"{_ORG}/members"): expect("404", members="2xx", grantee_key="2xx"),
    # Keys never change who belongs: a leaked key must not be able to add a person as an owner.
    ("POST", f"{_ORG}/members"): expect("404", staff="2xx", member="403", keys="403"),
    ("DELETE", f"{_ORG}/members/{{user_id}}"): expect("404", staff="2xx", member="403", keys="403"),
    ("GET", f"{_V}/api-keys"): expect("2xx", keys="403"),
    # Naming an organization you do not belong to is a bad field (400), the same for one that
    # does not exist.
    ("POST", f"{_V}/api-keys"): expect("400", staff="2xx", member="403", keys="403"),
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
    # The body names the studio: another key or a non-member gets "unknown organization" (400).
    ("POST", f"{_V}/webhooks"): expect("400", staff="2xx", member="403", grantee_key="2xx"),
    ("GET", _WHK): expect("404", staff="2xx", grantee_key="2xx"),
    ("PATCH", _WHK): expect("404", staff="2xx", grantee_key="2xx"),
    ("DELETE", _WHK): expect("404", staff="2xx", grantee_key="2xx"),
    ("POST", f"{_WHK}/rotate-secret"): expect("404", staff="2xx", grantee_key="2xx"),
    ("GET", f"{_WHK}/deliveries"): expect("404", staff="2xx", grantee_key="2xx"),
    ("POST", f"{_WHK}/deliveries/{{delivery_id}}/redeliver"): expect("404", staff="2xx", grantee_key="2xx"),
    # --- guidelines (the project's; the studio key is "another organization" here) -------------
    ("GET", f"{_V}/guidelines"): PUBLIC_READ,
    ("POST", f"{_V}/guidelines"): expect("400", staff="2xx", member="403"),
    ("GET", _GDL): PUBLIC_READ,  # the draft 2.0.0 is listed to members only: see LIST_PRIVACY
    # from=1.0.0&to=2.0.0: the draft exists only for the project's members.
    ("GET", f"{_GDL}/diff"): expect("404", members="2xx", anon="404"),
    ("GET", f"{_GDL}/versions"): PUBLIC_READ,  # see LIST_PRIVACY
    ("POST", f"{_GDL}/versions"): expect("404", staff="2xx", member="403"),
    ("GET", _VER): expect("404", members="2xx", anon="404"),  # the draft
    ("PATCH", _VER): expect("404", staff="2xx", member="403"),  # the draft
    ("POST", f"{_VER}/publish"): expect("404", staff="2xx", member="403"),  # the draft
    ("POST", f"{_VER}/retire"): expect("404", staff="2xx", member="403"),  # 1.0.0
    ("GET", f"{_VER}/adoptions"): PUBLIC_READ,
    # The studio adopts 1.0.0; naming an organization you are not in is a bad field (400).
    ("POST", f"{_VER}/adoptions"): expect("400", staff="2xx", member="403", grantee_key="2xx"),
    ("GET", f"{_ORG}/keys"): expect("404", members="2xx"),
    ("POST", f"{_ORG}/keys"): expect("404", staff="2xx", member="403"),
    ("GET", f"{_ORG}/keys/{{kid}}"): expect("404", members="2xx"),
    ("DELETE", f"{_ORG}/keys/{{kid}}"): expect("404", staff="2xx", member="403"),
    ("GET", f"{_ORG}/proofs"): expect("404", members="2xx"),
    ("POST", f"{_ORG}/proofs"): expect("404", staff="2xx", member="403"),
    ("GET", f"{_ORG}/proofs/{{proof_id}}"): expect("404", members="2xx"),
    ("POST", f"{_ORG}/proofs/{{proof_id}}/check"): expect("404", staff="2xx", member="403"),
    ("GET", f"{_V}/attestations"): PUBLIC_READ,
    # The body names the project: anyone outside it gets "unknown organization" (400).
    ("POST", f"{_V}/attestations"): expect("400", staff="2xx", member="403"),
    ("GET", f"{_V}/attestations/{{attestation_id}}"): PUBLIC_READ,
    ("POST", f"{_V}/attestations/{{attestation_id}}/revoke"): expect("404", staff="2xx", member="403"),
    ("GET", f"{_V}/safeguards"): PUBLIC_READ,
    # --- subjects (private profile: only the representative sees it) ----------------------------
    ("GET", f"{_V}/vocabulary"): PUBLIC,
    ("GET", f"{_V}/subjects"): expect("2xx", keys="403"),  # see LIST_PRIVACY
    ("POST", f"{_V}/subjects"): expect("2xx", keys="403"),
    ("GET", _SUB): expect("404", rep="2xx"),
    # People-only endpoints refuse every key up front (403) before looking anything up.
    ("PATCH", _SUB): expect("404", rep="2xx", keys="403"),
    ("POST", f"{_SUB}/representatives"): expect("404", rep="2xx", keys="403"),
    ("DELETE", f"{_SUB}/representatives/{{rep_id}}"): expect("404", rep="2xx", keys="403"),
    ("GET", f"{_SUB}/keys"): expect("404", rep="2xx"),
    ("POST", f"{_SUB}/keys"): expect("404", rep="2xx", keys="403"),
    ("DELETE", f"{_SUB}/keys/{{kid}}"): expect("404", rep="2xx", keys="403"),
    # Vouching names the guild; the guild's key already vouches (409), nobody else is in it (400).
    ("POST", f"{_SUB}/vouches"): expect("400", other_key="409"),
    ("DELETE", f"{_SUB}/vouches/{{vouch_id}}"): expect("404", other_key="2xx"),
    # API.md: anyone signed in may dispute ("this is me, and I did not give this consent").
    ("POST", f"{_SUB}/disputes"): expect("2xx", keys="403"),
    ("GET", f"{_SUB}/access-log"): expect("404", rep="2xx"),
    # --- consents: private to the representatives and to the named grantee ----------------------
    ("GET", f"{_V}/consents"): SIGNED_IN,  # see LIST_PRIVACY
    # "You do not represent that subject" is the same 400 as for a subject that does not exist.
    ("POST", f"{_V}/consents"): expect("400", rep="2xx", keys="403"),
    ("GET", _CON): expect("404", rep="2xx", members="2xx", grantee_key="2xx"),
    ("PATCH", _CON): expect("404", rep="2xx", keys="403"),  # the draft
    ("POST", f"{_CON}/sign"): expect("404", rep="2xx", keys="403"),  # the draft, by subject key
    ("POST", f"{_CON}/revoke"): expect("404", rep="2xx", keys="403"),  # by subject key
    ("GET", f"{_CON}/history"): expect("404", rep="2xx", members="2xx", grantee_key="2xx"),
    # Who acknowledged a revocation: for the person's representatives only.
    ("GET", f"{_CON}/acknowledgements"): expect("404", rep="2xx"),
    # An organization in the event's audience (any member, or its key) confirms it; 404 for the rest.
    ("POST", f"{_V}/events/{{event_id}}/acknowledge"): expect("404", members="2xx", grantee_key="2xx"),
    # Verifications are made by organizations (keys); another organization gets a decision too
    # ("unknown"/"denied"), never the consent.
    ("POST", f"{_V}/verifications"): expect("403", keys="2xx"),
    ("POST", f"{_V}/verifications/bulk"): expect("403", keys="2xx"),
    # A token only for a permitted use: the grantee's key, or the representative naming it.
    ("POST", f"{_V}/consent-tokens"): expect("403", rep="2xx", grantee_key="2xx"),
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


REQUESTS: dict[tuple[str, str], Call] = {
    ("POST", f"{_V}/invitations/{{invitation_id}}/accept"): Call(params=_invitation_to_stranger, body=lambda w, r: {}),
    ("DELETE", f"{_ORG}/invitations/{{invitation_id}}"): Call(params=_invitation_to_stranger),
    ("POST", f"{_V}/receipts/verify"): Call(body=lambda w, r: {"receipt": w.release.receipt}),
    ("POST", f"{_V}/organizations"): Call(body=lambda w, r: {"name": "New", "slug": f"new-{r}", "kind": "studio"}),
    ("PATCH", _ORG): Call(body=lambda w, r: {"name": "Renamed studio"}),
    ("POST", f"{_ORG}/members"): Call(body=lambda w, r: {"email": w.newcomer.email, "role": "member"}),
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
    ("PATCH", _SUB): Call(body=lambda w, r: {"bio": "Actor from Bandung."}),
    ("POST", f"{_SUB}/representatives"): Call(body=lambda w, r: {"email": w.newcomer.email, "role": "agent"}),
    ("POST", f"{_SUB}/keys"): Call(body=lambda w, r: {"public_jwk": w.fresh_jwk()}),
    ("DELETE", f"{_SUB}/keys/{{kid}}"): Call(params=lambda w: {"kid": w.subject_key.kid}),
    ("POST", f"{_SUB}/vouches"): Call(body=lambda w, r: {"organization": w.guild.public_id}),
    ("POST", f"{_SUB}/disputes"): Call(body=lambda w, r: {"kind": "not_me", "statement": "I never signed."}),
    ("POST", f"{_V}/consents"): Call(body=lambda w, r: w.consent_body(intended_use="A second film")),
    ("PATCH", _CON): Call(params=_draft, body=lambda w, r: {"intended_use": "A shorter film"}),
    ("POST", f"{_CON}/sign"): Call(
        params=_draft, body=lambda w, r: {"method": "subject_key", "signature": w.draft_signature()}
    ),
    ("POST", f"{_CON}/revoke"): Call(
        body=lambda w, r: {"reason": "changed my mind", "method": "subject_key", "signature": w.revocation_signature()}
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

# Lists answer 2xx to every signed-in caller but must hold only what the caller may see: each
# object's id appears for these roles and for nobody else.
LIST_PRIVACY: dict[tuple[str, str], list[tuple[Callable[[Any], str], tuple[str, ...]]]] = {
    ("GET", f"{_V}/organizations"): [(lambda w: w.studio.public_id, ("member", "admin", "owner", "grantee_key"))],
    ("GET", f"{_V}/api-keys"): [(lambda w: w.target_key.public_id, ("admin", "owner"))],
    ("GET", f"{_V}/webhooks"): [(lambda w: w.webhook.public_id, ("admin", "owner", "grantee_key"))],
    ("GET", f"{_V}/subjects"): [(lambda w: w.subject.public_id, ("rep",))],
    ("GET", f"{_V}/consents"): [
        (lambda w: w.consent.public_id, ("rep", "member", "admin", "owner", "grantee_key")),
        (lambda w: w.draft.public_id, ("rep",)),  # drafts are the representatives' alone
    ],
    ("GET", f"{_V}/releases"): [(lambda w: w.release.public_id, ("member", "admin", "owner", "grantee_key"))],
    ("GET", _GDL): [(lambda w: f'"{w.draft_version.version}"', ("member", "admin", "owner"))],
    ("GET", f"{_GDL}/versions"): [(lambda w: w.draft_version.public_id, ("member", "admin", "owner"))],
}
# Roles with no relation to the subject never see the person's name, whatever they call.
UNRELATED = ("anon", "stranger", "other_key", "revoked_key")
# Secrets are shown once, by the operation that makes them, and never again.
SHOWS_A_WEBHOOK_SECRET = {("POST", f"{_V}/webhooks"), ("POST", f"{_WHK}/rotate-secret")}

# --- provenance (issue 16): anyone may check a file; the matrix sends JSON, which is not a file (400).
EXPECTED[("POST", f"{_V}/provenance/checks")] = expect("400", anon="400")
EXPECTED[("GET", f"{_V}/provenance/checks/{{check_id}}")] = expect("404", anon="404")
REQUESTS[("GET", f"{_V}/provenance/checks/{{check_id}}")] = Call(params=lambda w: {"check_id": "chk_unknown"})
# The world's release needs review: its organization learns it is not cleared (409), others 404.
EXPECTED[("GET", f"{_V}/releases/{{release_id}}/c2pa")] = expect("404", members="409", grantee_key="409")

CASES = [(method, route, role) for (method, route) in sorted(EXPECTED) for role in ROLES]
# (routes x methods) x roles; kept here so a change in the matrix's size shows in review.
MATRIX_SIZE = len(CASES)
assert len(EXPECTED) * len(ROLES) == MATRIX_SIZE


def _classify(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


def _matches(expected: str, status: int) -> bool:
    if expected == "not2xx":
        return not 200 <= status < 300 and status < 500
    return _classify(status) == expected


@pytest.mark.parametrize(("method", "route", "role"), CASES, ids=[f"{m} {r} as {role}" for m, r, role in CASES])
def test_the_caller_gets_the_expected_answer(authz_world: Any, method: str, route: str, role: str) -> None:
    w = authz_world
    call = REQUESTS.get((method, route), Call())
    path = route.format(**{**_defaults(w), **call.params(w)})
    query = call.query(w)
    url = f"{path}?{query}" if query else path
    body = call.body(w, role) if call.body else None
    response = w.client(role).generic(
        method, url, data=None if body is None else json.dumps(body), content_type="application/json"
    )
    expected = EXPECTED[(method, route)][role]
    detail = response.content[:300].decode("utf-8", "replace")
    assert response.status_code < 500, f"{method} {url} as {role}: server error {response.status_code}: {detail}"
    assert _matches(expected, response.status_code), (
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
