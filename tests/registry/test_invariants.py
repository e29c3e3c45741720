"""docs/design.md's invariants, proven against the real database (SQLite by default, PostgreSQL in CI).

1. Every state change that matters commits with exactly one log leaf and one outbox event, in one
   transaction, or not at all: the log or the outbox is made to refuse its insert for real (a
   database trigger created by the test and dropped after), and the change must then be absent.
2. Published guideline versions and signed consents never change.
3. The log holds no personal data, and every real leaf verifies against signed checkpoints.
6. Bad input gets a 4xx problem document and changes no row of any table.

Invariants 4 (who sees what) and 5 (no event lost) are proven elsewhere: tests/security/
test_security_authorization_matrix.py, and tests/integration (webhook delivery, a killed worker).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from rest_framework.test import APIClient
from restu_verify import verify_checkpoint
from restu_verify.jcs import canonical_json as client_canonical_json
from restu_verify.merkle import leaf_hash, verify_consistency, verify_inclusion

from consent import services as consent_services
from consent.models import Consent, Subject, SubjectKey, SubjectProfile, Vouch
from guidelines import services as guideline_services
from guidelines.models import Attestation, AttestationSubject, GuidelineVersion, ProjectKey
from registry.accounts import services as account_services
from registry.accounts.models import Organization, User
from registry.accounts.presence import Presence
from registry.errors import DomainError
from registry.events.models import OutboxEvent
from registry.lib.signing import dsse_sign, generate_private_key, public_jwk
from registry.transparency.models import Checkpoint, LogEntry, LogNode, LogState
from registry.transparency.services import checkpoint_publish
from tests.database_state import database_snapshot
from tests.presence import fresh_presence

PASSWORD = "correct horse battery"
PROBLEM = "application/problem+json"
_n = itertools.count(1)


# --- the world the changes act on ------------------------------------------------------------------


def _person(name: str) -> User:
    return User.objects.create_user(f"{name.split()[0].lower()}{next(_n)}@example.org", PASSWORD, display_name=name)


def _org(owner: User, kind: str) -> Organization:
    n = next(_n)
    return account_services.organization_create(creator=owner, name=f"{kind} {n}", slug=f"{kind}-{n}", kind=kind)


def _witness() -> Presence:
    """A password re-authentication just now, as the witnessed signing and revoking paths need."""
    return Presence(authenticated_at=timezone.now(), second_factor=False, method="password")


def _today() -> date:
    return consent_services.today()


def _project() -> SimpleNamespace:
    owner = _person("Dewi Maintainer")
    return SimpleNamespace(owner=owner, project=_org(owner, "project"))


def _version(w: SimpleNamespace, *, publish: bool) -> GuidelineVersion:
    guideline = guideline_services.guideline_create(
        organization=w.project, actor_role="owner", slug=f"rules-{next(_n)}", title="Fair use"
    )
    version = guideline_services.guideline_version_create(
        guideline=guideline,
        actor_role="owner",
        actor=w.owner,
        version="1.0.0",
        body="# Use it fairly\n\nOnly with everyone's consent.\n",
        clauses=[{"key": "consent", "kind": "must", "text": "Get the consent of every person shown."}],
    )
    return guideline_services.guideline_version_publish(version=version, actor_role="owner") if publish else version


def _public_jwk() -> tuple[Any, dict[str, str]]:
    private = generate_private_key()
    jwk = public_jwk(private)
    del jwk["kid"]
    return private, jwk


def _project_key(w: SimpleNamespace) -> None:
    w.private, jwk = _public_jwk()
    w.key = guideline_services.project_key_add(
        organization=w.project, actor_role="owner", actor=w.owner, public_jwk=jwk, presence=_witness()
    )


def _envelope(w: SimpleNamespace) -> dict[str, Any]:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "tool-2.3.0.tar.gz", "digest": {"sha256": hashlib.sha256(b"tool").hexdigest()}}],
        "predicateType": "https://restu.example/attestation/guideline-conformance/v1",
        "predicate": {
            "guideline": w.version.ref,
            "clauses": {"consent": "met"},
            "safeguards": ["visible_watermark"],
            "release": {"version": "2.3.0", "url": "https://example.org/releases/2.3.0"},
        },
    }
    return dsse_sign("application/vnd.in-toto+json", json.dumps(statement).encode(), w.private, w.key.kid)


def _attesting_project() -> SimpleNamespace:
    w = _project()
    w.version = _version(w, publish=True)
    _project_key(w)
    return w


def _subject(name: str = "Sari Pemeran") -> SimpleNamespace:
    person = _person(name)
    subject = consent_services.subject_create(creator=person, display_name=name, status="living")
    return SimpleNamespace(person=person, subject=subject)


def _consent(*, sign: bool, until: date | None = None) -> SimpleNamespace:
    w = _subject()
    terms = {
        "effect": "permit",
        "grantee": "*",
        "media": ["face"],
        "activities": ["generate"],
        "purposes": ["film_tv"],
        "intended_use": "New scenes for a feature film shot in Jakarta",
        "territories": ["ID"],
        "valid_from": _today(),
        "valid_until": until or _today() + timedelta(days=365),
    }
    w.consent = consent_services.consent_create(subject=w.subject, actor=w.person, terms=terms)
    if sign:
        w.consent = consent_services.consent_sign(
            consent=w.consent, actor=w.person, method="witnessed", witness=_witness()
        )
    return w


def _with_project_key() -> SimpleNamespace:
    w = _project()
    _project_key(w)
    return w


def _with_attestation() -> SimpleNamespace:
    w = _attesting_project()
    w.attestation = guideline_services.attestation_store(project=w.project, actor_role="owner", envelope=_envelope(w))
    return w


def _with_subject_key() -> SimpleNamespace:
    w = _subject()
    _, jwk = _public_jwk()
    w.key = consent_services.subject_key_add(subject=w.subject, actor=w.person, public_jwk=jwk, presence=_witness())
    return w


def _with_guild() -> SimpleNamespace:
    w = _subject()
    w.officer = _person("Guild Officer")
    w.guild = _org(w.officer, "guild")
    w.guild.verified_at = timezone.now()  # only a guild verified by staff may vouch
    w.guild.save(update_fields=["verified_at"])
    return w


def _with_vouch() -> SimpleNamespace:
    w = _with_guild()
    w.vouch = consent_services.vouch_give(subject=w.subject, organization=w.guild, actor_role="owner", user=w.officer)
    return w


def _row(model: type[Model], pk: int, *fields: str) -> tuple[Any, ...]:
    return tuple(model.objects.filter(pk=pk).values_list(*fields).get())


@dataclass(frozen=True)
class Change:
    """One state change that matters: how to set it up, the one service call, and what it changes."""

    type: str  # the leaf type, and the outbox event type
    model: type[Model]  # whose rows the change writes
    prepare: Callable[[], SimpleNamespace]
    act: Callable[[SimpleNamespace], Model]  # returns the changed row
    state: Callable[[SimpleNamespace], Any]  # what a user would notice, read afresh from the database


CHANGES = [
    Change(
        "consent.signed",
        Consent,
        lambda: _consent(sign=False),
        lambda w: consent_services.consent_sign(
            consent=w.consent, actor=w.person, method="witnessed", witness=_witness()
        ),
        lambda w: _row(Consent, w.consent.pk, "status", "signed_at", "signature"),
    ),
    Change(
        "consent.revoked",
        Consent,
        lambda: _consent(sign=True),
        lambda w: consent_services.consent_revoke(consent=w.consent, actor=w.person, reason="", witness=_witness()),
        lambda w: _row(Consent, w.consent.pk, "status", "revoked_at"),
    ),
    Change(
        "consent.expired",
        Consent,
        lambda: _consent(sign=True, until=_today()),
        lambda w: consent_services.consent_expire(consent=w.consent, on=_today() + timedelta(days=1)),
        lambda w: _row(Consent, w.consent.pk, "status", "expired_at"),
    ),
    Change(
        "guideline.published",
        GuidelineVersion,
        lambda: SimpleNamespace(version=_version(_project(), publish=False)),
        lambda w: guideline_services.guideline_version_publish(version=w.version, actor_role="owner"),
        lambda w: _row(GuidelineVersion, w.version.pk, "status", "digest", "published_at"),
    ),
    Change(
        "guideline.retired",
        GuidelineVersion,
        lambda: SimpleNamespace(version=_version(_project(), publish=True)),
        lambda w: guideline_services.guideline_version_retire(version=w.version, actor_role="owner"),
        lambda w: _row(GuidelineVersion, w.version.pk, "status", "retired_at"),
    ),
    Change(
        "attestation.stored",
        Attestation,
        _attesting_project,
        lambda w: guideline_services.attestation_store(project=w.project, actor_role="owner", envelope=_envelope(w)),
        lambda w: (
            Attestation.objects.filter(project=w.project).count(),
            AttestationSubject.objects.filter(attestation__project=w.project).count(),
        ),
    ),
    Change(
        "attestation.revoked",
        Attestation,
        _with_attestation,
        lambda w: guideline_services.attestation_revoke(attestation=w.attestation, actor_role="owner", reason="bug"),
        lambda w: _row(Attestation, w.attestation.pk, "revoked_at", "revoked_reason"),
    ),
    Change(
        "project_key.added",
        ProjectKey,
        _project,
        lambda w: guideline_services.project_key_add(
            organization=w.project, actor_role="owner", actor=w.owner, public_jwk=_public_jwk()[1], presence=_witness()
        ),
        lambda w: ProjectKey.objects.filter(organization=w.project).count(),
    ),
    Change(
        "project_key.retired",
        ProjectKey,
        _with_project_key,
        lambda w: guideline_services.project_key_retire(key=w.key, actor_role="owner", presence=_witness()),
        lambda w: _row(ProjectKey, w.key.pk, "retired_at"),
    ),
    Change(
        "subject_key.added",
        SubjectKey,
        _subject,
        lambda w: consent_services.subject_key_add(
            subject=w.subject, actor=w.person, public_jwk=_public_jwk()[1], presence=_witness()
        ),
        lambda w: SubjectKey.objects.filter(subject=w.subject).count(),
    ),
    Change(
        "subject_key.retired",
        SubjectKey,
        _with_subject_key,
        lambda w: consent_services.subject_key_retire(key=w.key, actor=w.person, presence=_witness()),
        lambda w: _row(SubjectKey, w.key.pk, "retired_at"),
    ),
    Change(
        "vouch.given",
        Vouch,
        _with_guild,
        lambda w: consent_services.vouch_give(
            subject=w.subject, organization=w.guild, actor_role="owner", user=w.officer
        ),
        lambda w: (Vouch.objects.filter(subject=w.subject).count(), _row(Subject, w.subject.pk, "assurance")),
    ),
    Change(
        "vouch.revoked",
        Vouch,
        _with_vouch,
        lambda w: consent_services.vouch_revoke(vouch=w.vouch, actor_role="owner"),
        lambda w: (_row(Vouch, w.vouch.pk, "revoked_at"), _row(Subject, w.subject.pk, "assurance")),
    ),
]


# --- the whole database, and a table that refuses inserts --------------------------------------------


REFUSAL = "restu test: this table refuses inserts"


@contextlib.contextmanager
def _refusing_inserts(model: type[Model]) -> Iterator[None]:
    """A trigger that makes every INSERT into ``model``'s table fail, as a full disk or a broken
    replica would: the database itself refuses, no Python is patched. Dropped on the way out."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION restu_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER restu_test_refuse BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION restu_test_refuse()"
            )
            drop = [
                f"DROP TRIGGER IF EXISTS restu_test_refuse ON {table}",
                "DROP FUNCTION IF EXISTS restu_test_refuse()",
            ]
        else:
            cursor.execute(
                f"CREATE TRIGGER restu_test_refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
            drop = ["DROP TRIGGER IF EXISTS restu_test_refuse"]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in drop:
                cursor.execute(statement)


@contextlib.contextmanager
def _writes(change: Change) -> Iterator[list[tuple[str, object]]]:
    """Record each write to the changed table, the log and the outbox, with the outermost
    transaction (Django's atomic block) it ran in."""
    q = connection.ops.quote_name
    kinds = {
        "row": [q(change.model._meta.db_table)],
        "log": [q(m._meta.db_table) for m in (LogEntry, LogNode, LogState)],
        "outbox": [q(OutboxEvent._meta.db_table)],
    }
    seen: list[tuple[str, object]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        verb = sql.lstrip().split(None, 1)[0].upper()
        for kind, names in kinds.items():
            # On PostgreSQL the whole append is one call of migration 0003's function.
            appends = kind == "log" and "restu_log_append(" in sql
            if appends or (verb in ("INSERT", "UPDATE", "DELETE") and any(f" {name}" in sql for name in names)):
                seen.append((kind, connection.atomic_blocks[0] if connection.atomic_blocks else None))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


# --- invariant 1: all or none ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", CHANGES, ids=[c.type for c in CHANGES])
def test_a_change_commits_with_exactly_one_leaf_and_one_event_in_its_own_transaction(change: Change) -> None:
    w = change.prepare()
    before = change.state(w)
    leaves = LogEntry.objects.count()
    events = set(OutboxEvent.objects.values_list("pk", flat=True))

    with _writes(change) as writes:
        changed = change.act(w)

    assert changed is not None
    assert change.state(w) != before, "the service returned but its change is not in the database"
    [leaf] = LogEntry.objects.filter(index__gte=leaves)
    assert (leaf.type, leaf.ref) == (change.type, changed.public_id)
    body = json.loads(bytes(leaf.leaf))
    assert set(body) == {"type", "id", "digest", "at"}
    assert (body["type"], body["id"], body["digest"]) == (leaf.type, leaf.ref, leaf.digest)
    [event] = OutboxEvent.objects.exclude(pk__in=events)
    assert event.type == change.type
    names = {changed.public_id, getattr(changed, "kid", None), leaf.digest}
    assert names & {v for v in event.payload.values() if isinstance(v, str)}, (
        f"the event names neither the row nor the leaf: {event.payload}"
    )
    # The row, the leaf and the event were written inside one and the same outermost transaction
    # (the service's own: these tests run without a surrounding test transaction).
    assert {kind for kind, _ in writes} == {"row", "log", "outbox"}, writes
    outermost = {id(block) for _, block in writes}
    assert None not in {block for _, block in writes}, "a write ran outside any transaction"
    assert len(outermost) == 1, "the row, its leaf and its event were committed in separate transactions"


# Inside the test's transaction (fast): the service's atomic block is then a savepoint, and a row
# it wrote outside that block, or kept after swallowing the error, would still be seen below.
@pytest.mark.django_db
@pytest.mark.parametrize("down", [LogEntry, OutboxEvent], ids=["log-refuses", "outbox-refuses"])
@pytest.mark.parametrize("change", CHANGES, ids=[c.type for c in CHANGES])
def test_when_the_log_or_the_outbox_refuses_its_write_the_change_does_not_happen(
    change: Change, down: type[Model]
) -> None:
    w = change.prepare()
    state, rows = change.state(w), database_snapshot()

    with _refusing_inserts(down), pytest.raises(DatabaseError, match="restu test"):
        change.act(w)

    assert change.state(w) == state, f"{change.type}: the change is visible although its {down.__name__} failed"
    after = database_snapshot()
    assert after == rows, [label for label in rows if after[label] != rows[label]]
    # And the service works again once the database does: the failure left no lock or gap behind.
    for value in vars(w).values():
        if isinstance(value, Model):
            value.refresh_from_db()  # as the next request would read it
    assert change.act(w) is not None
    assert change.state(w) != state
    assert list(LogEntry.objects.values_list("index", flat=True)) == list(range(LogEntry.objects.count()))


# --- invariant 2: published versions and signed consents never change -----------------------------


def _frozen_world() -> SimpleNamespace:
    """A published and a retired version, an active, a revoked and an expired consent, and their makers."""
    w = _project()
    w.published = _version(w, publish=True)
    w.retired = guideline_services.guideline_version_retire(version=_version(w, publish=True), actor_role="owner")
    c = _consent(sign=True)
    w.person, w.subject, w.active = c.person, c.subject, c.consent
    terms = {
        "effect": "deny",
        "grantee": "*",
        "media": ["voice"],
        "purposes": ["political"],
        "intended_use": "No political robocalls in my voice",
        "territories": ["*"],
        "valid_from": _today(),
        "valid_until": _today(),
    }
    revoked = consent_services.consent_create(subject=w.subject, actor=w.person, terms=terms)
    revoked = consent_services.consent_sign(consent=revoked, actor=w.person, method="witnessed", witness=_witness())
    w.revoked = consent_services.consent_revoke(consent=revoked, actor=w.person, reason="", witness=_witness())
    expiring = consent_services.consent_create(subject=w.subject, actor=w.person, terms={**terms, "media": ["face"]})
    expiring = consent_services.consent_sign(consent=expiring, actor=w.person, method="witnessed", witness=_witness())
    w.expired = consent_services.consent_expire(consent=expiring, on=_today() + timedelta(days=1))
    return w


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


# Every field a client could try to change on a version or a consent, with a plausible new value.
VERSION_EDITS = [
    {"body": "# Anything goes now\n"},
    {"clauses": [{"key": "consent", "kind": "should", "text": "Consent is nice to have."}]},
    {"translations": {"id": {"body": "# Bebas\n", "clauses": {"consent": "Opsional."}}}},
    {"language": "id"},
]
CONSENT_EDITS = [
    {"territories": ["*"]},
    {"media": ["likeness"]},
    {"purposes": ["political"]},
    {"valid_until": None},
    {"intended_use": "Anything at all"},
    {"grantee": "*", "production": "Another film"},
    {"revocation": {"policy": "notice", "notice_days": 365}},
]


@pytest.mark.django_db
def test_published_versions_and_signed_consents_refuse_every_edit_through_the_api() -> None:
    w = _frozen_world()
    maintainer, person = APIClient(), APIClient()
    maintainer.force_authenticate(w.owner)
    person.force_authenticate(w.person)
    rows = database_snapshot()
    attempts = 0
    for version in (w.published, w.retired):
        path = f"/api/v1/guidelines/{version.guideline.slug}/versions/{version.version}"
        for edit in VERSION_EDITS:
            _problem(maintainer.patch(path, edit, format="json"), 409)
            attempts += 1
        _problem(maintainer.post(f"{path}/publish"), 409)
        attempts += 1
    for consent in (w.active, w.revoked, w.expired):
        path = f"/api/v1/consents/{consent.public_id}"
        for edit in CONSENT_EDITS:
            _problem(person.patch(path, edit, format="json"), 409)
            attempts += 1
        _problem(person.post(f"{path}/sign", {"method": "witnessed"}, format="json"), 409)
        attempts += 1
    after = database_snapshot()
    assert after == rows, [label for label in rows if after[label] != rows[label]]
    assert attempts == 2 * (len(VERSION_EDITS) + 1) + 3 * (len(CONSENT_EDITS) + 1)


@pytest.mark.django_db
def test_the_services_refuse_to_edit_retired_versions_and_revoked_or_expired_consents() -> None:
    # The API test above goes through these too; here each refusal is the service's own (DomainError 409).
    w = _frozen_world()
    rows = database_snapshot()
    for version in (w.published, w.retired):
        with pytest.raises(DomainError) as refused:
            guideline_services.guideline_version_update(version=version, actor_role="owner", body="Changed")
        assert refused.value.status == 409
    for consent in (w.active, w.revoked, w.expired):
        with pytest.raises(DomainError) as refused:
            consent_services.consent_update(consent=consent, actor=w.person, changes={"territories": ["*"]})
        assert refused.value.status == 409
    assert database_snapshot() == rows


@pytest.mark.django_db
def test_staff_cannot_edit_a_published_version_or_a_signed_consent_in_the_admin(client: Any) -> None:
    w = _frozen_world()
    staff = User.objects.create_superuser("staff@example.org", PASSWORD)
    client.force_login(staff)
    rows = database_snapshot()
    for model, obj, field, value in (
        ("guidelines/guidelineversion", w.published, "body", "# Staff rewrote this\n"),
        ("consent/consent", w.active, "intended_use", "Staff rewrote this"),
    ):
        response = client.post(f"/admin/{model}/{obj.pk}/change/", {field: value})
        assert response.status_code == 403, (model, response.status_code)
    assert database_snapshot() == rows


# Below the services, the database guards the invariant too (triggers from guidelines migration
# 0002 and consent migration 0003): a plain ORM save() or update() of a frozen column is refused.
# Each attempt runs in a savepoint, as a caller that goes on would need: on PostgreSQL a refused
# statement aborts the transaction around it.


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["save", "update"])
def test_the_orm_cannot_rewrite_a_published_version(how: str) -> None:
    version = _version(_project(), publish=True)
    body = version.body
    with pytest.raises(IntegrityError, match="a published guideline version never changes"), transaction.atomic():
        if how == "save":
            version.body = "# Rewritten behind the services' back\n"
            version.save()
        else:
            GuidelineVersion.objects.filter(pk=version.pk).update(body="# Rewritten behind the services' back\n")
    assert GuidelineVersion.objects.get(pk=version.pk).body == body


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["save", "update"])
def test_the_orm_cannot_rewrite_a_signed_consent(how: str) -> None:
    consent = _consent(sign=True).consent
    terms = (consent.territories, consent.terms, consent.digest)
    with pytest.raises(IntegrityError, match="a signed consent's terms never change"), transaction.atomic():
        if how == "save":
            consent.territories = ["*"]
            consent.terms = {**consent.terms, "territories": ["*"]}
            consent.save()
        else:
            Consent.objects.filter(pk=consent.pk).update(territories=["*"], territory_codes="*")
    stored = Consent.objects.get(pk=consent.pk)
    assert (stored.territories, stored.terms, stored.digest) == terms


