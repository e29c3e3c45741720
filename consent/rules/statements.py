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
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext

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
    "ai_training": lambda: pgettext("purpose, within a sentence", "AI training"),
    "research": lambda: _("research"),
    "political": lambda: _("political content"),
    "sexual_content": lambda: _("sexual content"),
    "*": lambda: _("every purpose except political and sexual content"),
}
# The person's likeness, named from the reader's side. The reader is the one who signs: the
# person themselves ("your face and voice"), a guardian for a child ("your child's face"), the
# estate of a late relative ("your late relative's voice") or an agent for their principal.
_MEDIA_NOUNS = {
    "face": lambda: _("face"),
    "voice": lambda: _("voice"),
    "body": lambda: _("body"),
}
_WHOSE = {
    "you": lambda media: _("your %(media)s") % {"media": media},
    "child": lambda media: _("your child's %(media)s") % {"media": media},
    "late": lambda media: _("your late relative's %(media)s") % {"media": media},
    "principal": lambda media: _("the %(media)s of the person you represent") % {"media": media},
}
_CREDIT = {
    "you": lambda: _("You must be credited."),
    "child": lambda: _("Your child must be credited."),
    "late": lambda: _("Your late relative must be credited."),
    "principal": lambda: _("The person you represent must be credited."),
}

# Names from pycountry's ISO 3166 translations, corrected where they are dated or left in English
# (Indonesian: the names the Indonesian foreign ministry and CLDR use today).
_COUNTRY_NAMES = {
    "en": {
        "BN": "Brunei",
        "CD": "Democratic Republic of the Congo",
        "CG": "Republic of the Congo",
        "FK": "Falkland Islands",
        "FM": "Micronesia",
        "MF": "Saint Martin",
        "PS": "Palestine",
        "RU": "Russia",
        "SX": "Sint Maarten",
        "VA": "Vatican City",
        "VG": "British Virgin Islands",
        "VI": "United States Virgin Islands",
    },
    "id": {
        "BN": "Brunei",
        "BQ": "Bonaire, Sint Eustatius, dan Saba",
        "CD": "Republik Demokratik Kongo",
        "CG": "Republik Kongo",
        "CN": "Tiongkok",
        "CV": "Tanjung Verde",
        "CX": "Pulau Christmas",
        "CZ": "Ceko",
        "DJ": "Jibuti",
        "ET": "Etiopia",
        "FM": "Mikronesia",
        "FR": "Prancis",
        "GB": "Inggris Raya",
        "GF": "Guyana Prancis",
        "IO": "Wilayah Inggris di Samudra Hindia",
        "MF": "Saint Martin",
        "MO": "Makau",
        "PF": "Polinesia Prancis",
        "PN": "Kepulauan Pitcairn",
        "PS": "Palestina",
        "RU": "Rusia",
        "SX": "Sint Maarten",
        "TF": "Wilayah Selatan Prancis",
        "TL": "Timor Leste",
        "VA": "Vatikan",
        "VG": "Kepulauan Virgin Britania Raya",
        "VI": "Kepulauan Virgin Amerika Serikat",
    },
}


@lru_cache(maxsize=4)
def _country_catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str) -> str:
    """A country's common name in ``language`` (pycountry's ISO 3166 translations)."""
    fixed = _COUNTRY_NAMES.get(language, {}).get(code)
    if fixed:
        return fixed
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


def _voice(consent: Consent) -> str:
    """Whose likeness, from the signer's side: ``you``, ``child``, ``late`` or ``principal``.

    Decided by the representative who drew the consent up (the summary must read the same at
    review and at signing), and for a child or a late relative by the person's status too.
    """
    role = consent.created_by.role if consent.created_by_id else "self"
    status = consent.subject.status if consent.subject_id else "living"
    if role == "guardian" or (role != "self" and status == "minor"):
        return "child"
    if role == "estate" or status == "deceased":
        return "late"
    if role == "agent":
        return "principal"
    return "you"


