"""What is in the test database, to prove that a request or a failure wrote nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from django.apps import apps


def _plain(value: Any) -> Any:
    # PostgreSQL hands bytea back as a memoryview, whose repr is its address: compare the bytes.
    return bytes(value) if isinstance(value, memoryview) else value


# Rows that count requests rather than record anything: a throttle counts a refused request too
# (as the cache did before the embedded default counted in a table), and no user would call that
# a change of state.
_REQUEST_ACCOUNTING = {"api.ThrottleCounter"}


def database_snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of all its rows: equal before and after = nothing written."""
    tables = {}
    for model in apps.get_models():
        if model._meta.label in _REQUEST_ACCOUNTING:
            continue
        rows = [tuple(map(_plain, row)) for row in model._base_manager.order_by("pk").values_list()]
        tables[model._meta.label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return tables