# --- invariant 3: no personal data in the log; every real leaf verifies -----------------------------


def _personal_data() -> set[str]:
    """Every name, email address and free text about a person that the database holds now."""
    found: set[str] = set()
    for email, name in User.objects.values_list("email", "display_name"):
        found |= {email, name}
    for name, bio in SubjectProfile.objects.values_list("display_name", "bio"):
        found |= {name, bio}
    found |= set(Consent.objects.values_list("revocation_reason", flat=True))
    found |= set(Attestation.objects.values_list("revoked_reason", flat=True))
    return {text for text in found if text and len(text) >= 4}


def _log_world() -> None:
    """The demo data, then one of every other logged change, each carrying names in its free text."""
    call_command("demo_consents", stdout=io.StringIO())
    call_command("demo_guidelines", stdout=io.StringIO())
    checkpoint_publish()
    performer = User.objects.get(email="performer@demo.restu.example")
    subject = Subject.objects.get(representatives__user=performer)
    consent = Consent.objects.filter(subject=subject, status="active").first()
    consent_services.consent_revoke(
        consent=consent,
        actor=performer,
        reason="Sari Pemeran <performer@demo.restu.example> changed her mind",
        witness=_witness(),
    )
    _, jwk = _public_jwk()
    key = consent_services.subject_key_add(subject=subject, actor=performer, public_jwk=jwk, presence=_witness())
    consent_services.subject_key_retire(key=key, actor=performer, presence=_witness())
    officer = User.objects.get(email="guild@demo.restu.example")
    guild = Organization.objects.get(slug="performers-guild-jakarta")
    vouch = consent_services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=officer)
    consent_services.vouch_revoke(vouch=vouch, actor_role="owner")
    minor = _person("Budi Kecil Guardian")
    child = consent_services.subject_create(
        creator=minor,
        display_name="Budi Kecil",
        status="minor",
        adult_on=_today() + timedelta(days=400),
        bio="Child actor from Bandung, budi.kecil@example.org",
    )
    ending = consent_services.consent_create(
        subject=child,
        actor=minor,
        terms={
            "effect": "permit",
            "grantee": "*",
            "media": ["voice"],
            "purposes": ["education"],
            "intended_use": "Budi Kecil reads a school lesson",
            "territories": ["ID"],
            "valid_from": _today(),
            "valid_until": _today(),
        },
    )
    ending = consent_services.consent_sign(consent=ending, actor=minor, method="witnessed", witness=_witness())
    consent_services.consent_expire(consent=ending, on=_today() + timedelta(days=1))
    attestation = Attestation.objects.get()
    guideline_services.attestation_revoke(
        attestation=attestation, actor_role="owner", reason="Dewi Maintainer found a bug in the watermark"
    )
    guideline_services.project_key_retire(key=attestation.key, actor_role="owner", presence=_witness())
    guideline_services.guideline_version_retire(version=attestation.guideline_version, actor_role="owner")
    checkpoint_publish()


