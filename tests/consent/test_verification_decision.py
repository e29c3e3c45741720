"""The pure decision function: fixed examples for each rule, and properties with hypothesis."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consent import vocabulary as v
from consent.rules.decision import (
    DENIED,
    PERMITTED,
    REASONS,
    UNKNOWN,
    ConsentFacts,
    SubjectFacts,
    UseQuery,
    decide,
)

NOW = datetime(2027, 1, 1, 12, tzinfo=UTC)
CALLER = "org_caller000000000000000000"
OTHER = "org_other0000000000000000000"
ADULT = SubjectFacts(assurance="email_verified", disputed=False, adult_on=None)
QUERY = UseQuery(medium="face", activity="generate", purpose="film_tv", territory="ID", on=date(2027, 3, 1))


def consent(**over):
    base = dict(
        public_id="con_a",
        effect="permit",
        status="active",
        grantee=CALLER,
        production=None,
        media_mask=v.media_mask(["face"]),
        activity_mask=v.activity_mask(["generate"]),
        purpose_mask=v.purpose_mask(["film_tv"]),
        territories=frozenset({"ID"}),
        valid_from=date(2026, 1, 1),
        valid_until=None,
        revocation_effective_at=None,
        digest="sha256:" + "0" * 64,
    )
    base.update(over)
    return ConsentFacts(**base)


def run(consents, subject=ADULT, query=QUERY, caller=CALLER):
    return decide(query=query, caller=caller, subject=subject, consents=consents, now=NOW)


def test_matching_permit_is_permitted_with_the_consent():
    answer = run([consent()])
    assert answer.decision == PERMITTED
    assert answer.consent.public_id == "con_a"
    assert answer.reasons == ()


def test_matching_deny_wins_over_any_permit():
    answer = run([consent(), consent(public_id="con_d", effect="deny", grantee="*")])
    assert (answer.decision, answer.reasons, answer.consent.public_id) == (DENIED, ("denied_by_subject",), "con_d")


def test_unknown_for_missing_subject_and_for_a_subject_the_caller_may_not_know():
    assert run([], subject=None).decision == UNKNOWN
    hidden = run([consent(grantee=OTHER)])
    assert (hidden.decision, hidden.reasons) == (UNKNOWN, ("subject_unknown",))
    assert hidden == run([], subject=None)  # the very same answer


def test_public_subject_with_nothing_for_the_caller_is_denied_not_unknown():
    answer = run([], subject=SubjectFacts("self_asserted", False, None, public=True))
    assert (answer.decision, answer.reasons) == (DENIED, ("no_matching_consent",))


def test_consents_with_other_organizations_are_no_matching_consent_to_an_organization():
    # Saying "wrong grantee" would tell the caller the person has consents with someone else.
    records = [
        consent(grantee=OTHER),
        consent(public_id="con_b", effect="deny", grantee="*", purpose_mask=v.purpose_mask(["political"])),
    ]
    answer = run(records)
    assert (answer.decision, answer.reasons) == (DENIED, ("no_matching_consent",))
    assert answer == run(records[1:])  # the very same answer as without the other organization's consent


def test_the_persons_representative_hears_wrong_grantee():
    records = [
        consent(grantee=OTHER),
        consent(public_id="con_b", effect="deny", grantee="*", purpose_mask=v.purpose_mask(["political"])),
    ]
    answer = decide(query=QUERY, caller=CALLER, subject=ADULT, consents=records, now=NOW, to_representative=True)
    assert (answer.decision, answer.reasons) == (DENIED, ("wrong_grantee",))


def test_authority_unverified_is_added_to_every_answer_but_unknown():
    unverified = SubjectFacts("vouched", False, None, authority_unverified=True)
    assert run([consent()], subject=unverified).reasons == ("authority_unverified",)
    assert run([consent()], subject=unverified).decision == PERMITTED
    wants_vouched = UseQuery("face", "generate", "film_tv", "ID", date(2027, 3, 1), min_assurance="vouched")
    assert run([consent()], subject=unverified, query=wants_vouched).reasons == (
        "assurance_too_low",
        "authority_unverified",
    )
    assert run([consent(territories=frozenset({"US"}))], subject=unverified).reasons == (
        "authority_unverified",
        "territory_not_covered",
    )
    assert run([consent(grantee=OTHER)], subject=unverified).reasons == ("subject_unknown",)


def test_likeness_covers_every_medium():
    for medium in v.MEDIA_KEYS:
        query = UseQuery(medium, "generate", "film_tv", "ID", date(2027, 3, 1))
        assert run([consent(media_mask=v.media_mask(["likeness"]))], query=query).decision == PERMITTED


def test_star_never_covers_sensitive_purposes():
    star = consent(purpose_mask=v.purpose_mask(["*"]))
    for purpose in v.PURPOSE_KEYS:
        query = UseQuery("face", "generate", purpose, "ID", date(2027, 3, 1))
        expected = DENIED if purpose in v.SENSITIVE_PURPOSES else PERMITTED
        assert run([star], query=query).decision == expected
    named = consent(purpose_mask=v.purpose_mask(["political"]))
    assert run([named], query=UseQuery("face", "generate", "political", "ID", date(2027, 3, 1))).decision == PERMITTED


def test_star_territory_is_everywhere():
    assert (
        run(
            [consent(territories=frozenset({"*"}))],
            query=UseQuery("face", "generate", "film_tv", "US", date(2027, 3, 1)),
        ).decision
        == PERMITTED
    )


def test_each_mismatch_names_its_reason():
    cases = {
        "wrong_production": consent(production="Other Film"),
        "medium_not_covered": consent(media_mask=v.media_mask(["voice"])),
        "activity_not_covered": consent(activity_mask=v.activity_mask(["alter"])),
        "purpose_not_covered": consent(purpose_mask=v.purpose_mask(["advertising"])),
        "territory_not_covered": consent(territories=frozenset({"US"})),
        "not_yet_valid": consent(valid_from=date(2027, 6, 1)),
        "expired": consent(valid_until=date(2027, 2, 1)),
    }
    for reason, record in cases.items():
        answer = run([record])
        assert (answer.decision, answer.reasons) == (DENIED, (reason,)), reason


def test_revocation_takes_effect_at_its_time():
    revoked_now = consent(status="revoked", revocation_effective_at=NOW - timedelta(seconds=1))
    assert run([revoked_now]).reasons == ("revoked",)
    notice = consent(status="revoked", revocation_effective_at=NOW + timedelta(days=30))
    assert run([notice], query=UseQuery("face", "generate", "film_tv", "ID", date(2027, 1, 15))).decision == PERMITTED
    assert run([notice], query=UseQuery("face", "generate", "film_tv", "ID", date(2027, 3, 1))).reasons == ("revoked",)


def test_expired_status_wins_even_if_dates_look_fine():
    assert run([consent(status="expired")]).reasons == ("expired",)


def test_a_minor_consent_ends_before_they_come_of_age():
    minor = SubjectFacts("email_verified", False, adult_on=date(2027, 2, 1))
    assert run([consent()], subject=minor).reasons == ("expired",)
    early = UseQuery("face", "generate", "film_tv", "ID", date(2027, 1, 31))
    assert run([consent()], subject=minor, query=early).decision == PERMITTED


def test_assurance_below_minimum_is_denied():
    query = UseQuery("face", "generate", "film_tv", "ID", date(2027, 3, 1), min_assurance="vouched")
    assert run([consent()], query=query).reasons == ("assurance_too_low",)
    vouched = SubjectFacts("vouched", False, None)
    assert run([consent()], subject=vouched, query=query).decision == PERMITTED


def test_open_dispute_freezes_permits():
    disputed = SubjectFacts("vouched", True, None)
    assert (run([consent()], subject=disputed).decision, run([consent()], subject=disputed).reasons) == (
        DENIED,
        ("disputed",),
    )


def test_production_named_permit_matches_that_production_only():
    named = consent(production="Layar Lebar")
    assert (
        run(
            [named], query=UseQuery("face", "generate", "film_tv", "ID", date(2027, 3, 1), production="Layar Lebar")
        ).decision
        == PERMITTED
    )
    assert run([named]).reasons == ("wrong_production",)
    assert (
        run(
            [consent()], query=UseQuery("face", "generate", "film_tv", "ID", date(2027, 3, 1), production="Any")
        ).decision
        == PERMITTED
    )


# --- properties --------------------------------------------------------------------------------

masks = st.integers(min_value=1, max_value=(1 << len(v.MEDIA_KEYS)) - 1)
activities = st.integers(min_value=1, max_value=(1 << len(v.ACTIVITY_KEYS)) - 1)
purposes = st.integers(min_value=1, max_value=(1 << len(v.PURPOSE_KEYS)) - 1)
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
territory_sets = st.one_of(st.just(frozenset({"*"})), st.frozensets(st.sampled_from(["ID", "US", "FR"]), min_size=1))
consents = st.builds(
    ConsentFacts,
    public_id=st.sampled_from(["con_1", "con_2", "con_3"]),
    effect=st.sampled_from(["permit", "deny"]),
    status=st.sampled_from(["active", "revoked", "expired"]),
    grantee=st.sampled_from([CALLER, OTHER, "*"]),
    production=st.sampled_from([None, "Film A"]),
    media_mask=masks,
    activity_mask=activities,
    purpose_mask=purposes,
    territories=territory_sets,
    valid_from=days,
    valid_until=st.one_of(st.none(), days),
    revocation_effective_at=st.one_of(
        st.none(), st.datetimes(min_value=datetime(2026, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC))
    ),
    digest=st.just("sha256:" + "1" * 64),
)
queries = st.builds(
    UseQuery,
    medium=st.sampled_from(v.MEDIA_KEYS),
    activity=st.sampled_from(v.ACTIVITY_KEYS),
    purpose=st.sampled_from(v.PURPOSE_KEYS),
    territory=st.sampled_from(["ID", "US", "FR"]),
    on=days,
    production=st.sampled_from([None, "Film A"]),
    min_assurance=st.sampled_from([None, "email_verified", "vouched"]),
)
subjects = st.builds(
    SubjectFacts,
    assurance=st.sampled_from(["self_asserted", "email_verified", "vouched"]),
    disputed=st.booleans(),
    adult_on=st.one_of(st.none(), days),
    public=st.booleans(),
    authority_unverified=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(query=queries, subject=subjects, records=st.lists(consents, max_size=5))
def test_every_answer_uses_the_vocabulary_and_permits_only_with_a_fully_matching_consent(query, subject, records):
    answer = decide(query=query, caller=CALLER, subject=subject, consents=records, now=NOW)
    assert answer.decision in (PERMITTED, DENIED, UNKNOWN)
    assert set(answer.reasons) <= set(REASONS)
    assert "wrong_grantee" not in answer.reasons  # never said to an organization
    if answer.decision != UNKNOWN:
        assert ("authority_unverified" in answer.reasons) is subject.authority_unverified
        assert list(answer.reasons) == sorted(answer.reasons, key=REASONS.index)
    if answer.decision == PERMITTED:
        chosen = answer.consent
        assert not subject.disputed
        assert not (query.min_assurance == "vouched" and subject.authority_unverified)
        assert chosen.effect == "permit"
        assert chosen.grantee in ("*", CALLER)
        assert chosen.status in ("active", "revoked")
        assert chosen.valid_from <= query.on
        assert chosen.valid_until is None or query.on <= chosen.valid_until
        assert subject.adult_on is None or query.on < subject.adult_on
        assert chosen.purpose_mask & v.bit(v.PURPOSE_KEYS, query.purpose)
        if query.purpose in v.SENSITIVE_PURPOSES:
            assert chosen.purpose_mask & v.bit(v.PURPOSE_KEYS, query.purpose)
    else:
        assert answer.reasons


@settings(max_examples=300, deadline=None)
@given(query=queries, subject=subjects, records=st.lists(consents, max_size=5))
def test_adding_a_matching_deny_always_denies(query, subject, records):
    deny = ConsentFacts(
        public_id="con_deny",
        effect="deny",
        status="active",
        grantee="*",
        production=None,
        media_mask=v.media_mask(["likeness"]),
        activity_mask=(1 << len(v.ACTIVITY_KEYS)) - 1,
        purpose_mask=(1 << len(v.PURPOSE_KEYS)) - 1,
        territories=frozenset({"*"}),
        valid_from=date(2000, 1, 1),
        valid_until=None,
        revocation_effective_at=None,
        digest="sha256:" + "2" * 64,
    )
    if subject.adult_on is not None and query.on >= subject.adult_on:
        subject = SubjectFacts(subject.assurance, subject.disputed, None, subject.public, subject.authority_unverified)
    answer = decide(query=query, caller=CALLER, subject=subject, consents=[*records, deny], now=NOW)
    assert answer.decision == DENIED
    expected = ("denied_by_subject", "authority_unverified") if subject.authority_unverified else ("denied_by_subject",)
    assert answer.reasons == expected


@settings(max_examples=200, deadline=None)
@given(query=queries, subject=subjects, records=st.lists(consents, max_size=5))
def test_without_permits_nothing_is_permitted(query, subject, records):
    only_denies = [r for r in records if r.effect == "deny"]
    answer = decide(query=query, caller=CALLER, subject=subject, consents=only_denies, now=NOW)
    assert answer.decision != PERMITTED
