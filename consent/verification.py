"""Studios and tools checking a use: the hot path, bulk checks, receipts and consent tokens.

A single verification costs a constant number of SQL queries whatever the subject's number of
consents: one for the subject and its signed consents together (plain SQL, plain rows), one insert
into the access log (plus the tree head the receipt cites). A bulk request of up to 1,000 checks
costs the same whatever its size: one read of every (check, consent) pair with the pair's misses
computed by the database (``consent.decision_sql``), one of the cited consents, the tree head, and
ONE multi-row insert into the access log, written once the answer has gone. A subject hidden from
the caller and an id that names nobody cost the same statements, rows and steps (no existence
oracle). The decision itself is the pure function in ``consent.decision``: ``decide`` on the
single path, its second half ``weigh`` on the bulk path. Every answer carries the subject's
``assurance`` at that moment (null when ``unknown``), inside its receipt.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

from django.db import connection
from django.utils import timezone

from consent import vocabulary as v
from consent.decision import (
    PERMITTED,
    UNKNOWN,
    UNKNOWN_ANSWER,
    Candidate,
    ConsentFacts,
    Decision,
    SubjectFacts,
    UseQuery,
    decide,
    query_bits,
    weigh,
)
from consent.decision_sql import misses_sql
from consent.models import AccessLogEntry, Consent, ConsentEvent, Subject, SubjectProfile, Vouch
from registry.accounts.models import ApiKey, Organization, User
from registry.errors import NotAllowed
from registry.lib.canonical import sha256_digest
from registry.lib.ids import looks_like_public_id
from registry.receipts import receipt_sign

TOKEN_TYPE = "restu-consent-token+jws"  # noqa: S105 — a JWS "typ", not a secret
TOKEN_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Check:
    """A validated verification query."""

    subject: str
    use: UseQuery

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "medium": self.use.medium,
            "activity": self.use.activity,
            "purpose": self.use.purpose,
            "territory": self.use.territory,
            "date": self.use.on.isoformat(),
            "production": self.use.production,
            "min_assurance": self.use.min_assurance,
        }


@dataclass(frozen=True)
class Answer:
    check: Check
    decision: Decision
    subject_pk: int | None
    consent_pk: int | None
    log_index: int | None
    # The subject's assurance at this moment; None for an ``unknown`` answer, which must read the
    # same for a subject that exists but is hidden from the caller as for one that does not exist.
    assurance: str | None = None

    def body(self) -> dict[str, Any]:
        consent = self.decision.consent
        return {
            "decision": self.decision.decision,
            "reasons": list(self.decision.reasons),
            "assurance": self.assurance,
            "consent": consent.public_id if consent else None,
            "consent_digest": consent.digest if consent else None,
            "conditions": consent.conditions if consent and self.decision.decision == PERMITTED else {},
        }


def check_from(data: dict[str, Any]) -> Check:
    """A Check from serializer-validated data."""
    return Check(
        subject=data["subject"],
        use=UseQuery(
            medium=data["medium"],
            activity=data.get("activity") or "generate",
            purpose=data["purpose"],
            territory=data["territory"],
            on=data["date"],
            production=data.get("production") or None,
            min_assurance=data.get("min_assurance") or None,
        ),
    )


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
            cursor.execute(_LOAD_SQL_PG[grantee is not None], [",".join(wanted), *granted])
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
    (API.md "Identity assurance"). A stored ``vouched`` with no such vouch (its organization lost
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
_LOAD_SQL_PG = {granted: _load_sql(postgres=True, granted=granted) for granted in (False, True)}
_LOAD_SQL_OTHER = {granted: _load_sql(postgres=False, granted=granted) for granted in (False, True)}


def verification_decide(
    *, caller: str, checks: Sequence[Check], now: datetime | None = None, to_representative: bool = False
) -> list[Answer]:
    """Decide every check for the caller (an organization's public id) with ``decide``; reads only.

    ``to_representative``: the answers go to one of the subjects' representatives (a consent token
    they ask for on behalf of an organization), who may hear ``wrong_grantee``."""
    moment = now or timezone.now()
    known = _load((check.subject for check in checks), grantee=None if to_representative else caller)
    facts_of: dict[str, list[ConsentFacts]] = {}
    answers = []
    for check in checks:
        subject = known.get(check.subject)
        if subject is None:
            unknown = decide(query=check.use, caller=caller, subject=None, consents=(), now=moment)
            answers.append(Answer(check, unknown, None, None, None))
            continue
        facts = facts_of.get(check.subject)
        if facts is None:
            facts = facts_of[check.subject] = [item[0] for item in subject.consents]
        decision = decide(
            query=check.use,
            caller=caller,
            subject=subject.facts,
            consents=facts,
            now=moment,
            to_representative=to_representative,
        )
        chosen = decision.consent
        # ``decide`` returns one of the facts it was given: find its row by identity.
        row = None if chosen is None else next(item for item in subject.consents if item[0] is chosen)
        answers.append(
            Answer(
                check,
                decision,
                subject.pk,
                row[1] if row else None,
                row[2] if row else None,
                None if decision.decision == UNKNOWN else subject.facts.assurance,
            ),
        )
    return answers


# --- Bulk: the database computes the misses -----------------------------------------------------


def _bulk_sql(*, postgres: bool) -> str:
    """Every (query, signed consent of its subject naming the caller or everyone) pair with the
    pair's misses, and one row for a query whose subject has none or doesn't exist: ONE query.

    Consents that name another organization are not read at all: they can never change an
    organization's answer (``weigh`` says ``no_matching_consent`` to it whoever holds them), and
    reading them would make a subject hidden from the caller cost more than one that doesn't exist.
    Parameters: the current time (for ``misses_sql``), the queries as one JSON array of
    ``{n, subject, mb, ab, pb, territory, day, production}``, then the caller.
    """
    s, p, c, _ = _tables()
    if postgres:
        queries = (
            "jsonb_to_recordset(%s::jsonb) AS q(n int, subject text, mb int, ab int, pb int, "
            "territory text, day date, production text)"
        )
    else:
        fields = ("n", "subject", "mb", "ab", "pb", "territory", "day", "production")
        extract = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in fields)
        queries = f"(SELECT {extract} FROM json_each(%s)) q"  # noqa: S608 — fixed names
    return (
        "SELECT q.n, s.id, s.assurance, s.disputed, p.is_public, "  # noqa: S608 — names from the models
        f"c.id, c.public_id, c.effect, c.grantee, c.production IS NULL, {misses_sql(postgres=postgres)}, "
        f"s.status, {_vouched_sql('COALESCE(s.id, 0)')} "
        # LEFT JOIN: a made-up id gets its row too, and goes through the same steps as a subject
        # hidden from the caller, so that neither costs more than the other.
        f"FROM {queries} LEFT JOIN {s} s ON s.public_id = q.subject "
        # COALESCE: a made-up id's row probes the same indexes (for a row id that never exists).
        f"LEFT JOIN {p} p ON p.subject_id = COALESCE(s.id, 0) "
        f"LEFT JOIN {c} c ON c.subject_id = COALESCE(s.id, 0) AND c.status <> 'draft' "
        f"AND (c.grantee = '{v.ANY}' OR c.grantee = %s)"
    )


_BULK_SQL = {postgres: _bulk_sql(postgres=postgres) for postgres in (False, True)}


def _cited(consent_pks: set[int]) -> dict[int, ConsentFacts]:
    """The facts, digest and conditions of the consents bulk answers cite: one query."""
    if not consent_pks:
        return {}
    postgres = connection.vendor == "postgresql"
    _, _, table, _ = _tables()
    columns = _FACT_COLUMNS.format(conditions="c.conditions::text" if postgres else "c.conditions")
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                f"SELECT c.id, {columns} FROM {table} c "  # noqa: S608 — the model's table
                "WHERE c.id = ANY(string_to_array(%s, ',')::bigint[])",
                [",".join(map(str, consent_pks))],
            )
        else:
            placeholders = ", ".join(["%s"] * len(consent_pks))
            cursor.execute(f"SELECT c.id, {columns} FROM {table} c WHERE c.id IN ({placeholders})", list(consent_pks))  # noqa: S608
        return {row[0]: _facts(row, 1, postgres) for row in cursor.fetchall()}


def _pairs(*, caller: str, checks: Sequence[Check], now: datetime) -> list[tuple[Any, ...]]:
    """The rows of ``_bulk_sql`` for these checks: one per (check, signed consent of its subject
    naming the caller or everyone), one per check whose subject has none or doesn't exist (its
    subject's columns null); none for an id that cannot be one."""
    queries = []
    for n, check in enumerate(checks):
        if looks_like_public_id(check.subject, Subject.PREFIX):  # anything else is unknown unread
            use = check.use
            mb, ab, pb = query_bits(use)
            queries.append(
                {
                    "n": n,
                    "subject": check.subject,
                    "mb": mb,
                    "ab": ab,
                    "pb": pb,
                    "territory": use.territory,
                    "day": use.on.isoformat(),
                    "production": use.production,
                }
            )
    if not queries:
        return []
    if timezone.is_naive(now):  # SQLite would read it as UTC where ``_misses`` refuses to compare
        raise ValueError("now must be an aware datetime")
    postgres = connection.vendor == "postgresql"
    at = now if postgres else connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_BULK_SQL[postgres], [at, json.dumps(queries), caller])
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def verification_decide_bulk(*, caller: str, checks: Sequence[Check], now: datetime | None = None) -> list[Answer]:
    """The same answers as ``verification_decide`` for many checks, in two reads: the database
    computes each (check, consent) pair's misses (``consent.decision_sql``), ``weigh`` decides,
    and a second read fetches the cited consents. Answers cite no log index (a bulk receipt cites
    no leaf)."""
    moment = now or timezone.now()
    rows = _pairs(caller=caller, checks=checks, now=moment)
    found: dict[int, tuple[int | None, SubjectFacts, list[Candidate]]] = {}
    for row in rows:
        entry = found.get(row[0])
        if entry is None:
            # The minor's coming of age is already in the misses: ``weigh`` needs no date.
            facts = _subject_facts(
                status=row[11],
                stored_assurance=row[2],
                vouched=bool(row[12]),
                disputed=bool(row[3]),
                adult_on=None,
                public=bool(row[4]),
            )
            entry = found[row[0]] = (row[1], facts, [])  # row[1] is None for a made-up id
        if row[5] is not None:  # None: the left join found no signed consent
            entry[2].append((row[10], row[7], row[8], bool(row[9]), row[6], row[5]))
    weighed: list[tuple[str, tuple[str, ...], Any]] = []
    subject_pks: list[int | None] = []
    levels: list[str | None] = []
    for n, check in enumerate(checks):
        entry = found.get(n)
        if entry is None:
            weighed.append(UNKNOWN_ANSWER)
            subject_pks.append(None)
            levels.append(None)
            continue
        subject_pk, facts, candidates = entry
        candidates.sort(key=_CANDIDATE_ID)  # id order: the first matching deny is the one cited
        answer = weigh(query=check.use, caller=caller, subject=facts, candidates=candidates)
        weighed.append(answer)
        subject_pks.append(subject_pk)
        levels.append(None if answer is UNKNOWN_ANSWER else facts.assurance)
    cited_pks = {answer[2] for answer in weighed if answer[2] is not None}
    cited = _cited(cited_pks)
    if len(cited) < len(cited_pks):
        # A cited consent vanished between the two reads. Signed consents are never deleted (the
        # subject's foreign key protects them), so only a raw deletion gets here: decide again
        # from one read that has everything. Only the cited facts' frozen fields (public id,
        # digest, conditions) leave this module, so the second read's status cannot contradict
        # the first's answer.
        again = verification_decide(caller=caller, checks=checks, now=moment)
        return [Answer(a.check, a.decision, a.subject_pk, a.consent_pk, None, a.assurance) for a in again]
    return [
        Answer(check, Decision(decision, reasons, cited[pk] if pk is not None else None), subject_pk, pk, None, level)
        for check, (decision, reasons, pk), subject_pk, level in zip(checks, weighed, subject_pks, levels, strict=True)
    ]