@pytest.mark.django_db
def test_no_leaf_and_no_served_log_byte_carries_a_name_or_an_email(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100000/min"},
    }
    _log_world()
    leaves = list(LogEntry.objects.order_by("index"))
    # One of every change the services log, so every leaf shape is looked at.
    assert {leaf.type for leaf in leaves} >= {c.type for c in CHANGES}
    secrets = _personal_data()
    assert {"performer@demo.restu.example", "Sari Pemeran", "Budi Kecil", "Dewi Maintainer"} <= secrets
    anon = APIClient()
    size = len(leaves)
    paths = [
        f"/api/v1/log/entries?start=0&end={size}",
        f"/api/v1/log/tile/entries/000.p/{size}",
        "/api/v1/log/checkpoint",
        *(f"/api/v1/log/entries/{leaf.index}" for leaf in leaves),
    ]
    responses = [anon.get(path) for path in paths]
    assert [r.status_code for r in responses] == [200] * len(paths)
    served = [bytes(leaf.leaf) for leaf in leaves] + [r.content for r in responses]
    for blob in served:
        assert blob, "an empty answer proves nothing"
        text = blob.decode("utf-8", errors="replace").casefold()
        leaked = sorted(secret for secret in secrets if secret.casefold() in text)
        assert not leaked, f"personal data in the log: {leaked}"
    for leaf in leaves:
        body = json.loads(bytes(leaf.leaf))
        assert set(body) == {"type", "id", "digest", "at"}
        assert body["id"].split("_", 1)[0] in {"con", "gdv", "att", "pky", "sjk", "vch", "org"}, body["id"]


