"""Cursor pagination: ``{"results", "next", "previous"}``, stable under inserts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first by creation time; the cursor never exposes database ids."""

    ordering = "-created"
    page_size_query_param = "page_size"
    max_page_size = 200


def whole_list(name: str, item: serializers.Field | type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of a list answered whole, in the paginated shape: ``next`` and ``previous`` are null.

    Short lists (a subject's keys, a consent's history) are not paginated, but API.md gives every
    list the same envelope, so a client reads them all alike.
    """
    results: Any = item(many=True) if isinstance(item, type) else serializers.ListField(child=item)
    return inline_serializer(
        name,
        {
            "results": results,
            "next": serializers.URLField(allow_null=True, help_text="Always null: the whole list is in results."),
            "previous": serializers.URLField(allow_null=True, help_text="Always null."),
        },
    )
