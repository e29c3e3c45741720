"""Bulk verification: up to 1,000 checks answered under one receipt.

The database computes the misses of every (check, consent) pair (``consent.rules.decision_sql``);
the cited consents, the tree head, and ONE multi-row insert into the access log follow, the log
written before the body is returned. A request costs the same whatever its size.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from consent import vocabulary as v
from consent.models import AccessLogEntry, Subject
from consent.rules.decision import (
    PERMITTED,
    UNKNOWN_ANSWER,
    Candidate,
    ConsentFacts,
    Decision,
    SubjectFacts,
    query_bits,
    weigh,
)
from consent.rules.decision_sql import misses_sql
from consent.verification.access_log import _log_access
from consent.verification.checks import Answer, Check, _jti_of
from consent.verification.facts import _CANDIDATE_ID, _FACT_COLUMNS, _facts, _subject_facts, _tables, _vouched_sql
from consent.verification.single import verification_decide
from registry.accounts.models import ApiKey, Organization, User
from registry.lib.canonical import sha256_digest
from registry.lib.ids import looks_like_public_id
from registry.receipts import receipt_sign

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
    computes each (check, consent) pair's misses (``consent.rules.decision_sql``), ``weigh`` decides,
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
