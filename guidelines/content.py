"""Checking and normalising what a guideline version says, and the exact document its digest covers.

Pure functions: they raise ``ValidationFailed`` naming the offending field and touch no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from guidelines.vocabulary import CLAUSE_KINDS, SAFEGUARDS
from registry.errors import ValidationFailed

# semver.org's own pattern, ASCII digits only.
SEMVER = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
    re.ASCII,
)
CLAUSE_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", re.ASCII)
MAX_BODY_CHARS = 100_000
MAX_CLAUSES = 200
MAX_CLAUSE_CHARS = 2_000
MAX_VERSION_PART = 99_999_999
DOCUMENT_TYPE = "https://restu.example/guideline-version/v1"


def content_languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def semver_sort_key(version: str) -> str:
    """A string that sorts like semver precedence (pre-releases before their release)."""
    match = SEMVER.match(version)
    if match is None:
        raise ValidationFailed(
            _("The version must be a semantic version such as 1.0.0."),
            errors={"version": [_("Not a semantic version (MAJOR.MINOR.PATCH, see semver.org).")]},
        )
    major, minor, patch = (int(part) for part in match.group(1, 2, 3))
    if max(major, minor, patch) > MAX_VERSION_PART:
        raise ValidationFailed(_("The version numbers are too large."), errors={"version": [_("Numbers too large.")]})
    pre = match.group(4)
    # "~" sorts after every pre-release character, so 1.0.0 comes after 1.0.0-rc.1.
    return f"{major:08d}.{minor:08d}.{patch:08d}.{'0' + pre if pre else '~'}"


@dataclass(frozen=True)
class VersionContent:
    """A version's normalised content: what gets stored, diffed and (once published) digested."""

    language: str
    body: str
    clauses: list[dict[str, Any]]
    translations: dict[str, dict[str, Any]]


