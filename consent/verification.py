"""Studios and tools checking a use: the hot path, bulk checks, receipts and consent tokens.

A single verification costs a constant number of SQL queries whatever the subject's number of
consents: one for the subject and its signed consents together (plain SQL, plain rows), one insert
into the access log (plus the tree head the receipt cites). The decision itself is the pure
function in ``consent.decision``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from consent.decision import PERMITTED, ConsentFacts, Decision, SubjectFacts, UseQuery, decide
from consent.models import AccessLogEntry, Consent, ConsentEvent, Subject, SubjectProfile
from registry.accounts.models import ApiKey, Organization, User
from registry.errors import NotAllowed
from registry.lib.canonical import canonical_json, sha256_digest
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

    def body(self) -> dict[str, Any]:
        consent = self.decision.consent
        return {
            "decision": self.decision.decision,
            "reasons": list(self.decision.reasons),
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


def _subject_facts(row: dict[str, Any], on: date) -> SubjectFacts:
    minor = row["status"] == Subject.Status.MINOR and row["adult_on"] is not None
    return SubjectFacts(
        assurance=row["assurance"],
        disputed=row["disputed"],
        adult_on=row["adult_on"] if minor else None,
        public=bool(row["profile__is_public"]),
    )


def _consent_facts(row: dict[str, Any]) -> ConsentFacts:
    codes = row["territory_codes"]
    territories = frozenset({"*"}) if codes == "*" else frozenset(code for code in codes.split("|") if code)
    return ConsentFacts(
        public_id=row["public_id"],
        effect=row["effect"],
        status=row["status"],
        grantee=row["grantee"],
        production=row["production"],
        media_mask=row["media_mask"],
        activity_mask=row["activity_mask"],
        purpose_mask=row["purpose_mask"],
        territories=territories,
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        revocation_effective_at=row["revocation_effective_at"],
        digest=row["digest"],
        conditions=row["conditions"] or {},
    )


def _load(
    subject_ids: Iterable[str], *, log_index: bool = True
) -> tuple[dict[str, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """Subjects by public id and their signed consents: ONE query, however many subjects.

    Plain SQL with a left join (a subject with no signed consent still answers), because building
    and compiling the equivalent ORM querysets cost more than PostgreSQL spends answering them.
    """
    wanted = sorted({sid for sid in subject_ids if looks_like_public_id(sid, Subject.PREFIX)})
    # A made-up id still runs the query, so it costs the same work as a real one.
    # Without ``log_index`` (bulk answers cite no leaf) the per-consent subquery is skipped.
    sql = (_LOAD_SQL if log_index else _LOAD_SQL_NO_INDEX).format(
        placeholders=", ".join(["%s"] * len(wanted)) if wanted else "NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, wanted)
        rows = cursor.fetchall()
    subjects: dict[str, dict[str, Any]] = {}
    consents: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        pk = row[0]
        if row[1] not in subjects:
            subjects[row[1]] = {
                "pk": pk,
                "public_id": row[1],
                "status": row[2],
                "adult_on": _day(row[3]),
                "assurance": row[4],
                "disputed": bool(row[5]),
                "profile__is_public": bool(row[6]),
            }
            consents[pk] = []
        if row[7] is None:  # the left join found no signed consent
            continue
        conditions = row[21]
        consents[pk].append(
            {
                "pk": row[7],
                "subject_id": pk,
                "public_id": row[8],
                "effect": row[9],
                "status": row[10],
                "grantee": row[11],
                "production": row[12],
                "media_mask": row[13],
                "activity_mask": row[14],
                "purpose_mask": row[15],
                "territory_codes": row[16],
                "valid_from": _day(row[17]),
                "valid_until": _day(row[18]),
                "revocation_effective_at": _moment(row[19]),
                "digest": row[20],
                "conditions": _json(conditions),
                "signed_log_index": row[22],
            }
        )
    return subjects, consents


def _json(value: Any) -> Any:
    if value == "{}":  # most consents have no conditions: skip the parser
        return {}
    return json.loads(value) if isinstance(value, str) else value


def _day(value: Any) -> date | None:
    # Raw rows skip the ORM's converters: SQLite may answer dates as text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _moment(value: Any) -> datetime | None:
    # SQLite keeps UTC without an offset (text, or a naive datetime through its converters).
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _load_sql(log_index: bool) -> str:
    s, p, c, e = (model._meta.db_table for model in (Subject, SubjectProfile, Consent, ConsentEvent))
    # The signed event's log index, as the ORM subquery had it (events ordered by time, then id).
    # Table names come from the models, every value is a parameter.
    return (
        "SELECT s.id, s.public_id, s.status, s.adult_on, s.assurance, s.disputed, p.is_public, "  # noqa: S608
        "c.id, c.public_id, c.effect, c.status, c.grantee, c.production, c.media_mask, c.activity_mask, "
        "c.purpose_mask, c.territory_codes, c.valid_from, c.valid_until, c.revocation_effective_at, c.digest, "
        "c.conditions, "
        + (
            f"(SELECT e.log_index FROM {e} e WHERE e.consent_id = c.id AND e.type = 'signed' "  # noqa: S608
            "ORDER BY e.at, e.id LIMIT 1) "
            if log_index
            else "NULL "
        )
        + f"FROM {s} s LEFT JOIN {p} p ON p.subject_id = s.id "
        f"LEFT JOIN {c} c ON c.subject_id = s.id AND c.status <> 'draft' "
        "WHERE s.public_id IN ({placeholders}) ORDER BY s.id, c.id"
    )


_LOAD_SQL = _load_sql(log_index=True)
_LOAD_SQL_NO_INDEX = _load_sql(log_index=False)


def verification_decide(
    *, caller: str, checks: Sequence[Check], now: datetime | None = None, log_index: bool = True
) -> list[Answer]:
    """Decide every check for the caller (an organization's public id); reads only.

    ``log_index=False`` leaves ``Answer.log_index`` None (for answers whose receipt cites no leaf).
    """
    moment = now or timezone.now()
    subjects, consents = _load((check.subject for check in checks), log_index=log_index)
    answers = []
    for check in checks:
        row = subjects.get(check.subject)
        rows = consents.get(row["pk"], []) if row else []
        decision = decide(
            query=check.use,
            caller=caller,
            subject=_subject_facts(row, check.use.on) if row else None,
            consents=[_consent_facts(r) for r in rows],
            now=moment,
        )
        chosen = next((r for r in rows if decision.consent and r["public_id"] == decision.consent.public_id), None)
        answers.append(
            Answer(
                check,
                decision,
                row["pk"] if row else None,
                chosen["pk"] if chosen else None,
                chosen["signed_log_index"] if chosen else None,
            )
        )
    return answers


def _log_access(
    answers: Sequence[Answer],
    *,
    kind: str,
    organization: Organization | None,
    user: User | None,
    api_key: ApiKey | None,
    receipt_ids: Sequence[str],
) -> None:
    """Every check that named an existing subject lands in that subject's access log (one insert)."""
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                subject_id=answer.subject_pk,
                kind=kind,
                caller_org=organization,
                caller_user=user if user is not None and user.is_authenticated else None,
                caller_key=api_key,
                query=answer.check.as_dict(),
                decision=answer.decision.decision,
                consent_id=answer.consent_pk,
                receipt_id=receipt_id,
            )
            for answer, receipt_id in zip(answers, receipt_ids, strict=True)
            if answer.subject_pk is not None
        ]
    )


