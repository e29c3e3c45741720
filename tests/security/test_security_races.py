"""Two real HTTP requests racing for the same change: exactly one wins, and nothing is doubled.

Each race fires two requests at a live server (threads released together by a barrier) and is
repeated ``ROUNDS`` times: signing the same consent, revoking it, publishing the same guideline
version, and creating with the same ``Idempotency-Key``. The loser gets 409 (or, for the key,
the replayed first answer, as docs/api.md says); the log stays gap-free and verifiable, and every
change has exactly one leaf and one outbox event.

Meant for PostgreSQL (CI), where the requests really run at once and row locks decide the
winner; on SQLite the database's single write lock serialises them, and the same outcome holds.
"""

from __future__ import annotations

import functools
import io
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from consent import services as consent_services
from consent.models import Consent, ConsentEvent
from guidelines import services as guideline_services
from guidelines.models import Guideline, GuidelineVersion
from registry.accounts import services as account_services
from registry.accounts.presence import Presence
from registry.api.models import IdempotencyRecord
from registry.events.models import OutboxEvent
from registry.transparency.models import LogEntry
from tests.presence import fresh_presence

from ..guidelines.conftest import content

ROUNDS = 10
PASSWORD = "correct horse battery"
_names = itertools.count(1)


@dataclass
class Shot:
    status: int
    body: Any
    headers: dict[str, str]
    started: float
    ended: float


