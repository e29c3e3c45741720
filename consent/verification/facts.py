"""Reading a subject's decision facts and signed consents for the hot path: plain SQL, plain rows,
a constant number of queries whatever the subject's number of consents."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from django.db import connection

from consent import vocabulary as v
from consent.models import Consent, ConsentEvent, Subject, SubjectProfile, Vouch
from consent.rules.decision import (
    ConsentFacts,
    SubjectFacts,
)
from registry.accounts.models import Organization
from registry.lib.ids import looks_like_public_id
from registry.lib.prepared import Statement


class _Known:
    """A subject found by ``_load``: its row id, its facts, and its signed consents in id order."""

    __slots__ = ("consents", "facts", "pk")

    def __init__(self, pk: int, facts: SubjectFacts) -> None:
        self.pk = pk
        self.facts = facts
        # (facts, row id, signed event's log index).
        self.consents: list[tuple[ConsentFacts, int, int | None]] = []


_ROW_ID = itemgetter(1)  # of ``_Known.consents`` items
_CANDIDATE_ID = itemgetter(5)  # of a ``Candidate`` on the bulk path: the consent's row id
_EVERYWHERE = frozenset({"*"})
# ``territory_codes`` values repeat a great deal ("*", "|FR|US|", ...): parse each once per process.
_TERRITORY_SETS: dict[str, frozenset[str]] = {"*": _EVERYWHERE}


def _territories(codes: str) -> frozenset[str]:
    found = _TERRITORY_SETS.get(codes)
    if found is None:
        found = frozenset(code for code in codes.split("|") if code)
        if len(_TERRITORY_SETS) < 50_000:  # bounded: the set of combinations is small in practice
            _TERRITORY_SETS[codes] = found
    return found


# A consent's decision facts, in ``ConsentFacts``' order, then its conditions: read by both paths.
_FACT_COLUMNS = (
    "c.public_id, c.effect, c.status, c.grantee, c.production, c.media_mask, c.activity_mask, c.purpose_mask, "
    "c.territory_codes, c.valid_from, c.valid_until, c.revocation_effective_at, c.digest, {conditions}"
)


def _facts(row: Sequence[Any], at: int, postgres: bool) -> ConsentFacts:
    """The ``ConsentFacts`` in ``row[at:at + 14]`` (``_FACT_COLUMNS``)."""
    valid_from = row[at + 9] if postgres else _day(row[at + 9])
    if valid_from is None:  # NOT NULL in the schema: a row without it is not a consent
        raise ValueError("a consent row without valid_from")
    return ConsentFacts(
        row[at],
        row[at + 1],
        row[at + 2],
        row[at + 3],
        row[at + 4],
        row[at + 5],
        row[at + 6],
        row[at + 7],
        _territories(row[at + 8]),
        valid_from,
        row[at + 10] if postgres else _day(row[at + 10]),
        row[at + 11] if postgres else _moment(row[at + 11]),
        row[at + 12],
        _conditions(row[at + 13]),
    )


def _load(subject_ids: Iterable[str], *, grantee: str | None = None) -> dict[str, _Known]:
    """Subjects by public id with their signed consents: ONE query, however many subjects.

    ``grantee``: only the consents naming that organization or everyone, the only ones that can
    change its answer (``decision.weigh``), so that a person hidden from it costs the same to read
    whatever they agreed with others; None: every signed consent (for their representatives).

    Plain SQL with a left join (a subject with no signed consent still answers), because building
    and compiling the equivalent ORM querysets cost more than PostgreSQL spends answering them; the
    rows become the decision's plain values directly.
    """
    wanted = sorted({sid for sid in subject_ids if looks_like_public_id(sid, Subject.PREFIX)})
    # A made-up id still runs the query, so it costs the same work as a real one.
    postgres = connection.vendor == "postgresql"
    granted = [grantee] if grantee is not None else []
    with connection.cursor() as cursor:
        if postgres:
            # Public ids never contain a comma.
            _LOAD_PG[grantee is not None].execute(cursor, [",".join(wanted), *granted])
        else:
            placeholders = ", ".join(["%s"] * len(wanted)) if wanted else "NULL"
            cursor.execute(_LOAD_SQL_OTHER[grantee is not None].format(placeholders=placeholders), [*granted, *wanted])
        rows = cursor.fetchall()
    known: dict[str, _Known] = {}
    for row in rows:
        subject = known.get(row[1])
        if subject is None:
            adult_on = row[3] if postgres else _day(row[3])
            subject = known[row[1]] = _Known(
                row[0],
                _subject_facts(
                    status=row[2],
                    stored_assurance=row[4],
                    vouched=bool(row[23]),
                    disputed=bool(row[5]),
                    # A coming-of-age date matters only while the subject is recorded as a minor.
                    adult_on=adult_on if row[2] == Subject.Status.MINOR else None,
                    public=bool(row[6]),
                ),
            )
        if row[7] is not None:  # None: the left join found no signed consent
            subject.consents.append((_facts(row, 9, postgres), row[7], row[8]))
    # Each subject's consents in id order, as the ORM's default ordering had them (the first matching
    # deny is the one cited); sorting here costs less than an ORDER BY over the joined rows.
    for subject in known.values():
        subject.consents.sort(key=_ROW_ID)
    return known


# Whose representative's authority (a guardianship, an executorship) needs a verified vouch.
_AUTHORITY_STATUSES = frozenset((Subject.Status.MINOR, Subject.Status.DECEASED))


def _subject_facts(
    *, status: str, stored_assurance: str, vouched: bool, disputed: bool, adult_on: date | None, public: bool
) -> SubjectFacts:
    """The decision's facts about a subject; ``vouched``: a verified guild or agency vouches now.

    The stored level is what the services last computed; ``vouched`` is read with every answer,
    because the level is ``vouched`` only while a verified guild or agency stands behind it
    (docs/api.md "Identity assurance"). A stored ``vouched`` with no such vouch (its organization lost
    its verification, or vouched before verification was required) reads as the lowest level:
    what lies beneath it is not in the row, and an answer must never claim more than it knows.
    """
    assurance: str
    if vouched:
        assurance = Subject.Assurance.VOUCHED
    elif stored_assurance == Subject.Assurance.VOUCHED:
        assurance = Subject.Assurance.SELF_ASSERTED
    else:
        assurance = stored_assurance
    return SubjectFacts(
        assurance=assurance,
        disputed=disputed,
        adult_on=adult_on,
        public=public,
        authority_unverified=status in _AUTHORITY_STATUSES and not vouched,
    )


def _vouched_sql(subject_id: str = "s.id") -> str:
    """Whether a verified guild or agency vouches for the subject ``subject_id`` now (``Organization.may_vouch``)."""
    vouch, organization = Vouch._meta.db_table, Organization._meta.db_table
    kinds = ", ".join(f"'{kind}'" for kind in (Organization.Kind.GUILD, Organization.Kind.AGENCY))
    return (
        f"EXISTS (SELECT 1 FROM {vouch} v JOIN {organization} o ON o.id = v.organization_id "  # noqa: S608 — names from the models
        f"WHERE v.subject_id = {subject_id} AND v.revoked_at IS NULL "
        f"AND o.verified_at IS NOT NULL AND o.kind IN ({kinds}))"
    )


def _conditions(text: Any) -> dict[str, Any]:
    if text is None or text == "{}":
        return {}
    return json.loads(text) if isinstance(text, str) else dict(text)


def _day(value: Any) -> date | None:
    # Raw rows skip the ORM's converters: SQLite may answer dates as text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _moment(value: Any) -> datetime | None:
    # SQLite keeps UTC without an offset (text, or a naive datetime through its converters).
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _tables() -> tuple[str, str, str, str]:
    s, p, c, e = (model._meta.db_table for model in (Subject, SubjectProfile, Consent, ConsentEvent))
    return s, p, c, e


def _load_sql(*, postgres: bool, granted: bool) -> str:
    # Table names come from the models, every value is a parameter.
    s, p, c, e = _tables()
    columns = (
        "SELECT s.id, s.public_id, s.status, s.adult_on, s.assurance, s.disputed, p.is_public, c.id, "  # noqa: S608
        # The signed event's log index, as the ORM subquery had it (events ordered by time, then id).
        f"(SELECT e.log_index FROM {e} e WHERE e.consent_id = c.id AND e.type = 'signed' "
        "ORDER BY e.at, e.id LIMIT 1), "
        + _FACT_COLUMNS.format(conditions="c.conditions::text" if postgres else "c.conditions")
        + f", {_vouched_sql()} "
    )
    joins = f"LEFT JOIN {p} p ON p.subject_id = s.id LEFT JOIN {c} c ON c.subject_id = s.id AND c.status <> 'draft' "
    if granted:
        joins += f"AND (c.grantee = '{v.ANY}' OR c.grantee = %s) "
    if postgres:
        # Joining from the array makes PostgreSQL probe the public id index once per id; with
        # ``IN (...)`` it preferred scanning the whole subject table.
        return (
            columns + "FROM unnest(string_to_array(%s, ',')) AS wanted(public_id) "
            f"JOIN {s} s ON s.public_id = wanted.public_id " + joins
        )
    return columns + f"FROM {s} s " + joins + "WHERE s.public_id IN ({placeholders})"


# By whether the read is limited to one grantee's consents (``_load``).
_LOAD_PG = {
    granted: Statement(f"subject_facts_{'granted' if granted else 'all'}", _load_sql(postgres=True, granted=granted))
    for granted in (False, True)
}
_LOAD_SQL_OTHER = {granted: _load_sql(postgres=False, granted=granted) for granted in (False, True)}