@pytest.mark.django_db
def test_every_real_leaf_verifies_by_inclusion_and_the_checkpoints_by_consistency(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "100000/min"},
    }
    _log_world()
    anon = APIClient()
    vkey = anon.get("/api/v1/log/key").content.decode().strip()
    head = verify_checkpoint(anon.get("/api/v1/log/checkpoint").content.decode(), vkey)
    entries = anon.get(f"/api/v1/log/entries?start=0&end={head.size}").json()["entries"]
    assert [e["index"] for e in entries] == list(range(head.size))
    assert head.size == LogEntry.objects.count()
    for entry in entries:
        hashed = leaf_hash(client_canonical_json(entry["leaf"]))
        proof = anon.get(f"/api/v1/log/proof/inclusion?index={entry['index']}&tree_size={head.size}").json()
        path = [base64.b64decode(h) for h in proof["audit_path"]]
        assert verify_inclusion(entry["index"], head.size, hashed, path, head.root), entry["leaf"]
    sizes = sorted(Checkpoint.objects.values_list("size", flat=True))
    assert len(sizes) == 2
    assert 0 < sizes[0] < sizes[1] == head.size
    first = Checkpoint.objects.get(size=sizes[0])
    proof = anon.get(f"/api/v1/log/proof/consistency?first={sizes[0]}&second={head.size}").json()["proof"]
    assert verify_consistency(sizes[0], head.size, [base64.b64decode(h) for h in proof], bytes(first.root), head.root)


