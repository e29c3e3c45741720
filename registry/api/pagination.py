"""Cursor pagination: ``{"results", "next", "previous"}``, stable under inserts."""

from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first by creation time; the cursor never exposes database ids."""

    ordering = "-created"
    page_size_query_param = "page_size"
    max_page_size = 200
