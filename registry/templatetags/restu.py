"""Template filters for people rather than programs: plain labels for vocabulary codes, dates
that a browser shows in the reader's own time zone.

``{% load restu %}``, then ``{{ entry.query|use_summary }}`` or ``{{ entry.created|local_time }}``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def _language() -> str:
    return (get_language() or "en").split("-")[0]


@register.filter
def medium_label(key: str) -> str:
    from consent import vocabulary as v

    if key == v.LIKENESS:
        return str(v.LIKENESS_LABEL)
    return v.label_of(v.MEDIA, key)


@register.filter
def activity_label(key: str) -> str:
    from consent import vocabulary as v

    return v.label_of(v.ACTIVITIES, key)


@register.filter
def purpose_label(key: str) -> str:
    from consent import vocabulary as v

    if key == v.ANY:
        return _("All purposes")
    return v.label_of(v.PURPOSES, key)


@register.filter
def country_label(code: str) -> str:
    from consent.rules.statements import country_name

    if code == "*":
        return _("Everywhere")
    return country_name(code, _language())


@register.filter
def use_summary(query: dict[str, Any] | None) -> str:
    """A checked use in plain words: "Face · Generate · Film and TV · Indonesia"."""
    if not isinstance(query, dict):
        return ""
    parts = []
    if query.get("medium"):
        parts.append(medium_label(query["medium"]))
    if query.get("activity"):
        parts.append(activity_label(query["activity"]))
    if query.get("purpose"):
        parts.append(purpose_label(query["purpose"]))
    if query.get("territory"):
        parts.append(country_label(query["territory"]))
    elif query.get("territories"):
        parts.append(", ".join(country_label(code) for code in query["territories"]))
    if query.get("production"):
        parts.append(f"“{query['production']}”")
    return " · ".join(parts)


@register.filter
def decision_label(decision: str) -> str:
    """A verification's answer in words; the one rendering of "unknown" on every page.

    These words live in the project catalogue, which comes first: Django's own catalogue would
    otherwise translate a bare "Unknown" differently ("Tidak diketahui").
    """
    words = {"permitted": _("Permitted"), "denied": _("Denied"), "unknown": _("Unknown")}
    return words.get(decision, words["unknown"])


@register.filter
def local_time(moment: datetime | None) -> str:
    """A moment as ``<time>``: readable in UTC (zone named) for every reader, and turned into the
    reader's own time and zone by static/js/local-time.js where scripts run."""
    if not isinstance(moment, datetime):
        return ""
    utc = moment.astimezone(UTC) if timezone.is_aware(moment) else moment
    shown = formats.date_format(utc, "j F Y, H:i")
    return format_html('<time datetime="{}" data-local-time>{} UTC</time>', utc.strftime("%Y-%m-%dT%H:%M:%SZ"), shown)


@register.filter
def long_date(day: date | None) -> str:
    if not isinstance(day, date):
        return ""
    return formats.date_format(day, "j F Y")
