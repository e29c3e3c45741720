"""One timestamp format in API output: every instant a client reads is RFC 3339 in UTC with ``Z``
(as DRF renders its own fields); dates stay ``YYYY-MM-DD``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
LOOKS_LIKE_AN_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


@pytest.mark.django_db
def test_every_instant_in_the_subject_and_consent_answers_ends_in_z(signed, client_for, studio) -> None:
    subject, person, consent = signed()
    api = client_for(person)
    _, studio_api = studio
    studio_api.post(
        "/api/v1/verifications",
        {
            "subject": subject.public_id,
            "media": "face",
            "activity": "generate",
            "purpose": "film_tv",
            "territory": "ID",
        },
        format="json",
    )
    answers = {
        path: api.get(path)
        for path in (
            f"/api/v1/subjects/{subject.public_id}",
            f"/api/v1/consents/{consent.public_id}",
            f"/api/v1/consents/{consent.public_id}/history",
            f"/api/v1/subjects/{subject.public_id}/access-log",
            f"/api/v1/subjects/{subject.public_id}/keys",
            f"/api/v1/consents?subject={subject.public_id}",
        )
    }
    seen = []
    for path, response in answers.items():
        assert response.status_code == 200, (path, response.content[:300])
        for where, text in _strings(response.json()):
            if LOOKS_LIKE_AN_INSTANT.match(text):
                seen.append(where)
                assert INSTANT.match(text), f"{path} {where}: {text!r}"
    # The walk met the instants it is about (not a vacuous pass).
    assert any(where.endswith(".created") for where in seen)
    assert any(where.endswith(".signed_at") for where in seen)
    assert any(where.endswith(".at") for where in seen)


def test_the_check_refuses_the_offset_form() -> None:
    assert not INSTANT.match("2026-12-06T14:05:09.123456+00:00")
    assert INSTANT.match("2026-12-06T14:05:09.123456Z")