def _log_access(
    answers: Sequence[Answer],
    *,
    kind: str,
    organization: Organization | None,
    user: User | None,
    api_key: ApiKey | None,
    receipt_ids: Sequence[str],
    query_json: Sequence[str] | None = None,
) -> None:
    """Every check lands in the access log, ONE insert statement for the whole batch, with the
    same values an ORM ``bulk_create`` would write: a check that named a person in that person's
    log, one that named nobody with no subject (kept a while to spot enumeration, then purged).

    So the request does the same work, row for row, whether an id belongs to a person hidden from
    the caller or to nobody at all (no timing oracle on existence).

    ``query_json`` (each check's ``as_dict()`` as JSON, in order) saves encoding them again when the
    caller has them.
    """
    if not answers:
        return
    if query_json is None:
        query_json = [json.dumps(answer.check.as_dict()) for answer in answers]
    common = [
        kind,
        organization.pk if organization is not None else None,
        user.pk if user is not None and user.is_authenticated else None,
        api_key.pk if api_key is not None else None,
        # As the ORM would store the field's default (SQLite keeps naive UTC text).
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement whatever the batch size: the columns every row shares once, four arrays,
            # and the queries as ONE JSON array (one encoder call, one quoted parameter).
            cursor.execute(
                _INSERT_PG,
                [
                    *common,
                    [answer.subject_pk for answer in answers],
                    [answer.decision.decision for answer in answers],
                    [answer.consent_pk for answer in answers],
                    list(receipt_ids),
                    "[" + ",".join(query_json) + "]",
                ],
            )
        else:
            # The same on SQLite: the rows as ONE JSON array of [subject, decision, consent,
            # receipt id, query] read by json_each (one parameter, one statement).
            rows = ",".join(
                f"[{_int_or_null(answer.subject_pk)},{_string(answer.decision.decision)},"
                f"{_int_or_null(answer.consent_pk)},{_string(receipt_id)},{query}]"
                for answer, receipt_id, query in zip(answers, receipt_ids, query_json, strict=True)
            )
            cursor.execute(_INSERT_OTHER, [*common, "[" + rows + "]"])


def _int_or_null(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def _insert_sql(*, postgres: bool) -> str:
    table = AccessLogEntry._meta.db_table
    names = {f.name: str(f.column) for f in AccessLogEntry._meta.concrete_fields}
    columns = ", ".join(
        names[n]
        for n in (
            "kind",
            "caller_org",
            "caller_user",
            "caller_key",
            "created",
            "subject",
            "query",
            "decision",
            "consent",
            "receipt_id",
        )
    )
    if postgres:
        return (
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 — names from the model, values are parameters
            "SELECT %s, %s, %s, %s, %s, r.subject_id, q.query, r.decision, r.consent_id, r.receipt_id "
            "FROM unnest(%s::bigint[], %s::varchar[], %s::bigint[], %s::varchar[]) WITH ORDINALITY "
            "AS r(subject_id, decision, consent_id, receipt_id, n) "
            "JOIN jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS q(query, n) ON q.n = r.n "
            "ORDER BY r.n"  # row ids in the order of the queries
        )
    return (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608 — names from the model, values are parameters
        "SELECT %s, %s, %s, %s, %s, json_extract(r.value, '$[0]'), json_extract(r.value, '$[4]'), "
        "json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]') "
        "FROM json_each(%s) r "
        "ORDER BY r.key"  # row ids in the order of the queries
    )


_INSERT_PG = _insert_sql(postgres=True)
_INSERT_OTHER = _insert_sql(postgres=False)


# RFC 8785 canonical JSON for the values bulk answers are made of (objects with ASCII keys, arrays,
# strings, null; no numbers): exactly ``json.dumps`` with sorted keys, no spaces and raw UTF-8. Both
# escape only ``"``, ``\`` and control characters, as ``\b \f \n \r \t`` or lower-case ``\u00xx``
# (the tests compare with ``canonical_json``, which handles anything else).
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_string = json.encoder.encode_basestring  # the C one, as json.dumps uses


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _bulk_document(answers: Sequence[Answer], query_json: Sequence[str], receipt_for: Any) -> bytes:
    """The bulk response body, rendered once from canonical pieces.

    Each answer's covered object (``assurance``, ``consent``, ``consent_digest``, ``decision``,
    ``query``, ``reasons``, keys in canonical order) is built as text once: the batch digest hashes
    their array, and the response reuses each one with ``"conditions"`` spliced in first (the
    response's own key order is free; only the covered objects are canonical). Building, hashing
    and rendering dicts separately cost about three times as much. ``receipt_for`` signs the
    digest and returns the receipt.
    """
    reasons_json: dict[tuple[str, ...], str] = {}
    conditions_json: dict[int, str] = {}
    covered, conditions = [], []
    for answer, query in zip(answers, query_json, strict=True):
        decision, consent = answer.decision, answer.decision.consent
        reasons = reasons_json.get(decision.reasons)
        if reasons is None:
            reasons = reasons_json[decision.reasons] = _canonical(list(decision.reasons))
        covered.append(
            '{"assurance":'
            + _text_or_null(answer.assurance)
            + ',"consent":'
            + _text_or_null(consent.public_id if consent else None)
            + ',"consent_digest":'
            + _text_or_null(consent.digest if consent else None)
            + ',"decision":'
            + _string(decision.decision)
            + ',"query":'
            + query
            + ',"reasons":'
            + reasons
            + "}"
        )
        if consent is not None and decision.decision == PERMITTED and answer.consent_pk is not None:
            text = conditions_json.get(answer.consent_pk)
            if text is None:
                text = conditions_json[answer.consent_pk] = _canonical(consent.conditions)
            conditions.append(text)
        else:
            conditions.append("{}")
    # Input validation refuses lone surrogates, the one thing UTF-8 cannot encode.
    receipt = receipt_for(sha256_digest(("[" + ",".join(covered) + "]").encode("utf-8")))
    body = (
        '{"results":['
        + ",".join('{"conditions":' + text + "," + item[1:] for item, text in zip(covered, conditions, strict=True))
        + '],"receipt":'
        + _string(receipt)
        + "}"
    )
    # As DRF's JSON renderer does: U+2028 and U+2029 are valid JSON but end lines in JavaScript.
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


def _receipt(answer: Answer, audience: str) -> tuple[str, str]:
    claims = {"sub": answer.check.subject, "aud": audience, "query": answer.check.as_dict(), **answer.body()}
    claims.pop("conditions")
    token = receipt_sign(claims=claims, log_index=answer.log_index)
    return token, _jti_of(token)


def _jti_of(token: str) -> str:
    import base64
    import json

    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


def verification_run(
    *, organization: Organization, check: Check, user: User | None = None, api_key: ApiKey | None = None
) -> dict[str, Any]:
    """Answer one check with a signed receipt, and note it in the subject's access log."""
    [answer] = verification_decide(caller=organization.public_id, checks=[check])
    receipt, jti = _receipt(answer, organization.public_id)
    _log_access(
        [answer],
        kind=AccessLogEntry.Kind.VERIFICATION,
        organization=organization,
        user=user,
        api_key=api_key,
        receipt_ids=[jti],
    )
    return {**answer.body(), "receipt": receipt}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector for one bulk request.

    A bulk request allocates a few hundred thousand short-lived objects (rows, facts, answers),
    none of them in reference cycles, so reference counting frees them all; but their allocation
    alone triggers full collections over the whole Django process heap, measured at ~55 ms of CPU
    per 1,000-query request. Collection resumes afterwards (if it was on), and nothing is lost.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def verification_run_bulk(
    *, organization: Organization, checks: Sequence[Check], user: User | None = None, api_key: ApiKey | None = None
) -> bytes:
    """Answer up to 1,000 checks, in order, under ONE receipt covering the whole batch: the JSON
    response body ``{"results": [...], "receipt": ...}``, rendered; every check is in the access log
    before the body is returned, so no answer leaves without its row (a crash after the answer
    loses none).

    The receipt's ``batch.digest`` is the SHA-256 of the RFC 8785 canonical JSON of the list of
    ``{"query", "decision", "reasons", "assurance", "consent", "consent_digest"}`` objects, in
    order: keep the response to prove any single answer later (``assurance`` included).

    Everything costs the same whether an id names a person hidden from the caller or nobody (same
    statements, same rows read and written, same steps): a check that named nobody is logged too,
    with no subject, so a caller timing the answer learns nothing about which ids exist.
    """
    answers = verification_decide_bulk(caller=organization.public_id, checks=checks)
    query_json = [_canonical(answer.check.as_dict()) for answer in answers]
    receipts: list[str] = []

    def receipt_for(digest: str) -> str:
        receipt = receipt_sign(
            claims={"sub": None, "aud": organization.public_id, "batch": {"count": len(answers), "digest": digest}}
        )
        receipts.append(receipt)
        return receipt

    document = _bulk_document(answers, query_json, receipt_for)

    _log_access(
        answers,
        kind=AccessLogEntry.Kind.VERIFICATION,
        organization=organization,
        user=user,
        api_key=api_key,
        receipt_ids=[_jti_of(receipts[0])] * len(answers),
        query_json=query_json,
    )
    return document


def consent_token_issue(
    *, check: Check, audience: str, organization: Organization | None, user: User | None, api_key: ApiKey | None
) -> dict[str, Any]:
    """A short-lived signed token saying this use is permitted, for a tool to check offline.

    ``audience`` is the organization that will use the likeness (the caller when it is a
    grantee; chosen by a representative otherwise). Refused (403) unless the answer is permitted.
    """
    # Without an organization the caller is one of the person's representatives (the view checks).
    [answer] = verification_decide(caller=audience, checks=[check], to_representative=organization is None)
    if answer.decision.decision != PERMITTED:
        _log_access(
            [answer],
            kind=AccessLogEntry.Kind.TOKEN,
            organization=organization,
            user=user,
            api_key=api_key,
            receipt_ids=[""],
        )
        raise NotAllowed("No consent covers this use, so no token can be issued: " + ", ".join(answer.decision.reasons))
    now = timezone.now()
    consent = answer.decision.consent
    assert consent is not None
    token = receipt_sign(
        claims={
            "sub": check.subject,
            "aud": audience,
            "nbf": int(now.timestamp()),
            "exp": int((now + TOKEN_LIFETIME).timestamp()),
            "use": check.as_dict(),
            "consent": consent.public_id,
            "consent_digest": consent.digest,
        },
        log_index=answer.log_index,
        typ=TOKEN_TYPE,
    )
    _log_access(
        [answer],
        kind=AccessLogEntry.Kind.TOKEN,
        organization=organization,
        user=user,
        api_key=api_key,
        receipt_ids=[_jti_of(token)],
    )
    return {
        "token": token,
        "expires_at": (now + TOKEN_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "consent": consent.public_id,
    }