# --- invariant 6: bad input gets a 4xx problem document and changes nothing -------------------------


def _bad_input_world() -> SimpleNamespace:
    w = _frozen_world()
    w.draft = consent_services.consent_create(
        subject=w.subject,
        actor=w.person,
        terms={
            "effect": "permit",
            "grantee": "*",
            "media": ["face"],
            "purposes": ["art"],
            "intended_use": "A gallery installation",
            "territories": ["ID"],
            "valid_from": _today(),
        },
    )
    w.version_draft = guideline_services.guideline_version_create(
        guideline=w.published.guideline,
        actor_role="owner",
        actor=w.owner,
        version="2.0.0",
        body="# Draft\n",
        clauses=[{"key": "consent", "kind": "must", "text": "Ask first."}],
    )
    _project_key(w)
    w.version = w.published
    w.attestation = guideline_services.attestation_store(project=w.project, actor_role="owner", envelope=_envelope(w))
    studio_owner = _person("Budi Studio")
    w.studio = _org(studio_owner, "studio")
    issued = account_services.api_key_create(
        organization=w.studio, creator=studio_owner, actor_role="owner", name="ci", presence=fresh_presence()
    )
    w.studio_key = APIClient()
    w.studio_key.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    w.person_api, w.maintainer_api = APIClient(), APIClient()
    # Signed in moments ago, as a sensitive action needs: the bad input itself is what is refused.
    w.person_api.force_login(w.person)
    reauthenticated = w.person_api.post("/accounts/reauthenticate/", {"password": PASSWORD}, format="multipart")
    assert reauthenticated.status_code == 302, reauthenticated.content[:300]
    w.maintainer_api.force_login(w.owner)
    reauthenticated = w.maintainer_api.post("/accounts/reauthenticate/", {"password": PASSWORD}, format="multipart")
    assert reauthenticated.status_code == 302, reauthenticated.content[:300]
    w.stale_api = APIClient()  # signed in long ago: no proof of presence
    w.stale_api.force_authenticate(w.person)
    return w


