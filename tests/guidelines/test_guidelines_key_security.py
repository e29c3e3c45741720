"""Who may register and retire a project's signing keys (issue 13): people only, with a fresh proof of presence.

A signing key makes attestations. If a project's API key could register one, whoever holds the API
key (a CI system, a leaked secret) could forge attestations on the project's behalf. So registering
and retiring is people-only and needs the person to have signed in or confirmed it is them within
the last few minutes, whether through the API or the pages (the rule lives in the service).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from guidelines import services
from guidelines.models import Guideline, ProjectKey
from registry.accounts.presence import Presence
from registry.accounts.services import membership_add
from registry.errors import NotAllowed, ReauthenticationRequired
from registry.lib.signing import generate_private_key, public_jwk
from registry.transparency.models import LogEntry
from tests.guidelines.presence import present


def _jwk():
    jwk = public_jwk(generate_private_key())
    del jwk["kid"]
    return jwk


def _is_reauthentication_problem(response) -> bool:
    return response.status_code == 403 and response.json()["type"].endswith("/problems/reauthentication-required")


def test_the_projects_api_key_cannot_register_a_signing_key(project, maintainer, key_client):
    api, _ = key_client(organization=project, creator=maintainer)

    response = api.post(f"/api/v1/organizations/{project.public_id}/keys", {"public_jwk": _jwk()}, format="json")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not ProjectKey.objects.exists()
    assert not LogEntry.objects.filter(type="project_key.added").exists()


def test_the_projects_api_key_cannot_retire_a_signing_key(project, maintainer, project_key, key_client):
    api, _ = key_client(organization=project, creator=maintainer)

    response = api.delete(f"/api/v1/organizations/{project.public_id}/keys/{project_key.kid}")

    assert response.status_code == 403
    project_key.refresh_from_db()
    assert project_key.is_active
    assert not LogEntry.objects.filter(type="project_key.retired").exists()


def test_the_projects_api_key_still_reads_its_keys(project, maintainer, project_key, key_client):
    api, _ = key_client(organization=project, creator=maintainer)
    listed = api.get(f"/api/v1/organizations/{project.public_id}/keys")
    assert listed.status_code == 200
    assert [k["kid"] for k in listed.json()["results"]] == [project_key.kid]


def test_a_session_without_a_fresh_proof_of_presence_cannot_register_a_key(project, maintainer_api):
    response = maintainer_api.post(
        f"/api/v1/organizations/{project.public_id}/keys", {"public_jwk": _jwk()}, format="json"
    )

    assert _is_reauthentication_problem(response), response.content
    assert not ProjectKey.objects.exists()


def test_a_session_without_a_fresh_proof_of_presence_cannot_retire_a_key(project, project_key, maintainer_api):
    response = maintainer_api.delete(f"/api/v1/organizations/{project.public_id}/keys/{project_key.kid}")

    assert _is_reauthentication_problem(response), response.content
    project_key.refresh_from_db()
    assert project_key.is_active


def test_a_freshly_reauthenticated_owner_registers_and_retires_a_key(project, fresh_maintainer_api):
    base = f"/api/v1/organizations/{project.public_id}/keys"
    created = fresh_maintainer_api.post(base, {"public_jwk": _jwk()}, format="json")
    assert created.status_code == 201, created.content
    kid = created.json()["kid"]

    assert fresh_maintainer_api.delete(f"{base}/{kid}").status_code == 204
    assert fresh_maintainer_api.get(f"{base}/{kid}").json()["status"] == "retired"


def test_the_service_refuses_a_key_without_presence_or_with_a_stale_one(project, maintainer):
    stale = Presence(authenticated_at=timezone.now() - timedelta(minutes=6), second_factor=False, method="password")
    for presence in (None, stale):
        with pytest.raises(ReauthenticationRequired):
            services.project_key_add(
                organization=project, actor_role="owner", actor=maintainer, public_jwk=_jwk(), presence=presence
            )
    assert not ProjectKey.objects.exists()

    key = services.project_key_add(
        organization=project, actor_role="owner", actor=maintainer, public_jwk=_jwk(), presence=present()
    )
    with pytest.raises(ReauthenticationRequired):
        services.project_key_retire(key=key, actor_role="owner", presence=stale)
    key.refresh_from_db()
    assert key.is_active


def test_a_plain_member_cannot_register_a_key_even_when_present(project, make_user, client_for):
    member = make_user()
    membership_add(organization=project, actor_role="owner", user=member, role="member")
    with pytest.raises(NotAllowed):
        services.project_key_add(
            organization=project, actor_role="member", actor=member, public_jwk=_jwk(), presence=present()
        )
    assert not ProjectKey.objects.exists()


# --- one answer to "which organization acts" (registry.api.caller.acting_organization) ---------


def test_naming_an_organization_you_do_not_belong_to_is_403(project, make_user, client_for):
    stranger = client_for(make_user())

    response = stranger.post(
        "/api/v1/guidelines", {"organization": project.public_id, "slug": "x", "title": "X"}, format="json"
    )

    assert response.status_code == 403
    assert not Guideline.objects.exists()
    body = {"organization": "org_nope", "slug": "x", "title": "X"}
    unknown = stranger.post("/api/v1/guidelines", body, format="json")
    assert unknown.status_code == 403


def test_an_api_key_naming_another_organization_is_403(project, published, make_user, make_org, key_client):
    owner = make_user()
    studio = make_org(owner, kind="studio")
    api, _ = key_client(organization=studio, creator=owner)

    response = api.post(
        "/api/v1/guidelines/fair-swap/versions/1.0.0/adoptions", {"organization": project.public_id}, format="json"
    )

    assert response.status_code == 403
    adopted = api.post(
        "/api/v1/guidelines/fair-swap/versions/1.0.0/adoptions", {"organization": studio.public_id}, format="json"
    )
    assert adopted.status_code == 201