def _summary(consent: Consent, grantee_name: str | None) -> str:
    voice = _voice(consent)
    keys = ["face", "voice", "body"] if "likeness" in consent.media else [m for m in consent.media if m in _MEDIA_NOUNS]
    media = _WHOSE[voice](_listed([_MEDIA_NOUNS[m]() for m in keys]))
    actions = _listed([f"{_ACTIVITY_PHRASES[a]()} {media}" for a in consent.activities])
    purposes = _listed([_PURPOSE_PHRASES[p]() for p in consent.purposes])
    if consent.territories == [v.ANY]:
        where = _("anywhere in the world")
    else:
        where = _("in %(places)s") % {"places": _listed([country_name(c, _current()) for c in consent.territories])}
    if consent.valid_until:
        when = _("from %(start)s until %(end)s") % {
            "start": human_date(consent.valid_from),
            "end": human_date(consent.valid_until),
        }
    else:
        when = _("from %(start)s, with no end date") % {"start": human_date(consent.valid_from)}
    values = {"actions": actions, "purposes": purposes, "where": where, "when": when}
    anyone = consent.grantee == v.ANY
    if not anyone:
        values["who"] = grantee_name or (consent.grantee_org.name if consent.grantee_org else consent.grantee)
    if consent.effect == "permit" and anyone:
        sentences = [_("Anyone may %(actions)s for %(purposes)s, %(where)s, %(when)s.") % values]
    elif consent.effect == "permit":
        sentences = [_("%(who)s may %(actions)s for %(purposes)s, %(where)s, %(when)s.") % values]
    elif anyone:
        sentences = [_("No one may %(actions)s for %(purposes)s, %(where)s, %(when)s.") % values]
    else:
        sentences = [_("%(who)s may not %(actions)s for %(purposes)s, %(where)s, %(when)s.") % values]
    if consent.production:
        sentences.append(_("This covers only the production “%(production)s”.") % {"production": consent.production})
    if consent.intended_use:
        sentences.append(_("Intended use: “%(use)s”.") % {"use": consent.intended_use})
    conditions = consent.conditions or {}
    if consent.effect == "permit":
        if conditions.get("attribution_required"):
            sentences.append(_CREDIT[voice]())
        if conditions.get("approval_required"):
            sentences.append(_("You must approve each use before it is published."))
        if conditions.get("disclosure_label_required"):
            sentences.append(_("Every use must be labelled as made with AI."))
    sentences.append(_ending(consent))
    return " ".join(sentence for sentence in sentences if sentence)


def _listed(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c" — in Indonesian "a, b, dan c" (a comma before the last, EYD)."""
    if len(items) <= 1:
        return "".join(items)
    # "advertising as well as film and TV": a plain "and" would join items that hold an "and" themselves.
    conjunction = " " + _("and") + " "
    if any(conjunction in item for item in items):
        return _("%(items)s as well as %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}
    if len(items) == 2:
        return _("%(first)s and %(last)s") % {"first": items[0], "last": items[1]}
    return _("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _ending(consent: Consent) -> str:
    """How the record ends: revoked or ended already, or how it can be revoked."""
    refusal = consent.effect != "permit"
    if consent.status == "revoked" and consent.revoked_at:
        revoked_on = human_date(timezone.localdate(consent.revoked_at))
        effective = consent.revocation_effective_on()
        if consent.revocation_pending and effective:
            return _("It was revoked on %(date)s and ends on %(end)s.") % {
                "date": revoked_on,
                "end": human_date(effective),
            }
        if refusal:
            return _("This refusal was revoked on %(date)s.") % {"date": revoked_on}
        return _("This consent was revoked on %(date)s.") % {"date": revoked_on}
    if consent.status == "expired":
        return _("This refusal has ended.") if refusal else _("This consent has ended.")
    if refusal:
        return ""
    if consent.revocation_policy == "notice":
        return _("You can revoke this consent at any time; it then ends %(days)s days later.") % {
            "days": consent.revocation_notice_days
        }
    return _("You can revoke this consent at any time, and it ends at once.")


def _current() -> str:
    from django.utils.translation import get_language

    return (get_language() or "en").split("-")[0]