def race(*calls: Callable[[], requests.Response]) -> list[Shot]:
    """Run the calls in parallel threads released at the same moment; their answers, in order."""
    barrier = threading.Barrier(len(calls))
    shots: list[Shot | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def fire(position: int) -> None:
        try:
            barrier.wait(timeout=30)
            started = time.monotonic()
            response = calls[position]()
            ended = time.monotonic()
            try:
                body = response.json()
            except ValueError:
                body = response.text
            shots[position] = Shot(response.status_code, body, dict(response.headers), started, ended)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(shot is not None for shot in shots)
    return shots  # type: ignore[return-value]


def overlapped(shots: list[Shot]) -> bool:
    """Both requests were in flight at the same time (seen from the clients)."""
    return max(s.started for s in shots) < min(s.ended for s in shots)


def one_winner(shots: list[Shot], ok: int = 200) -> Shot:
    """Exactly one request succeeded; every other one is a 409 problem document."""
    statuses = sorted(s.status for s in shots)
    assert statuses == sorted([ok] + [409] * (len(shots) - 1)), [(s.status, s.body) for s in shots]
    for loser in (s for s in shots if s.status == 409):
        assert loser.headers["Content-Type"] == "application/problem+json"
        assert loser.body["status"] == 409
    return next(s for s in shots if s.status == ok)


def assert_log_whole() -> None:
    """Indexes 0..n-1 without a gap or a duplicate, and ``verify_log`` recomputes the same tree."""
    indexes = list(LogEntry.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(len(indexes))), "gaps or duplicates in the log"
    out = io.StringIO()
    call_command("verify_log", "--quiet", stdout=out, stderr=io.StringIO())
    assert f"{len(indexes)} leaves" in out.getvalue(), out.getvalue()


def login(base: str, email: str) -> str:
    """A person signs in through allauth's headless app API: a fresh password login, a session token."""
    response = requests.post(
        f"{base}/_allauth/app/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text[:500]
    return str(response.json()["meta"]["session_token"])


def _terms(subject_id: str, n: int) -> dict[str, Any]:
    today = timezone.now().date()
    return {
        "subject": subject_id,
        "effect": "permit",
        "grantee": "*",
        "production": None,
        "media": ["face"],
        "activities": ["generate"],
        "purposes": ["film_tv"],
        "intended_use": f"New scenes for feature film number {n}, shot in Jakarta",
        "territories": ["ID"],
        "valid_from": today,
        "valid_until": today + timedelta(days=365),
        "conditions": {"attribution_required": True},
        "revocation": {"policy": "anytime"},
        "representation": "none",
        "court_approval_ref": None,
        "guideline": None,
    }


@pytest.fixture
def person(live_server, make_user):  # type: ignore[no-untyped-def]
    """A living adult who represents themselves, with two devices signed in (two session tokens)."""
    user = make_user(f"racer{next(_names)}@example.org", password=PASSWORD)
    subject = consent_services.subject_create(creator=user, display_name="Sari Pemeran", status="living")
    tokens = [login(live_server.url, user.email) for _ in range(2)]
    return user, subject, tokens


def _post_as(base: str, token: str, path: str, body: dict[str, Any]) -> Callable[[], requests.Response]:
    return lambda: requests.post(f"{base}{path}", json=body, headers={"X-Session-Token": token}, timeout=60)


def test_two_devices_signing_the_same_consent_sign_it_once(live_server, person):
    user, subject, tokens = person
    overlaps = 0
    for n in range(ROUNDS):
        draft = consent_services.consent_create(subject=subject, actor=user, terms=_terms(subject.public_id, n))
        path = f"/api/v1/consents/{draft.public_id}/sign"
        shots = race(*(_post_as(live_server.url, t, path, {"method": "witnessed"}) for t in tokens))
        overlaps += overlapped(shots)

        winner = one_winner(shots)
        assert winner.body["status"] == "active"
        assert Consent.objects.get(pk=draft.pk).status == "active"
        assert LogEntry.objects.filter(type="consent.signed", ref=draft.public_id).count() == 1
        assert OutboxEvent.objects.filter(type="consent.signed", payload__consent=draft.public_id).count() == 1
        assert ConsentEvent.objects.filter(consent=draft, type="signed").count() == 1
    assert overlaps >= ROUNDS // 2, f"the requests overlapped in only {overlaps} of {ROUNDS} rounds"
    assert_log_whole()


def test_two_devices_revoking_the_same_consent_revoke_it_once(live_server, person):
    user, subject, tokens = person
    witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
    overlaps = 0
    for n in range(ROUNDS):
        draft = consent_services.consent_create(subject=subject, actor=user, terms=_terms(subject.public_id, n))
        consent = consent_services.consent_sign(consent=draft, actor=user, method="witnessed", witness=witness)
        path = f"/api/v1/consents/{consent.public_id}/revoke"
        shots = race(*(_post_as(live_server.url, t, path, {"reason": f"device {i}"}) for i, t in enumerate(tokens)))
        overlaps += overlapped(shots)

        winner = one_winner(shots)
        assert winner.body["status"] == "revoked"
        stored = Consent.objects.get(pk=consent.pk)
        assert stored.status == "revoked"
        # The stored reason is the winner's: the loser changed nothing.
        assert stored.revocation_reason == f"device {shots.index(winner)}"
        assert LogEntry.objects.filter(type="consent.revoked", ref=consent.public_id).count() == 1
        assert OutboxEvent.objects.filter(type="consent.revoked", payload__consent=consent.public_id).count() == 1
        assert ConsentEvent.objects.filter(consent=consent, type="revoked").count() == 1
    assert overlaps >= ROUNDS // 2, f"the requests overlapped in only {overlaps} of {ROUNDS} rounds"
    assert_log_whole()


@pytest.fixture
def project_key(live_server, make_user, make_org):  # type: ignore[no-untyped-def]
    """A project organization, one guideline of it, and two API keys of its owner (two CI jobs)."""
    owner = make_user()
    project = make_org(owner, kind="project")
    guideline = guideline_services.guideline_create(
        organization=project, actor_role="owner", slug=f"race-{project.slug}", title="Fair swap"
    )
    secrets = [
        account_services.api_key_create(
            organization=project, creator=owner, actor_role="owner", name=f"ci {i}", presence=fresh_presence()
        ).secret
        for i in range(2)
    ]
    return owner, project, guideline, secrets


def test_two_jobs_publishing_the_same_version_publish_it_once(live_server, project_key):
    owner, _project, guideline, secrets = project_key
    overlaps = 0
    for n in range(ROUNDS):
        draft = guideline_services.guideline_version_create(
            guideline=guideline, actor_role="owner", actor=owner, **content(version=f"1.{n}.0")
        )
        url = f"{live_server.url}/api/v1/guidelines/{guideline.slug}/versions/1.{n}.0/publish"
        shots = race(
            *(
                functools.partial(requests.post, url, headers={"Authorization": f"Bearer {s}"}, timeout=60)
                for s in secrets
            )
        )
        overlaps += overlapped(shots)

        winner = one_winner(shots)
        stored = GuidelineVersion.objects.get(pk=draft.pk)
        assert stored.status == "published"
        assert winner.body["digest"] == stored.digest
        assert LogEntry.objects.filter(type="guideline.published", ref=draft.public_id).count() == 1
        published = OutboxEvent.objects.filter(type="guideline.published", payload__version=f"1.{n}.0")
        assert published.filter(payload__guideline=guideline.public_id).count() == 1
    assert overlaps >= ROUNDS // 2, f"the requests overlapped in only {overlaps} of {ROUNDS} rounds"
    assert_log_whole()


def test_the_same_idempotency_key_sent_twice_at_once_creates_once(live_server, project_key):
    _owner, project, _guideline, secrets = project_key
    url = f"{live_server.url}/api/v1/guidelines"
    overlaps = replayed = 0
    for n in range(ROUNDS):
        body = {"organization": project.public_id, "slug": f"once-{n}", "title": f"Once {n}", "summary": ""}
        headers = {"Authorization": f"Bearer {secrets[0]}", "Idempotency-Key": f"create-once-{n}"}
        shots = race(*(functools.partial(requests.post, url, json=body, headers=headers, timeout=60) for _ in range(2)))
        overlaps += overlapped(shots)

        assert Guideline.objects.filter(organization=project, slug=f"once-{n}").count() == 1
        created = [s for s in shots if s.status == 201]
        conflicts = [s for s in shots if s.status == 409]
        # Either the second arrived while the first was in flight (409, retry later), or after it
        # finished and got the first answer replayed: never a second guideline, never a 400.
        assert (len(created), len(conflicts)) in {(1, 1), (2, 0)}, [(s.status, s.body) for s in shots]
        for conflict in conflicts:
            assert conflict.headers["Content-Type"] == "application/problem+json"
        if len(created) == 2:
            replayed += 1
            first, second = sorted(created, key=lambda s: s.headers.get("Idempotent-Replayed") == "true")
            assert second.headers.get("Idempotent-Replayed") == "true"
            assert "Idempotent-Replayed" not in first.headers
            assert second.body == first.body
        record = IdempotencyRecord.objects.get(key=f"create-once-{n}")
        assert record.state == IdempotencyRecord.State.COMPLETED
        assert record.status_code == 201
    assert overlaps >= ROUNDS // 2, f"the requests overlapped in only {overlaps} of {ROUNDS} rounds"
    print(f"idempotency race: {ROUNDS - replayed} rounds answered 409 to the second, {replayed} replayed")
    # The key was honoured after the race too: a later retry replays the first answer.
    late = requests.post(
        url,
        json={"organization": project.public_id, "slug": "once-0", "title": "Once 0", "summary": ""},
        headers={"Authorization": f"Bearer {secrets[0]}", "Idempotency-Key": "create-once-0"},
        timeout=60,
    )
    assert late.status_code == 201
    assert late.headers["Idempotent-Replayed"] == "true"
    assert_log_whole()
