"""One timestamp format in API output: RFC 3339, UTC, ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from registry.lib.timestamps import rfc3339, rfc3339_or_none


def test_a_moment_in_any_zone_is_written_in_utc_with_z() -> None:
    jakarta = timezone(timedelta(hours=7))
    assert rfc3339(datetime(2026, 12, 6, 21, 5, 9, tzinfo=jakarta)) == "2026-12-06T14:05:09Z"
    assert rfc3339(datetime(2026, 12, 6, 14, 5, 9, 120000, tzinfo=UTC)) == "2026-12-06T14:05:09.120000Z"


def test_it_matches_what_drf_renders_for_its_own_fields() -> None:
    moment = datetime(2026, 12, 6, 14, 5, 9, 987654, tzinfo=UTC)
    assert rfc3339(moment) == serializers.DateTimeField().to_representation(moment)


def test_a_naive_moment_is_refused_and_none_stays_none() -> None:
    with pytest.raises(ValueError, match="naive"):
        rfc3339(datetime(2026, 12, 6, 14, 5, 9))
    assert rfc3339_or_none(None) is None
