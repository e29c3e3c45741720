"""The decision's per-consent misses (``consent.rules.decision._misses``) as one SQL expression.

A bulk verification weighs ~10,000 consents for 1,000 queries. Turning each consent row into
Python values and testing it there cost more than everything PostgreSQL does for the request, so
the bulk path has the database compute each (query, consent) pair's misses, as the same bit flags,
and hands ``decision.weigh`` small rows. The rules stay written once in ``_misses``: this is their
translation, and ``tests/consent/test_decision_sql.py`` checks the two agree on random consents and
queries, on whichever database the suite runs (SQLite by default, PostgreSQL in CI).

The expression reads three aliases: ``c`` (a consent row), ``s`` (its subject) and ``q`` (a query:
``mb``, ``ab``, ``pb`` mask bits, ``territory``, ``day``, ``production``), and takes one parameter:
the current time. It has no grantee test: the bulk read joins only the consents that name the
caller or everyone (``verification._bulk_sql``), the only ones that can change an organization's
answer, so their grantee never misses.
"""

from __future__ import annotations

from consent import vocabulary as v
from consent.rules.decision import (
    ACTIVITY_MISS,
    EXPIRED,
    MEDIUM_MISS,
    NOT_ACTIVE,
    NOT_YET_VALID,
    PURPOSE_MISS,
    REVOKED,
    TERRITORY_MISS,
    WRONG_PRODUCTION,
)


def misses_sql(*, postgres: bool) -> str:
    """The SQL expression; dates compare as dates on PostgreSQL and as ISO text on SQLite."""
    # The day (UTC) a revocation takes effect. SQLite keeps naive UTC text "YYYY-MM-DD HH:MM:SS…".
    revoked_day = (
        "(c.revocation_effective_at AT TIME ZONE 'UTC')::date" if postgres else "date(c.revocation_effective_at)"
    )
    any_ = v.ANY
    # The codes as ``_territories`` reads them: "*" or "|ID|US|" split on "|", exact and
    # case-sensitive (LIKE would ignore case on SQLite and read "_" and "%" as wildcards).
    find = "strpos" if postgres else "instr"
    return f"""(
  (CASE WHEN c.production IS NOT NULL AND (q.production IS NULL OR c.production <> q.production)
          THEN {WRONG_PRODUCTION} ELSE 0 END)
  | (CASE WHEN (c.media_mask & q.mb) = 0 THEN {MEDIUM_MISS} ELSE 0 END)
  | (CASE WHEN (c.activity_mask & q.ab) = 0 THEN {ACTIVITY_MISS} ELSE 0 END)
  | (CASE WHEN (c.purpose_mask & q.pb) = 0 THEN {PURPOSE_MISS} ELSE 0 END)
  | (CASE WHEN {find}('|' || c.territory_codes || '|', '|{any_}|') > 0
               OR {find}('|' || c.territory_codes || '|', '|' || q.territory || '|') > 0
          THEN 0 ELSE {TERRITORY_MISS} END)
  | (CASE WHEN q.day < c.valid_from THEN {NOT_YET_VALID}
          WHEN c.status = 'expired' OR q.day > c.valid_until OR (s.status = 'minor' AND q.day >= s.adult_on)
            THEN {EXPIRED}
          WHEN c.status = 'revoked' THEN
            (CASE WHEN c.revocation_effective_at IS NULL OR %s >= c.revocation_effective_at
                       OR q.day >= {revoked_day} THEN {REVOKED} ELSE 0 END)
          WHEN c.status <> 'active' THEN {NOT_ACTIVE}
          ELSE 0 END)
)"""
