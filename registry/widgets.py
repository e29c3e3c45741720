"""Form widgets shared by every app's pages.

``<input type="date">`` accepts one value format only, ISO 8601 ``YYYY-MM-DD``, and shows it in
the reader's own format; any other value (Django's localized ``06-12-2026`` for Indonesian) is
silently dropped by the browser, so the field comes up empty. ``IsoDateInput`` therefore always
renders ISO, whatever the active language, and ``IsoDateField`` is a ``DateField`` that uses it.
Every date field of every form uses ``IsoDateField`` (or at least ``IsoDateInput``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """A native date picker whose value is always ``YYYY-MM-DD``."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)

    def format_value(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        # A string is what the person sent back (a bound form): the browser only ever sends ISO,
        # so it is echoed as it came; anything else would be dropped by the browser anyway.
        return str(value)


class IsoDateField(forms.DateField):
    """A ``DateField`` with the ISO date picker; parses ISO first, then the language's formats."""

    widget = IsoDateInput

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, str):
            try:
                return datetime.strptime(value.strip(), ISO_DATE).date()
            except ValueError:
                pass
        return super().to_python(value)
