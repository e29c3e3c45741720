"""The plain-language summary of a consent, in the reader's language.

The summary the signer was shown is stored with the signed consent and its digest
(``notice_digest``) is kept, so it can later be shown exactly what someone agreed to.
"""

from __future__ import annotations

import gettext
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import pycountry
from django.utils import formats
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import override

from consent import vocabulary as v

if TYPE_CHECKING:
    from consent.models import Consent

LANGUAGES = ("en", "id")

# Verb phrases per activity, with the medium in the object ("generate new video of your face").
_ACTIVITY_PHRASES = {
    "create_replica": lambda: _("create a digital replica of"),
    "train_model": lambda: _("train an AI model on"),
    "generate": lambda: _("generate new material of"),
    "alter": lambda: _("alter existing recordings of"),
}
_PURPOSE_PHRASES = {
    "film_tv": lambda: _("film and TV"),
    "advertising": lambda: _("advertising"),
    "education": lambda: _("education"),
    "news_documentary": lambda: _("news and documentaries"),
    "satire_parody": lambda: _("satire and parody"),
    "art": lambda: _("art"),
    "game_interactive": lambda: _("games and interactive work"),
    "ai_training": lambda: _("AI training"),
    "research": lambda: _("research"),
    "political": lambda: _("political content"),
    "sexual_content": lambda: _("sexual content"),
    "*": lambda: _("every purpose except political and sexual content"),
}
_MEDIA_PHRASES = {
    "face": lambda: _("your face"),
    "voice": lambda: _("your voice"),
    "body": lambda: _("your body"),
    "likeness": lambda: _("your face, voice and body"),
}


@lru_cache(maxsize=4)
def _country_catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str) -> str:
    """A country's common name in ``language`` (pycountry's ISO 3166 translations)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return _country_catalogue(language).gettext(name)


def human_date(day: date) -> str:
    return formats.date_format(day, "j F Y")


def consent_summary(consent: Consent, language: str = "en", grantee_name: str | None = None) -> str:
    """One paragraph saying who may (or may not) do what with the person's likeness, where, until when."""
    language = language if language in LANGUAGES else "en"
    with override(language):
        return _summary(consent, grantee_name)


def _summary(consent: Consent, grantee_name: str | None) -> str:
    if consent.grantee == v.ANY:
        who = _("Anyone")
    else:
        who = grantee_name or (consent.grantee_org.name if consent.grantee_org else consent.grantee)
    media = get_text_list([_MEDIA_PHRASES[m]() for m in consent.media], _("and"))
    actions = get_text_list([f"{_ACTIVITY_PHRASES[a]()} {media}" for a in consent.activities], _("and"))
    purposes = get_text_list([_PURPOSE_PHRASES[p]() for p in consent.purposes], _("and"))
    if consent.territories == [v.ANY]:
        where = _("anywhere in the world")
    else:
        where = _("in %(places)s") % {
            "places": get_text_list([country_name(c, _current()) for c in consent.territories], _("and"))
        }
    if consent.valid_until:
        when = _("from %(start)s until %(end)s") % {
            "start": human_date(consent.valid_from),
            "end": human_date(consent.valid_until),
        }
    else:
        when = _("from %(start)s, with no end date") % {"start": human_date(consent.valid_from)}
    values = {"who": who, "actions": actions, "purposes": purposes, "where": where, "when": when}
    if consent.effect == "permit":
        sentences = [_("%(who)s may %(actions)s for %(purposes)s, %(where)s, %(when)s.") % values]
    else:
        sentences = [_("%(who)s may not %(actions)s for %(purposes)s, %(where)s, %(when)s.") % values]
    if consent.production:
        sentences.append(_("This covers only the production “%(production)s”.") % {"production": consent.production})
    if consent.intended_use:
        sentences.append(_("Intended use: “%(use)s”.") % {"use": consent.intended_use})
    conditions = consent.conditions or {}
    if consent.effect == "permit":
        if conditions.get("attribution_required"):
            sentences.append(_("You must be credited."))
        if conditions.get("approval_required"):
            sentences.append(_("You must approve each use before it is published."))
        if conditions.get("disclosure_label_required"):
            sentences.append(_("Every use must be labelled as made with AI."))
        if consent.revocation_policy == "notice":
            sentences.append(
                _("You can revoke this consent at any time; it then ends %(days)s days later.")
                % {"days": consent.revocation_notice_days}
            )
        else:
            sentences.append(_("You can revoke this consent at any time, and it ends at once."))
    return " ".join(sentences)


def _current() -> str:
    from django.utils.translation import get_language

    return (get_language() or "en").split("-")[0]
