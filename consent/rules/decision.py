"""The verification decision: pure, no database, exhaustively tested (tests/consent/test_verification_decision.py,
and against the bulk path's SQL in tests/consent/test_decision_sql.py).

Rules (docs/api.md "Verification", "Identity assurance"): a matching, effective ``deny`` wins over any
``permit``; a permit must match grantee (the caller or ``*``), production (the same, or any),
medium (``likeness`` covers all), activity, purpose (``*`` never covers sensitive purposes),
territory (``*`` = everywhere) and the date (inside validity, before any effective revocation, and
for a minor before they come of age); the subject's assurance must meet ``min_assurance``; an open
dispute freezes every permit. A subject that does not exist, or that the caller may not know about,
is ``unknown`` — the same answer either way. For a minor or a deceased person whose
representative's authority no verified guild or agency has vouched for, every other answer also
carries ``authority_unverified``. ``wrong_grantee`` is said only to the subject's own
representatives: to an organization, consents held with others are ``no_matching_consent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from consent import vocabulary as v

PERMITTED, DENIED, UNKNOWN = "permitted", "denied", "unknown"

# The fixed reason vocabulary, in the order reasons are listed.
REASONS = (
    "subject_unknown",
    "disputed",
    "denied_by_subject",
    "assurance_too_low",
    "authority_unverified",
    "no_matching_consent",
    "wrong_grantee",
    "wrong_production",
    "medium_not_covered",
    "activity_not_covered",
    "purpose_not_covered",
    "territory_not_covered",
    "not_yet_valid",
    "expired",
    "revoked",
)
ASSURANCE_ORDER = ("self_asserted", "email_verified", "vouched")


@dataclass(frozen=True)
class UseQuery:
    """One intended use of a person's likeness."""

    medium: str
    activity: str
    purpose: str
    territory: str
    on: date
    production: str | None = None
    min_assurance: str | None = None


@dataclass(frozen=True)
class SubjectFacts:
    """What the decision needs to know about the person."""

    assurance: str  # the level at this moment: ``vouched`` only while a verified guild or agency vouches
    disputed: bool
    adult_on: date | None  # set only while the subject is recorded as a minor
    public: bool = False
    # A minor or a deceased person, and no verified guild or agency vouches for the representative's
    # authority (guardianship, executorship): every answer says so.
    authority_unverified: bool = False


@dataclass(slots=True)
class ConsentFacts:
    """A signed consent (any status but draft), as plain values. Treat it as immutable.

    Not ``frozen``: a frozen dataclass's ``__init__`` sets each of the 14 fields through
    ``object.__setattr__``, about 8 times slower than this one, and a bulk verification builds
    ~10,000 of these per request (15 ms of CPU against 2 ms, measured). Nothing here mutates one.
    """

    public_id: str
    effect: str
    status: str
    grantee: str  # "*" or an organization's public id
    production: str | None
    media_mask: int
    activity_mask: int
    purpose_mask: int
    territories: frozenset[str]  # {"*"} for everywhere
    valid_from: date
    valid_until: date | None
    revocation_effective_at: datetime | None
    digest: str
    conditions: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Decision:
    decision: str
    reasons: tuple[str, ...]
    consent: ConsentFacts | None = None


# Misses are bit flags in the vocabulary's order: the decision combines and counts them for ~10,000
# consents per bulk request, where a set per consent cost twice the checks themselves.
_FLAG = {reason: 1 << position for position, reason in enumerate(REASONS)}
WRONG_GRANTEE, WRONG_PRODUCTION = _FLAG["wrong_grantee"], _FLAG["wrong_production"]
MEDIUM_MISS, ACTIVITY_MISS, PURPOSE_MISS = (
    _FLAG["medium_not_covered"],
    _FLAG["activity_not_covered"],
    _FLAG["purpose_not_covered"],
)
TERRITORY_MISS, NOT_YET_VALID = _FLAG["territory_not_covered"], _FLAG["not_yet_valid"]
EXPIRED, REVOKED, NOT_ACTIVE = _FLAG["expired"], _FLAG["revoked"], _FLAG["no_matching_consent"]
_REASONS_OF: dict[int, tuple[str, ...]] = {}


def _ordered(flags: int) -> tuple[str, ...]:
    """The reasons named by ``flags``, in the vocabulary's order."""
    reasons = _REASONS_OF.get(flags)
    if reasons is None:
        reasons = _REASONS_OF[flags] = tuple(reason for reason in REASONS if flags & _FLAG[reason])
    return reasons


def _misses(
    consent: ConsentFacts,
    adult_on: date | None,
    query: UseQuery,
    caller: str,
    now: datetime,
    bits: tuple[int, int, int],
) -> int:
    """Why ``consent`` does not cover the use, as flags: every scope miss, and at most one time miss.

    One function rather than one per kind of miss: it runs for every consent of every query
    (10,000 times in a bulk request), where each call costs more than the checks themselves.
    """
    misses = 0
    # Scope: grantee, production, medium, activity, purpose, territory.
    if consent.grantee != v.ANY and consent.grantee != caller:
        misses = WRONG_GRANTEE
    if consent.production is not None and consent.production != query.production:
        misses |= WRONG_PRODUCTION
    if not consent.media_mask & bits[0]:
        misses |= MEDIUM_MISS
    if not consent.activity_mask & bits[1]:
        misses |= ACTIVITY_MISS
    if not consent.purpose_mask & bits[2]:
        misses |= PURPOSE_MISS
    if v.ANY not in consent.territories and query.territory not in consent.territories:
        misses |= TERRITORY_MISS
    # Time: the first that applies of not yet valid, expired, revoked, not active.
    if query.on < consent.valid_from:
        return misses | NOT_YET_VALID
    if (
        consent.status == "expired"
        or (consent.valid_until is not None and query.on > consent.valid_until)
        # A consent given for a minor ends the day before they come of age.
        or (adult_on is not None and query.on >= adult_on)
    ):
        misses |= EXPIRED
    elif consent.status == "revoked":
        effective = consent.revocation_effective_at
        # The day it takes effect is its UTC date, whatever time zone the value arrived in.
        if effective is None or now >= effective or query.on >= effective.astimezone(UTC).date():
            misses |= REVOKED
    elif consent.status != "active":
        misses |= NOT_ACTIVE
    return misses