def _text(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationFailed(
            _("%(field)s must be text.") % {"field": field}, errors={field: [_("Must be non-empty text.")]}
        )
    if len(value) > limit:
        raise ValidationFailed(
            _("%(field)s is too long.") % {"field": field},
            errors={field: [_("At most %(limit)s characters.") % {"limit": limit}]},
        )
    return value


def content_validate(*, language: Any, body: Any, clauses: Any, translations: Any) -> VersionContent:
    """Validate a version's content; unknown or duplicate clause keys and stray translations are errors."""
    languages = content_languages()
    if language not in languages:
        raise ValidationFailed("Unknown language.", errors={"language": [f"One of: {', '.join(languages)}."]})
    body = _text(body, "body", MAX_BODY_CHARS)
    if not isinstance(clauses, list) or not clauses:
        raise ValidationFailed(_("A version needs at least one clause."), errors={"clauses": [_("Give at least one.")]})
    if len(clauses) > MAX_CLAUSES:
        raise ValidationFailed(
            _("Too many clauses."), errors={"clauses": [_("At most %(count)s.") % {"count": MAX_CLAUSES}]}
        )
    normalised: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, clause in enumerate(clauses):
        where = f"clauses.{index}"
        if not isinstance(clause, dict):
            raise ValidationFailed("Each clause is an object.", errors={where: ["Must be an object."]})
        unknown = sorted(set(clause) - {"key", "kind", "text", "evidence"})
        if unknown:
            raise ValidationFailed(
                "A clause has fields it may not have.", errors={f"{where}.{n}": ["Not accepted here."] for n in unknown}
            )
        key = clause.get("key")
        if not isinstance(key, str) or not CLAUSE_KEY.match(key):
            raise ValidationFailed(
                _("A clause key is lower-case letters, digits and hyphens."),
                errors={f"{where}.key": [_("Use lower-case letters, digits and hyphens (at most 64).")]},
            )
        if key in seen:
            raise ValidationFailed(
                _("The clause key %(key)s appears twice.") % {"key": key},
                errors={f"{where}.key": [_("Duplicate key.")]},
            )
        seen.add(key)
        kind = clause.get("kind")
        if kind not in CLAUSE_KINDS:
            raise ValidationFailed(
                "Unknown clause kind.", errors={f"{where}.kind": [f"One of: {', '.join(CLAUSE_KINDS)}."]}
            )
        evidence = clause.get("evidence", [])
        if not isinstance(evidence, list) or any(item not in SAFEGUARDS for item in evidence):
            raise ValidationFailed(
                _("Evidence names safeguards from the vocabulary."),
                errors={f"{where}.evidence": [_("Known safeguards: %(names)s.") % {"names": ", ".join(SAFEGUARDS)}]},
            )
        normalised.append(
            {
                "key": key,
                "kind": kind,
                "text": _text(clause.get("text"), f"{where}.text", MAX_CLAUSE_CHARS),
                "evidence": list(dict.fromkeys(evidence)),
            }
        )
    return VersionContent(language, body, normalised, _translations_validate(translations, language, seen))


def _translations_validate(translations: Any, language: str, keys: set[str]) -> dict[str, dict[str, Any]]:
    if translations in (None, {}):
        return {}
    if not isinstance(translations, dict):
        raise ValidationFailed("Translations are an object by language.", errors={"translations": ["Not an object."]})
    out: dict[str, dict[str, Any]] = {}
    for lang, translation in translations.items():
        where = f"translations.{lang}"
        if lang not in content_languages() or lang == language:
            raise ValidationFailed(
                "A translation must be into another supported language.", errors={where: ["Unsupported language."]}
            )
        if not isinstance(translation, dict) or set(translation) - {"body", "clauses"}:
            raise ValidationFailed(
                "A translation has a body and clause texts.", errors={where: ['Use {"body", "clauses"}.']}
            )
        texts = translation.get("clauses", {})
        if not isinstance(texts, dict):
            raise ValidationFailed(
                "Clause translations map keys to text.", errors={f"{where}.clauses": ["Not an object."]}
            )
        for key in texts:
            if key not in keys:
                raise ValidationFailed(
                    _("The translation names a clause that does not exist: %(key)s.") % {"key": key},
                    errors={f"{where}.clauses.{key}": [_("No clause with this key.")]},
                )
        out[lang] = {
            "body": _text(translation.get("body"), f"{where}.body", MAX_BODY_CHARS),
            "clauses": {key: _text(text, f"{where}.clauses.{key}", MAX_CLAUSE_CHARS) for key, text in texts.items()},
        }
    return out


def content_in(*, language: str, base: VersionContent) -> tuple[str, list[dict[str, Any]]]:
    """The body and clauses in ``language``, falling back to the original text where untranslated."""
    translation = base.translations.get(language)
    if language == base.language or translation is None:
        return base.body, base.clauses
    texts = translation.get("clauses", {})
    clauses = [{**clause, "text": texts.get(clause["key"], clause["text"])} for clause in base.clauses]
    return translation["body"], clauses


BODY = "body"  # the mark for a translation's body in ``translations_outdated``


def reviewed_validate(reviewed: Any) -> dict[str, set[str]]:
    """``{language: [clause key or "body", …]}``: translations the maintainer confirms are still right."""
    if reviewed in (None, {}):
        return {}
    if not isinstance(reviewed, dict) or not all(
        isinstance(keys, list) and all(isinstance(key, str) for key in keys) for keys in reviewed.values()
    ):
        raise ValidationFailed(
            "List, by language, the clause keys whose translation is still correct.",
            errors={"translations_reviewed": ['Use {"id": ["clause-key", "body", …]}.']},
        )
    return {str(lang): set(keys) for lang, keys in reviewed.items()}


def translations_outdated(
    *,
    before: VersionContent | None,
    after: VersionContent,
    marked: dict[str, list[str]] | None = None,
    reviewed: dict[str, set[str]] | None = None,
) -> dict[str, list[str]]:
    """Which translated texts no longer match their original, after an edit from ``before`` to ``after``.

    A translation becomes outdated when its original text changes and the translated text does
    not change with it; it stays so (``marked``) until its text is edited or the maintainer
    confirms it (``reviewed``). Untranslated clauses are not outdated: readers see the original.
    """
    originals_before = {c["key"]: c["text"] for c in before.clauses} if before else {}
    if before:
        originals_before[BODY] = before.body
    originals_after = {c["key"]: c["text"] for c in after.clauses}
    originals_after[BODY] = after.body
    out: dict[str, list[str]] = {}
    for lang, translation in after.translations.items():
        old = before.translations.get(lang, {}) if before else {}
        texts_before = {**old.get("clauses", {}), BODY: old.get("body")}
        texts_after = {**translation.get("clauses", {}), BODY: translation.get("body")}
        still = set((marked or {}).get(lang, []))
        outdated = []
        for key, text in texts_after.items():
            if key not in originals_after:
                continue
            if text != texts_before.get(key):
                continue  # translated again in this edit
            original_changed = key in originals_before and originals_before[key] != originals_after[key]
            if original_changed or key in still:
                outdated.append(key)
        confirmed = (reviewed or {}).get(lang, set())
        outdated = [key for key in outdated if key not in confirmed]
        if outdated:
            out[lang] = sorted(outdated, key=lambda k: (k == BODY, k))
    return out