def _query(w: SimpleNamespace, **changes: Any) -> dict[str, Any]:
    return {
        "subject": w.subject.public_id,
        "medium": "face",
        "activity": "generate",
        "purpose": "film_tv",
        "territory": "ID",
        "date": _today().isoformat(),
        **changes,
    }


def _bad_requests(w: SimpleNamespace) -> list[tuple[str, APIClient, str, str, Any, dict[str, str], int]]:
    """(what, client, method, path, JSON body or raw bytes, headers, expected status)."""
    sub, con, draft = w.subject.public_id, w.active.public_id, w.draft.public_id
    guideline = w.published.guideline.slug
    _, jwk = _public_jwk()
    tampered = _envelope(w)
    tampered["payload"] = base64.b64encode(b'{"_type": "forged"}').decode()
    person, maintainer, studio, anon = w.person_api, w.maintainer_api, w.studio_key, APIClient()
    terms = {
        "subject": sub,
        "effect": "permit",
        "grantee": "*",
        "media": ["face"],
        "purposes": ["art"],
        "intended_use": "A gallery installation",
        "territories": ["ID"],
        "valid_from": _today().isoformat(),
    }
    return [
        (
            "unknown subject status",
            person,
            "post",
            "/api/v1/subjects",
            {"display_name": "X", "status": "undead"},
            {},
            400,
        ),
        (
            "a minor without adult_on",
            person,
            "post",
            "/api/v1/subjects",
            {"display_name": "X", "status": "minor"},
            {},
            400,
        ),
        (
            "an RSA subject key",
            person,
            "post",
            f"/api/v1/subjects/{sub}/keys",
            {"public_jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
            {},
            400,
        ),
        (
            "an unknown field",
            person,
            "post",
            f"/api/v1/subjects/{sub}/keys",
            {"public_jwk": jwk, "admin": True},
            {},
            400,
        ),
        ("an unknown medium", person, "post", "/api/v1/consents", {**terms, "media": ["smell"]}, {}, 400),
        (
            "an end before the start",
            person,
            "post",
            "/api/v1/consents",
            {**terms, "valid_until": (_today() - timedelta(days=2)).isoformat()},
            {},
            400,
        ),
        ("an unknown territory", person, "post", "/api/v1/consents", {**terms, "territories": ["XX"]}, {}, 400),
        ("malformed JSON", person, "post", "/api/v1/consents", b'{"subject": ', {}, 400),
        ("not JSON at all", person, "post", "/api/v1/consents", b"subject=sub_x", {"CONTENT_TYPE": "text/plain"}, 415),
        (
            "a stale If-Match",
            person,
            "patch",
            f"/api/v1/consents/{draft}",
            {"territories": ["MY"]},
            {"HTTP_IF_MATCH": '"stale"'},
            412,
        ),
        (
            "a signature over nothing",
            person,
            "post",
            f"/api/v1/consents/{draft}/sign",
            {"method": "subject_key", "signature": "a.b.c"},
            {},
            400,
        ),
        (
            "an unknown signing method",
            person,
            "post",
            f"/api/v1/consents/{draft}/sign",
            {"method": "telepathy"},
            {},
            400,
        ),
        (
            "witnessed without re-authenticating",
            w.stale_api,
            "post",
            f"/api/v1/consents/{draft}/sign",
            {"method": "witnessed"},
            {},
            403,
        ),
        (
            "revoking without re-authenticating",
            w.stale_api,
            "post",
            f"/api/v1/consents/{con}/revoke",
            {"reason": "x"},
            {},
            403,
        ),
        ("an unknown kind of dispute", person, "post", f"/api/v1/subjects/{sub}/disputes", {"kind": "bored"}, {}, 400),
        (
            # A private subject reads as missing to a stranger, before the body is looked at (no
            # existence oracle: a missing id answers the same).
            "a vouch by a studio for a subject it cannot see",
            studio,
            "post",
            f"/api/v1/subjects/{sub}/vouches",
            {"organization": w.studio.public_id},
            {},
            404,
        ),
        (
            "a bad guideline slug",
            maintainer,
            "post",
            "/api/v1/guidelines",
            {"organization": w.project.public_id, "slug": "Bad Slug!", "title": "x"},
            {},
            400,
        ),
        (
            "a version that is not semver",
            maintainer,
            "post",
            f"/api/v1/guidelines/{guideline}/versions",
            {"version": "one", "body": "x", "clauses": []},
            {},
            400,
        ),
        (
            "a version that exists",
            maintainer,
            "post",
            f"/api/v1/guidelines/{guideline}/versions",
            {"version": "1.0.0", "body": "x", "clauses": []},
            {},
            400,
        ),
        (
            "a private project key",
            maintainer,
            "post",
            f"/api/v1/organizations/{w.project.public_id}/keys",
            {"public_jwk": {**jwk, "d": jwk["x"]}},
            {},
            400,
        ),
        ("a tampered attestation", maintainer, "post", "/api/v1/attestations", {"envelope": tampered}, {}, 400),
        (
            "the same attestation twice",
            maintainer,
            "post",
            "/api/v1/attestations",
            {"envelope": w.attestation.envelope},
            {},
            409,
        ),
        (
            "an unknown kind of organization",
            maintainer,
            "post",
            "/api/v1/organizations",
            {"name": "Empire", "slug": "empire", "kind": "empire"},
            {},
            400,
        ),
        (
            "a proof for localhost",
            maintainer,
            "post",
            f"/api/v1/organizations/{w.project.public_id}/proofs",
            {"kind": "domain", "target": "localhost"},
            {},
            400,
        ),
        ("an unknown medium to verify", studio, "post", "/api/v1/verifications", _query(w, medium="smell"), {}, 400),
        (
            "one bad query in a bulk",
            studio,
            "post",
            "/api/v1/verifications/bulk",
            {"queries": [_query(w), _query(w, territory="XX")]},
            {},
            400,
        ),
        ("an over-long bulk", studio, "post", "/api/v1/verifications/bulk", {"queries": [_query(w)] * 1001}, {}, 400),
        ("a bad token request", studio, "post", "/api/v1/consent-tokens", _query(w, date="tomorrow"), {}, 400),
        (
            "a release with no appearances",
            studio,
            "post",
            "/api/v1/releases",
            {"title": "Film", "release_date": _today().isoformat(), "territories": ["ID"], "appearances": []},
            {},
            400,
        ),
        (
            "an empty Idempotency-Key",
            studio,
            "post",
            "/api/v1/releases",
            {
                "title": "Film",
                "release_date": _today().isoformat(),
                "territories": ["ID"],
                "appearances": [{"subject": sub, "media": ["face"], "purpose": "film_tv"}],
            },
            {"HTTP_IDEMPOTENCY_KEY": ""},
            400,
        ),
        (
            "a webhook to a private address",
            studio,
            "post",
            "/api/v1/webhooks",
            {"url": "http://127.0.0.1:9/hook", "events": ["consent.revoked"]},
            {},
            400,
        ),
        (
            "a webhook for an unknown event",
            studio,
            "post",
            "/api/v1/webhooks",
            {"url": "https://example.org/hook", "events": ["consent.stolen"]},
            {},
            400,
        ),
        (
            "a body over the limit",
            studio,
            "post",
            "/api/v1/webhooks",
            {"url": "https://example.org/hook", "events": ["consent.revoked"], "description": "x" * 1_100_000},
            {},
            413,
        ),
        ("an anonymous draft", anon, "post", "/api/v1/consents", terms, {}, 401),
        ("a negative proof index", anon, "get", "/api/v1/log/proof/inclusion?index=-1&tree_size=1", None, {}, 400),
        ("a backwards entry range", anon, "get", "/api/v1/log/entries?start=5&end=1", None, {}, 400),
    ]


@pytest.mark.django_db
def test_bad_input_gets_a_problem_document_and_changes_no_row_of_any_table() -> None:
    w = _bad_input_world()
    assert w.studio_key.get("/api/v1/webhooks").status_code == 200  # the key's last use is now recorded
    requests = _bad_requests(w)
    for what, client, method, path, body, headers, status in requests:
        before = database_snapshot()
        if isinstance(body, bytes):
            response = getattr(client, method)(path, body, content_type=headers.pop("CONTENT_TYPE", "application/json"))
        elif body is None:
            response = getattr(client, method)(path, **headers)
        else:
            response = getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)
        assert response.status_code == status, (what, response.status_code, response.content[:300])
        _problem(response, status)
        after = database_snapshot()
        assert after == before, f"{what}: wrote to {[label for label in before if after[label] != before[label]]}"
    assert len(requests) > 30


# --- invariant 1, the registry's own keys ---------------------------------------------------------


@pytest.mark.django_db
def test_a_registry_key_rotation_whose_leaves_fail_leaves_the_active_key_as_it_was(
    settings: Any, tmp_path: Any
) -> None:
    from registry import keys

    settings.REGISTRY_SIGNING_KEY_FILE = tmp_path / "registry-keys.json"
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    active = keys.keyring().active(keys.RECEIPT).kid
    with _refusing_inserts(LogEntry), contextlib.suppress(DatabaseError):
        call_command("registry_keys", "rotate", keys.RECEIPT, stdout=io.StringIO())
    assert not LogEntry.objects.exists()
    # The rotation did not happen either: receipts are still signed by the key the log knows.
    assert keys.keyring().active(keys.RECEIPT).kid == active