def _bit(vocabulary: tuple[str, ...], key: str) -> int:
    return v.bit(vocabulary, key) if key in vocabulary else 0


def query_bits(query: UseQuery) -> tuple[int, int, int]:
    """The query's medium, activity and purpose as mask bits (0 for a key outside the vocabulary)."""
    return (
        _bit(v.MEDIA_KEYS, query.medium),
        _bit(v.ACTIVITY_KEYS, query.activity),
        _bit(v.PURPOSE_KEYS, query.purpose),
    )


# A consent as the decision weighs it once its misses are known: (misses, effect, grantee,
# production is None, public id, what ``weigh`` hands back when it is the one cited). ``decide``
# makes these from ``ConsentFacts``; the bulk path has the database compute the misses
# (``consent.rules.decision_sql``) and makes them straight from its rows.
Candidate = tuple[int, str, str, bool, str, Any]
UNKNOWN_ANSWER = (UNKNOWN, ("subject_unknown",), None)


def _preference(candidate: Candidate) -> tuple[bool, bool, str]:
    # Prefer a consent naming the caller over one for everyone, then one naming a production.
    return candidate[2] == v.ANY, candidate[3], candidate[4]


def weigh(
    *,
    query: UseQuery,
    caller: str,
    subject: SubjectFacts,
    candidates: Sequence[Candidate],
    to_representative: bool = False,
) -> tuple[str, tuple[str, ...], Any]:
    """The decision, its reasons and the cited candidate's last item, from consents whose misses
    are known. ``candidates`` come in consent id order: the first matching deny is the one cited.
    ``to_representative``: the answer goes to one of the subject's representatives, who may learn
    that their consents name other organizations (``wrong_grantee``)."""
    answer = _weigh(query, caller, subject, candidates, to_representative)
    if subject.authority_unverified and answer is not UNKNOWN_ANSWER:
        return answer[0], _with_authority_unverified(answer[1]), answer[2]
    return answer


def _with_authority_unverified(reasons: tuple[str, ...]) -> tuple[str, ...]:
    found = _AUTHORITY_REASONS.get(reasons)
    if found is None:
        found = _AUTHORITY_REASONS[reasons] = tuple(sorted({*reasons, "authority_unverified"}, key=REASONS.index))
    return found


_AUTHORITY_REASONS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _weigh(
    query: UseQuery, caller: str, subject: SubjectFacts, candidates: Sequence[Candidate], to_representative: bool
) -> tuple[str, tuple[str, ...], Any]:
    if not subject.public and not any(c[2] == v.ANY or c[2] == caller for c in candidates):
        return UNKNOWN_ANSWER
    permits: list[Candidate] = []
    near: list[int] = []  # the misses of each permit for the caller or everyone
    others = False
    for candidate in candidates:
        missed, effect = candidate[0], candidate[1]
        if effect == "deny":
            if not missed:
                return DENIED, ("denied_by_subject",), candidate[5]
        elif effect == "permit":
            if not missed:
                permits.append(candidate)
            elif candidate[2] == v.ANY or candidate[2] == caller:
                near.append(missed)
            else:
                others = True
    if subject.disputed:
        return DENIED, ("disputed",), None
    if permits:
        wanted = query.min_assurance
        if wanted and (
            ASSURANCE_ORDER.index(subject.assurance) < ASSURANCE_ORDER.index(wanted)
            # Whatever the level says, an unverified guardian or estate is not "vouched".
            or (wanted == "vouched" and subject.authority_unverified)
        ):
            return DENIED, ("assurance_too_low",), None
        return PERMITTED, (), min(permits, key=_preference)[5]
    if not near:
        # Telling an organization "wrong grantee" would tell it that the person has consents with
        # someone else: only the person's own representatives hear it.
        return DENIED, ("wrong_grantee",) if others and to_representative else ("no_matching_consent",), None
    fewest = min(missed.bit_count() for missed in near)
    union = 0
    for missed in near:
        if missed.bit_count() == fewest:
            union |= missed
    return DENIED, _ordered(union), None


def decide(
    *,
    query: UseQuery,
    caller: str,
    subject: SubjectFacts | None,
    consents: Sequence[ConsentFacts],
    now: datetime,
    to_representative: bool = False,
) -> Decision:
    """The answer to one verification query, with its reasons (``consents`` in id order)."""
    if subject is None:
        return Decision(UNKNOWN, ("subject_unknown",))
    bits = query_bits(query)  # once per query rather than once per consent
    candidates = [
        (
            _misses(consent, subject.adult_on, query, caller, now, bits),
            consent.effect,
            consent.grantee,
            consent.production is None,
            consent.public_id,
            consent,
        )
        for consent in consents
    ]
    decision, reasons, cited = weigh(
        query=query, caller=caller, subject=subject, candidates=candidates, to_representative=to_representative
    )
    return Decision(decision, reasons, cited)
