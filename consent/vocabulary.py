"""The fixed words of a consent: media, activities and purposes, with bit positions for queries.

Each vocabulary keeps its order forever: the bit of a term is its position, and consents store
masks of those bits (``media_mask`` …) so that a verification can match a medium, activity or
purpose in SQL on SQLite and PostgreSQL alike. New terms are appended, never inserted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override, pgettext_lazy


@dataclass(frozen=True)
class Term:
    """One word of the vocabulary, its label and a one-line explanation for people."""

    key: str
    label: Promise
    help: Promise
    sensitive: bool = False


MEDIA: tuple[Term, ...] = (
    Term("face", _("Face"), _("Photos, video and anything made to look like the person.")),
    Term("voice", _("Voice"), _("Recordings, and any voice made to sound like the person.")),
    Term("body", _("Body"), _("The person's body and the way they move.")),
)
LIKENESS = "likeness"
LIKENESS_LABEL = _("Whole likeness (face, voice and body)")

ACTIVITIES: tuple[Term, ...] = (
    Term(
        "create_replica",
        _("Create a replica"),
        _("Build a digital copy of the person: a face model or a voice model."),
    ),
    Term("train_model", _("Train a model"), _("Use recordings of the person to train an AI model.")),
    Term(
        "generate",
        # In context: allauth's catalogue translates a bare "Generate" (recovery codes) as "Buat".
        pgettext_lazy("activity", "Generate"),
        _("Make new pictures, video or sound of the person that they never recorded."),
    ),
    Term("alter", _("Alter"), _("Change existing recordings of the person, such as replacing words or a face.")),
)
DEFAULT_ACTIVITIES = ["generate"]

PURPOSES: tuple[Term, ...] = (
    Term("film_tv", _("Film and TV"), _("Films, series and other screen productions.")),
    Term("advertising", _("Advertising"), _("Adverts and promotion for products, services or brands.")),
    Term("education", _("Education"), _("Teaching and training material.")),
    Term("news_documentary", _("News and documentary"), _("Journalism, news reports and documentaries.")),
    Term("satire_parody", _("Satire and parody"), _("Comedy that imitates the person to comment on something.")),
    Term("art", _("Art"), _("Artworks, exhibitions and music videos.")),
    Term("game_interactive", _("Games and interactive"), _("Video games, apps and other interactive work.")),
    Term("ai_training", _("AI training"), _("Data sets used to build AI systems.")),
    Term("research", _("Research"), _("Scientific and academic research.")),
    Term(
        "political",
        _("Political"),
        _("Political campaigns and messages. Sensitive: only covered when chosen by name."),
        sensitive=True,
    ),
    Term(
        "sexual_content",
        _("Sexual content"),
        _("Sexual or intimate material. Sensitive: only covered when chosen by name."),
        sensitive=True,
    ),
)
ANY = "*"

MEDIA_KEYS = tuple(t.key for t in MEDIA)
ACTIVITY_KEYS = tuple(t.key for t in ACTIVITIES)
PURPOSE_KEYS = tuple(t.key for t in PURPOSES)
SENSITIVE_PURPOSES = tuple(t.key for t in PURPOSES if t.sensitive)


def bit(vocabulary: tuple[str, ...], key: str) -> int:
    """The mask bit of ``key`` (ValueError for an unknown one)."""
    return 1 << vocabulary.index(key)


def media_mask(media: Iterable[str]) -> int:
    """``likeness`` stands for every medium."""
    keys = set(media)
    if LIKENESS in keys:
        keys = set(MEDIA_KEYS)
    return sum(bit(MEDIA_KEYS, key) for key in keys)


def activity_mask(activities: Iterable[str]) -> int:
    return sum(bit(ACTIVITY_KEYS, key) for key in set(activities))


def purpose_mask(purposes: Iterable[str]) -> int:
    """``*`` stands for every purpose that is not sensitive; sensitive ones count only when named."""
    keys = set(purposes)
    if ANY in keys:
        keys = (keys - {ANY}) | {key for key in PURPOSE_KEYS if key not in SENSITIVE_PURPOSES}
    return sum(bit(PURPOSE_KEYS, key) for key in keys)


def label_of(vocabulary: tuple[Term, ...], key: str) -> str:
    for term in vocabulary:
        if term.key == key:
            return str(term.label)
    return key


def vocabulary_document() -> dict[str, list[dict[str, object]]]:
    """The vocabulary as served at ``GET /api/v1/vocabulary``, labelled in English and Indonesian."""

    def describe(terms: tuple[Term, ...]) -> list[dict[str, object]]:
        rows = []
        for term in terms:
            labels, helps = {}, {}
            for language in ("en", "id"):
                with override(language):
                    labels[language], helps[language] = str(term.label), str(term.help)
            rows.append({"key": term.key, "label": labels, "description": helps, "sensitive": term.sensitive})
        return rows

    likeness: dict[str, str] = {}
    for language in ("en", "id"):
        with override(language):
            likeness[language] = str(LIKENESS_LABEL)
    return {
        "media": [
            *describe(MEDIA),
            {"key": LIKENESS, "label": likeness, "description": likeness, "sensitive": False},
        ],
        "activities": describe(ACTIVITIES),
        "purposes": describe(PURPOSES),
    }
