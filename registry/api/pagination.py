"""Cursor pagination: ``{"results", "next", "previous"}``, stable under inserts."""

from __future__ import annotations

import binascii
from base64 import b64decode
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, Model
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from registry.errors import ValidationFailed

_CURSOR_KEYS = frozenset({"o", "r", "p"})


def _bad_cursor(why: str) -> ValidationFailed:
    return ValidationFailed(
        "The cursor is not one this server made; follow the next and previous links as they are.",
        errors={"cursor": [why]},
    )


class CreatedCursorPagination(CursorPagination):
    """Newest first by creation time; the cursor never exposes database ids.

    A cursor is opaque: one the server did not make (not base64, an offset that is not a number,
    a position that is not a value of the ordering field) is a 400 problem naming ``cursor``, never
    a 404 or a database error.
    """

    ordering = "-created"
    page_size_query_param = "page_size"
    max_page_size = 200

    _model: type[Model] | None = None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        self._model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        except (UnicodeError, binascii.Error, ValueError):
            raise _bad_cursor("Not a cursor (it is not base64 of ASCII text).") from None
        try:
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True, max_num_fields=3)
        except ValueError:
            raise _bad_cursor("Not a cursor (its fields are malformed).") from None
        if not tokens or set(tokens) - _CURSOR_KEYS or any(len(values) != 1 for values in tokens.values()):
            raise _bad_cursor("Not a cursor (unknown or repeated fields).")
        offset_text = tokens.get("o", ["0"])[0]
        if not offset_text.isdigit():
            raise _bad_cursor("The cursor's offset is not a number.")
        offset = min(int(offset_text), self.offset_cutoff)
        reverse_text = tokens.get("r", ["0"])[0]
        if reverse_text not in ("0", "1"):
            raise _bad_cursor("The cursor's direction is not 0 or 1.")
        position = tokens.get("p", [None])[0]
        if position is not None:
            position = self._checked_position(position)
        return Cursor(offset=offset, reverse=reverse_text == "1", position=position)  # type: ignore[arg-type]  # DRF keeps it as text

    def _checked_position(self, position: str) -> str:
        """The position, once it reads as a value of the ordering field: text that does not would
        reach the database filter and fail there (a 500). It is passed on as text, as DRF made it."""
        if not position:
            raise _bad_cursor("The cursor's position is empty.")
        if self._model is None:
            return position
        name = self.ordering[0].lstrip("-") if isinstance(self.ordering, (list, tuple)) else self.ordering.lstrip("-")
        try:
            field = self._model._meta.get_field(name)
        except FieldDoesNotExist:
            return position
        if not isinstance(field, Field):
            return position
        try:
            value = field.to_python(position)
        except (ValidationError, ValueError, TypeError, OverflowError):
            raise _bad_cursor("The cursor's position is not a value of the list's order.") from None
        if value is None:
            raise _bad_cursor("The cursor's position is not a value of the list's order.")
        return position


def whole_list(
    name: str, item: serializers.Field[Any, Any, Any, Any] | type[serializers.Serializer[Any]]
) -> serializers.Serializer[Any]:
    """The schema of a list answered whole, in the paginated shape: ``next`` and ``previous`` are null.

    Short lists (a subject's keys, a consent's history) are not paginated, but docs/api.md gives every
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


def whole_list_response(results: Any) -> Response:
    """A list answered whole, in the paginated envelope (``whole_list`` is its schema)."""
    return Response({"results": results, "next": None, "previous": None})
