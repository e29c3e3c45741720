"""The hot path's plain input check agrees with the serializers it stands in for.

``_quick_check`` (verification, bulk, consent tokens) must accept only what ``CheckIn`` accepts
unchanged and return exactly its validated data; ``token_input`` must answer as ``TokenIn``. Drawn
from well-formed queries with one field spoiled at a time, so both sides of every test are met.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from consent import vocabulary as v
from consent.api.views.verification import CheckIn, TokenIn, _quick_check, token_input
from consent.rules.decision import ASSURANCE_ORDER

WELL_FORMED = {
    "subject": st.sampled_from(["sub_0123456789abcdefghjkmnpqrs", "sub_x", "a" * 40]),
    "medium": st.sampled_from(v.MEDIA_KEYS),
    "activity": st.sampled_from(v.ACTIVITY_KEYS),
    "purpose": st.sampled_from(v.PURPOSE_KEYS),
    "territory": st.sampled_from(["ID", "id", "Fr", "US"]),
    "date": st.sampled_from(["2026-12-06", "2030-02-28"]),
    "production": st.none() | st.sampled_from(["Film A", "x" * 200]),
    "min_assurance": st.none() | st.sampled_from(list(ASSURANCE_ORDER)),
}
OPTIONAL = ("activity", "production", "min_assurance")
SPOILED = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.just(""),
    st.just(" padded "),
    st.just("x" * 201),
    st.just("2026-02-30"),
    st.just("20261206"),
    st.just("ZZ"),
    st.just("IDN"),
    st.just("line\nbreak"),
    st.just([]),
    st.just({}),
    st.text(max_size=5),
)


@st.composite
def queries(draw: Any) -> Any:
    query = {name: draw(strategy) for name, strategy in WELL_FORMED.items()}
    for name in OPTIONAL:
        if draw(st.booleans()):
            query.pop(name)
    action = draw(st.sampled_from(["keep", "spoil", "drop", "add", "not a dict"]))
    if action == "spoil":
        query[draw(st.sampled_from(sorted(WELL_FORMED)))] = draw(SPOILED)
    elif action == "drop":
        query.pop(draw(st.sampled_from(sorted(query))))
    elif action == "add":
        query[draw(st.sampled_from(["extra", "grantee", "Subject"]))] = draw(SPOILED | st.just("org_x"))
    elif action == "not a dict":
        return draw(st.sampled_from([[query], "query", None, 7]))
    return query


def serializer_answer(serializer_class: Any, data: Any) -> Any:
    serializer = serializer_class(data=data)
    return dict(serializer.validated_data) if serializer.is_valid() else ("invalid", serializer.errors)


@settings(max_examples=400, deadline=None)
@given(queries())
@example({"subject": "sub_x", "medium": "face", "purpose": "film_tv", "territory": "id", "date": "2026-12-06"})
def test_the_quick_check_returns_the_serializers_data_or_steps_aside(data: Any) -> None:
    quick = _quick_check(data)
    if quick is not None:
        assert quick == serializer_answer(CheckIn, data)


@settings(max_examples=400, deadline=None)
@given(queries(), st.none() | st.sampled_from(["org_0123456789abcdefghjkmnpqrs", "", " org_x", None, 5, "x" * 41]))
def test_token_input_answers_as_token_in(data: Any, grantee: Any) -> None:
    if isinstance(data, dict) and grantee is not None:
        data = {**data, "grantee": grantee}
    expected = serializer_answer(TokenIn, data)
    if isinstance(expected, tuple):
        with pytest.raises(ValidationError) as refused:
            token_input(data)
        assert refused.value.detail == expected[1]
    else:
        fields, named = token_input(data)
        assert named == expected.pop("grantee", None)
        assert fields == expected
