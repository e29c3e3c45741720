"""Representatives' powers (docs/api.md v1.1): self, guardian and estate hold every power; an agent holds
only what the person delegated (default sign and revoke), and every service checks the one it needs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import services
from consent.models import POWERS, Consent, Representative, SubjectProfile
from registry.accounts.models import User
from registry.errors import NotAllowed, NotFound, ValidationFailed
from tests.consent.conftest import Signer, accept_invitation, as_service_terms, witness
from tests.consent.terms import consent_terms

pytestmark = pytest.mark.django_db
_emails = itertools.count(1)


def _user() -> User:
    return User.objects.create_user(f"powers{next(_emails)}@example.org", "correct horse battery")


def _signed(subject: Any, principal: User) -> Consent:
    draft = services.consent_create(subject=subject, actor=principal, terms=as_service_terms(consent_terms(subject)))
    return services.consent_sign(consent=draft, actor=principal, method="witnessed", witness=witness())


# Each action as the representative ``actor`` would do it; ``principal`` prepares what it needs.
def _sign(subject: Any, principal: User, actor: User) -> None:
    draft = services.consent_create(subject=subject, actor=principal, terms=as_service_terms(consent_terms(subject)))
    services.consent_sign(consent=draft, actor=actor, method="witnessed", witness=witness())


def _revoke(subject: Any, principal: User, actor: User) -> None:
    services.consent_revoke(consent=_signed(subject, principal), actor=actor, witness=witness())


def _manage_keys(subject: Any, principal: User, actor: User) -> None:
    services.subject_key_add(subject=subject, actor=actor, public_jwk=Signer().jwk, presence=witness())


def _manage_representatives(subject: Any, principal: User, actor: User) -> None:
    role = "agent" if subject.status == "living" else {"minor": "guardian", "deceased": "estate"}[subject.status]
    services.representative_add(
        subject=subject,
        actor=actor,
        user=_user(),
        role=role,
        presence=witness(),
        **({"powers": []} if role == "agent" else {}),
    )


def _edit_profile(subject: Any, principal: User, actor: User) -> None:
    services.subject_profile_update(subject=subject, actor=actor, bio="A new bio", presence=witness())


def _read_access_log(subject: Any, principal: User, actor: User) -> None:
    list(services.access_log_read(subject=subject, actor=actor))


def _erase(subject: Any, principal: User, actor: User) -> None:
    services.subject_erase(subject=subject, actor=actor, presence=witness())


ACTIONS: dict[str, Callable[[Any, User, User], None]] = {
    "sign": _sign,
    "revoke": _revoke,
    "manage_keys": _manage_keys,
    "manage_representatives": _manage_representatives,
    "edit_profile": _edit_profile,
    "read_access_log": _read_access_log,
    "erase": _erase,
}


def test_every_power_has_an_action() -> None:
    assert set(ACTIONS) == set(POWERS)


def _allowed(action: Callable[[], None]) -> bool:
    try:
        with transaction.atomic():
            action()
    except (NotAllowed, NotFound):
        return False
    return True


@pytest.mark.parametrize("status", ["living", "minor", "deceased"])
@pytest.mark.parametrize("power", POWERS)
def test_self_guardian_and_estate_hold_every_power(make_subject, status, power):
    subject, principal = make_subject(status)
    rep = Representative.objects.get(subject=subject, user=principal)
    assert set(rep.effective_powers) == set(POWERS)
    assert _allowed(lambda: ACTIONS[power](subject, principal, principal))


def test_an_agent_holds_every_combination_of_powers_and_nothing_more(make_subject):
    subject, person = make_subject("living")
    checked: set[tuple[str, bool]] = set()

    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(powers=st.sets(st.sampled_from(POWERS)), action=st.sampled_from(POWERS))
    def agent_may_exactly_what_it_holds(powers: set[str], action: str) -> None:
        _one(powers, action)

    def _one(powers: set[str], action: str) -> None:
        with transaction.atomic():
            agent_user = _user()
            agent = services.representative_add(
                subject=subject, actor=person, user=agent_user, role="agent", powers=sorted(powers), presence=witness()
            )
            assert set(agent.effective_powers) == powers
            allowed = _allowed(lambda: ACTIONS[action](subject, person, agent_user))
            assert allowed == (action in powers), (action, powers)
            checked.add((action, allowed))
            transaction.set_rollback(True)

    agent_may_exactly_what_it_holds()
    # Every power on its own and every power missing from all the others, whatever was drawn.
    for power in POWERS:
        _one({power}, power)
        _one(set(POWERS) - {power}, power)
    # Every action was seen both allowed and refused.
    assert checked == {(a, ok) for a in POWERS for ok in (True, False)}


def test_an_agent_defaults_to_sign_and_revoke_and_the_api_shows_powers(make_subject, make_user, fresh_client):
    subject, person = make_subject("living")
    agent = make_user()
    api = fresh_client(person)
    created = api.post(
        f"/api/v1/subjects/{subject.public_id}/representatives", {"email": agent.email, "role": "agent"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["powers"] == ["sign", "revoke"]
    assert accept_invitation(agent, created.json()["id"]).status_code == 200
    rep = Representative.objects.get(subject=subject, user=agent)
    assert rep.effective_powers == ["sign", "revoke"]
    listed = api.get(f"/api/v1/subjects/{subject.public_id}").json()["representatives"]
    assert [r["powers"] for r in listed if r["id"] == rep.public_id] == [["sign", "revoke"]]

    as_agent = fresh_client(agent)
    assert as_agent.patch(f"/api/v1/subjects/{subject.public_id}", {"bio": "x"}, format="json").status_code == 403
    assert as_agent.get(f"/api/v1/subjects/{subject.public_id}/access-log").status_code == 403
    assert SubjectProfile.objects.get(subject=subject).bio == ""


def test_unknown_powers_and_powers_for_principals_are_400(make_subject, make_user):
    subject, person = make_subject("living")
    with pytest.raises(ValidationFailed) as exc:
        services.representative_add(
            subject=subject, actor=person, user=make_user(), role="agent", powers=["sign", "own"], presence=witness()
        )
    assert "powers" in exc.value.errors


def test_an_agent_cannot_appoint_an_agent_with_more_than_it_holds(make_subject):
    subject, person = make_subject("living")
    manager = _user()
    services.representative_add(
        subject=subject,
        actor=person,
        user=manager,
        role="agent",
        powers=["manage_representatives", "sign"],
        presence=witness(),
    )
    with pytest.raises(NotAllowed):
        services.representative_add(
            subject=subject, actor=manager, user=_user(), role="agent", powers=["erase"], presence=witness()
        )
    helper = services.representative_add(
        subject=subject, actor=manager, user=_user(), role="agent", powers=["sign"], presence=witness()
    )
    assert helper.effective_powers == ["sign"]
    assert helper.delegated_by.user == person


def test_the_who_checked_me_page_checks_the_power_too(make_subject):
    from django.test import Client

    subject, person = make_subject("living")
    reader, other = _user(), _user()
    services.representative_add(
        subject=subject, actor=person, user=reader, role="agent", powers=["read_access_log"], presence=witness()
    )
    services.representative_add(subject=subject, actor=person, user=other, role="agent", presence=witness())
    for agent, expected in ((reader, 200), (other, 403)):
        browser = Client()
        browser.force_login(agent)
        assert browser.get(f"/subjects/{subject.public_id}/access-log/").status_code == expected
