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
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from consent import c2pa
from consent import vocabulary as v
from consent.models import AccessLogEntry, Subject
from consent.rules.decision import (
    ACTIVITY_MISS,
    DENIED,
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
from registry.witness.selectors import log_proofs

# --- Bulk: the database computes the misses -----------------------------------------------------


def _bulk_sql(*, postgres: bool) -> str:
    """Every (query, signed consent of its subject naming the caller or everyone) pair with the
    pair's misses, and one row for a query whose subject has none or doesn't exist: ONE query.

    Consents that name another organization are not read at all: they can never change an
    organization's answer (``weigh`` says ``no_matching_consent`` to it whoever holds them), and
    reading them would make a subject hidden from the caller cost more than one that doesn't exist.
    Parameters: the current time (for ``misses_sql``), the queries as one JSON array of
    ``{n, subject, mb, ab, pb, territory, day, production}``, then the caller. The consent's
    activity mask comes last: the CAWG uses of a permitted answer (``consent.c2pa``) differ from
    its query in the activity alone, so they are weighed from the same rows.
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
        f"s.status, {_vouched_sql('COALESCE(s.id, 0)')}, c.activity_mask "
        # LEFT JOIN: a made-up id gets its row too, and goes through the same steps as a subject
        # hidden from the caller, so that neither costs more than the other.
        f"FROM {queries} LEFT JOIN {s} s ON s.public_id = q.subject "
        # COALESCE: a made-up id's row probes the same indexes (for a row id that never exists).
        f"LEFT JOIN {p} p ON p.subject_id = COALESCE(s.id, 0) "
        f"LEFT JOIN {c} c ON c.subject_id = COALESCE(s.id, 0) AND c.status <> 'draft' "
        f"AND (c.grantee = '{v.ANY}' OR c.grantee = %s)"
    )


_BULK_SQL = {postgres: _bulk_sql(postgres=postgres) for postgres in (False, True)}


def _cited(consent_pks: set[int]) -> dict[int, tuple[ConsentFacts, int | None]]:
    """The facts, digest and conditions of the consents bulk answers cite, with the log index of
    each one's ``consent.signed`` leaf (for its ``log_proof``): one query."""
    if not consent_pks:
        return {}
    postgres = connection.vendor == "postgresql"
    _, _, table, events = _tables()
    columns = _FACT_COLUMNS.format(conditions="c.conditions::text" if postgres else "c.conditions")
    # The signed event's log index, as the single path reads it (``facts._load_sql``).
    columns += (
        f", (SELECT e.log_index FROM {events} e WHERE e.consent_id = c.id AND e.type = 'signed' "  # noqa: S608 — the model's table
        "ORDER BY e.at, e.id LIMIT 1)"
    )
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
        return {row[0]: (_facts(row, 1, postgres), row[15]) for row in cursor.fetchall()}


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


class _Weighed:
    """What the bulk read found for each check, kept to weigh its CAWG uses (``_training``)."""

    __slots__ = ("found", "masks")

    def __init__(self) -> None:
        # Per check number: (subject row id or None, facts, candidates in consent id order).
        self.found: dict[int, tuple[int | None, SubjectFacts, list[Candidate]]] = {}
        self.masks: dict[int, int] = {}  # consent row id -> activity mask


def verification_decide_bulk(*, caller: str, checks: Sequence[Check], now: datetime | None = None) -> list[Answer]:
    """The same answers as ``verification_decide`` for many checks, in two reads: the database
    computes each (check, consent) pair's misses (``consent.rules.decision_sql``), ``weigh`` decides,
    and a second read fetches the cited consents (with their ``consent.signed`` leaf's index: the
    bulk receipt cites no leaf, each answer's ``log_proof`` does)."""
    return _decide_bulk(caller=caller, checks=checks, now=now)[0]


def _decide_bulk(
    *, caller: str, checks: Sequence[Check], now: datetime | None = None
) -> tuple[list[Answer], _Weighed | None]:
    moment = now or timezone.now()
    rows = _pairs(caller=caller, checks=checks, now=moment)
    weighed_rows = _Weighed()
    found, masks = weighed_rows.found, weighed_rows.masks
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
            masks[row[5]] = row[13]
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
        return verification_decide(caller=caller, checks=checks, now=moment), None
    return [
        Answer(
            check,
            Decision(decision, reasons, cited[pk][0] if pk is not None else None),
            subject_pk,
            pk,
            cited[pk][1] if pk is not None else None,
            level,
        )
        for check, (decision, reasons, pk), subject_pk, level in zip(checks, weighed, subject_pks, levels, strict=True)
    ], weighed_rows


def _training(
    *, caller: str, answers: Sequence[Answer], weighed: _Weighed | None, now: datetime
) -> dict[int, dict[str, dict[str, str]]]:
    """The CAWG entries of each permitted answer (by position), as ``consent.c2pa`` derives them:
    its query with each activity a use needs, weighed from the rows already read (only the
    activity's miss changes), no query at all."""
    permitted = [n for n, answer in enumerate(answers) if answer.decision.decision == PERMITTED]
    if not permitted:
        return {}
    if weighed is None:  # the rare second read (a consent vanished): decide the uses again
        variants = c2pa.training_checks([answers[n].check for n in permitted])
        decided = verification_decide(caller=caller, checks=variants, now=now)
        width = len(c2pa.ACTIVITIES)
        return {n: c2pa.training_mining_from(decided[i * width : (i + 1) * width]) for i, n in enumerate(permitted)}
    entries: dict[int, dict[str, dict[str, str]]] = {}
    # Not at import: consent.c2pa may be the module being imported when this one is.
    bits = [v.bit(v.ACTIVITY_KEYS, activity) for activity in c2pa.ACTIVITIES]
    masks = weighed.masks
    memo: dict[tuple[int | None, Any], dict[str, dict[str, str]]] = {}
    for n in permitted:
        check = answers[n].check
        subject_pk, facts, candidates = weighed.found[n]
        # The same person and use give the same candidates: weigh them once.
        key = (subject_pk, check.use)
        found = memo.get(key)
        if found is None:
            decisions = []
            for activity, bit in zip(c2pa.ACTIVITIES, bits, strict=True):
                if activity == check.use.activity:
                    decisions.append(PERMITTED)  # the answer itself
                    continue
                moved = [((c[0] & ~ACTIVITY_MISS) | (0 if masks[c[5]] & bit else ACTIVITY_MISS), c) for c in candidates]
                # ``weigh`` permits only through a permit that misses nothing: without one the use
                # is refused whatever else the candidates say, and weighing them is not needed.
                if not any(missed == 0 and c[1] == "permit" for missed, c in moved):
                    decisions.append(DENIED)
                    continue
                use = replace(check.use, activity=activity)
                shifted = [(missed, *c[1:]) for missed, c in moved]
                decisions.append(weigh(query=use, caller=caller, subject=facts, candidates=shifted)[0])
            found = memo[key] = c2pa.training_mining_of(decisions)
        entries[n] = found
    return entries


# RFC 8785 canonical JSON for the values bulk answers are made of (objects with ASCII keys, arrays,
# strings, null; no numbers): exactly ``json.dumps`` with sorted keys, no spaces and raw UTF-8. Both
# escape only ``"``, ``\`` and control characters, as ``\b \f \n \r \t`` or lower-case ``\u00xx``
# (the tests compare with ``canonical_json``, which handles anything else).
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_string = json.encoder.encode_basestring  # the C one, as json.dumps uses


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _bulk_document(
    answers: Sequence[Answer],
    query_json: Sequence[str],
    receipt_for: Any,
    proofs: dict[int, str] | None = None,
    training: dict[int, dict[str, dict[str, str]]] | None = None,
) -> bytes:
    """The bulk response body, rendered once from canonical pieces.

    Each answer's covered object (``assurance``, ``consent``, ``consent_digest``, ``decision``,
    ``query``, ``reasons``, keys in canonical order) is built as text once: the batch digest hashes
    their array, and the response reuses each one with ``"conditions"``, ``"log_proof"`` and
    ``"c2pa_assertions"`` spliced in (the response's own key order is free; only the covered
    objects are canonical). Building, hashing and rendering dicts separately cost about three times
    as much. ``receipt_for`` signs the digest and returns the receipt. ``proofs``: the tlog-proof
    of each cited leaf by log index; ``training``: the CAWG entries of each permitted answer by
    position (``_training``). Neither is under the digest: a proof changes as the log is witnessed
    further, and the assertions hold the receipt itself.
    """
    proofs = proofs or {}
    training = training or {}
    reasons_json: dict[tuple[str, ...], str] = {}
    conditions_json: dict[int, str] = {}
    proof_json: dict[int, str] = {}
    covered, conditions, proved = [], [], []
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
        index = answer.log_index
        proof = "null"
        if index is not None and index in proofs:
            proof = proof_json.get(index, "")
            if not proof:
                proof = proof_json[index] = _string(proofs[index])
        proved.append(proof)
    # Input validation refuses lone surrogates, the one thing UTF-8 cannot encode.
    receipt = _string(receipt_for(sha256_digest(("[" + ",".join(covered) + "]").encode("utf-8"))))
    entries_json: dict[int, str] = {}
    parts = []
    for n, (answer, item, text, proof) in enumerate(zip(answers, covered, conditions, proved, strict=True)):
        assertions = "null"
        entries = training.get(n)
        consent = answer.decision.consent
        if entries is not None and consent is not None:
            rendered = entries_json.get(id(entries))
            if rendered is None:
                rendered = entries_json[id(entries)] = _canonical(entries)
            # ``consent.c2pa.c2pa_assertions``, rendered as text (keys in canonical order), joined
            # once: chained ``+`` would copy the proof and the receipt a dozen times per result.
            assertions = "".join(
                (
                    '[{"data":{"consent":',
                    _string(consent.public_id),
                    ',"log_proof":',
                    proof,
                    ',"receipt":',
                    receipt,
                    ',"subject":',
                    _string(answer.check.subject),
                    '},"label":"',
                    c2pa.CONSENT_LABEL,
                    '"},{"data":{"entries":',
                    rendered,
                    '},"label":"',
                    c2pa.TRAINING_MINING_LABEL,
                    '"}]',
                )
            )
        parts.append(
            "".join(('{"c2pa_assertions":', assertions, ',"conditions":', text, ',"log_proof":', proof, ",", item[1:]))
        )
    body = '{"results":[' + ",".join(parts) + '],"receipt":' + receipt + "}"
    # As DRF's JSON renderer does: U+2028 and U+2029 are valid JSON but end lines in JavaScript.
    # Only the covered objects, the conditions and the proofs' checkpoint can hold them (receipts,
    # ids and entries are ASCII): look there rather than through the whole body.
    if any("\u2028" in text or "\u2029" in text for text in (*covered, *conditions, *proof_json.values())):
        body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return body.encode("utf-8")


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
    order: keep the response to prove any single answer later (``assurance`` included). Each
    result also carries ``log_proof`` and, when permitted, ``c2pa_assertions``, outside the digest.

    Everything costs the same whether an id names a person hidden from the caller or nobody (same
    statements, same rows read and written, same steps): a check that named nobody is logged too,
    with no subject, so a caller timing the answer learns nothing about which ids exist.
    """
    moment = timezone.now()
    answers, weighed = _decide_bulk(caller=organization.public_id, checks=checks, now=moment)
    query_json = [_canonical(answer.check.as_dict()) for answer in answers]
    # One checkpoint read, and at most one read for the leaves and nodes of every proof not made yet.
    proofs = log_proofs(answer.log_index for answer in answers)
    training = _training(caller=organization.public_id, answers=answers, weighed=weighed, now=moment)
    receipts: list[str] = []

    def receipt_for(digest: str) -> str:
        receipt = receipt_sign(
            claims={"sub": None, "aud": organization.public_id, "batch": {"count": len(answers), "digest": digest}}
        )
        receipts.append(receipt)
        return receipt

    document = _bulk_document(answers, query_json, receipt_for, proofs, training)

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