def _canonical_plain(value: list[dict[str, Any]]) -> bytes:
    """RFC 8785 canonical JSON of bulk answers, ~10 times faster than the general encoder.

    For values made only of objects with ASCII keys, arrays, strings, null and booleans (as the
    answers are: no numbers), RFC 8785 is exactly ``json.dumps`` with sorted keys, no spaces and
    raw UTF-8 (both escape only ``"``, ``\\`` and control characters, as ``\\b \\f \\n \\r \\t``
    or lower-case ``\\u00xx``). Anything else goes through ``canonical_json``.
    """
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: let the general encoder refuse it
        return canonical_json(value)


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


def verification_run_bulk(
    *, organization: Organization, checks: Sequence[Check], user: User | None = None, api_key: ApiKey | None = None
) -> dict[str, Any]:
    """Answer up to 1,000 checks, in order, under ONE receipt covering the whole batch.

    The receipt's ``batch.digest`` is the SHA-256 of the RFC 8785 canonical JSON of the list of
    ``{"query", "decision", "reasons", "consent", "consent_digest"}`` objects, in order: keep the
    response to prove any single answer later.
    """
    answers = verification_decide(caller=organization.public_id, checks=checks, log_index=False)
    results = [{"query": answer.check.as_dict(), **answer.body()} for answer in answers]
    covered = [{k: r[k] for k in ("query", "decision", "reasons", "consent", "consent_digest")} for r in results]
    receipt = receipt_sign(
        claims={
            "sub": None,
            "aud": organization.public_id,
            "batch": {"count": len(covered), "digest": sha256_digest(_canonical_plain(covered))},
        }
    )
    jti = _jti_of(receipt)
    _log_access(
        answers,
        kind=AccessLogEntry.Kind.VERIFICATION,
        organization=organization,
        user=user,
        api_key=api_key,
        receipt_ids=[jti] * len(answers),
    )
    return {"results": results, "receipt": receipt}


def consent_token_issue(
    *, check: Check, audience: str, organization: Organization | None, user: User | None, api_key: ApiKey | None
) -> dict[str, Any]:
    """A short-lived signed token saying this use is permitted, for a tool to check offline.

    ``audience`` is the organization that will use the likeness (the caller when it is a
    grantee; chosen by a representative otherwise). Refused (403) unless the answer is permitted.
    """
    [answer] = verification_decide(caller=audience, checks=[check])
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
