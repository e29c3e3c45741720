"""The access log's hot-path write: every check, ONE insert statement per request."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from consent.models import AccessLogEntry
from consent.verification.checks import Answer
from registry.accounts.models import ApiKey, Organization, User
from registry.lib.prepared import Statement

_string = json.encoder.encode_basestring  # the C one, as json.dumps uses


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
            _INSERT_PG.execute(
                cursor,
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
            # Typed: a prepared statement's parameters have no literal for PostgreSQL to infer from.
            "SELECT %s::varchar, %s::bigint, %s::bigint, %s::bigint, %s::timestamptz, "
            "r.subject_id, q.query, r.decision, r.consent_id, r.receipt_id "
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


_INSERT_PG = Statement("access_log_insert", _insert_sql(postgres=True))
_INSERT_OTHER = _insert_sql(postgres=False)
