"""What is in the test database, to prove that a request or a failure wrote nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from django.apps import apps


def _plain(value: Any) -> Any:
    # PostgreSQL hands bytea back as a memoryview, whose repr is its address: compare the bytes.
    return bytes(value) if isinstance(value, memoryview) else value


def database_snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of all its rows: equal before and after = nothing written."""
    tables = {}
    for model in apps.get_models():
        rows = [tuple(map(_plain, row)) for row in model._base_manager.order_by("pk").values_list()]
        tables[model._meta.label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return tables
