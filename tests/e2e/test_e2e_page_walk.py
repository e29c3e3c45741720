"""Every page of each audience, in English and Indonesian at 1280 and 390 px (issue 14):

- no page is wider than the window (``document.documentElement.scrollWidth <= innerWidth``);
- every ``<input type="date">`` holds an ISO date (``YYYY-MM-DD``) or nothing, whatever the language;
- on an Indonesian page no English string of ours is visible (a catalogue msgid whose Indonesian
  differs or is missing, or a string the code marks that the catalogue lacks), and no line reads
  as English (only names, ids, code and what people wrote themselves stay as they are).

The pages are named by URL (``walk.site_pages``), not by any form's fields.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .walk import (
    MEASURE,
    Walked,
    build_world,
    catalogues,
    english_lines,
    english_on,
    english_patterns,
    read_po,
    walked,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LANGUAGES_AND_WIDTHS = [("en", 1280), ("en", 390), ("id", 1280), ("id", 390)]
IDS = ["en-desktop", "en-phone", "id-desktop", "id-phone"]


def _too_wide(pages: list[Walked]) -> list[str]:
    return [
        f"{p.where} is {p.scroll} px wide at {p.inner} px: {', '.join(p.wide)}" for p in pages if p.scroll > p.inner
    ]


@pytest.mark.parametrize(("language", "width"), LANGUAGES_AND_WIDTHS, ids=IDS)
def test_no_page_is_wider_than_the_window(browser: Any, live_server: Any, language: str, width: int) -> None:
    pages = walked(browser, live_server.url, build_world, language, width)

    assert len(pages) >= 30
    too_wide = _too_wide(pages)
    assert not too_wide, "\n" + "\n".join(too_wide)


def _not_iso(pages: list[Walked]) -> list[str]:
    return [
        f"{p.where}: {name} is {written!r} in the page and {kept!r} in the browser"
        for p in pages
        for name, written, kept in p.dates
        if any(value and not ISO_DATE.match(value) for value in (written, kept))
    ]


@pytest.mark.parametrize(("language", "width"), LANGUAGES_AND_WIDTHS, ids=IDS)
def test_every_date_input_holds_an_iso_date_or_nothing(
    browser: Any, live_server: Any, language: str, width: int
) -> None:
    pages = walked(browser, live_server.url, build_world, language, width)

    # The walk does reach filled date inputs (the consent form's, the check's, the new release's).
    assert any(kept for p in pages for _, _, kept in p.dates), [p.dates for p in pages]
    not_iso = _not_iso(pages)
    assert not not_iso, "\n" + "\n".join(not_iso)


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_no_marked_english_string_is_left_on_an_indonesian_page(browser: Any, live_server: Any, width: int) -> None:
    patterns = english_patterns()
    pages = walked(browser, live_server.url, build_world, "id", width)

    found = {p.where: english_on(p.text, patterns) for p in pages}

    leaks = [f"{where}: {english!r}" for where, strings in found.items() for english in strings]
    assert not leaks, "\n" + "\n".join(leaks)


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_no_line_of_an_indonesian_page_reads_as_english(browser: Any, live_server: Any, width: int) -> None:
    """What the catalogues cannot show: a string not (yet) in them, or not marked for translation."""
    pages = walked(browser, live_server.url, build_world, "id", width)

    leaks = [f"{p.where}: {line!r}" for p in pages for line in english_lines(p.text, p.code)]

    assert not leaks, "\n" + "\n".join(leaks)


def test_the_walk_catches_a_date_the_browser_cannot_read_and_a_page_too_wide(page: Any) -> None:
    """An Indonesian date written into a date input (06-12-2026) leaves the field empty in the
    browser; the walk reads what the page wrote as well as what the browser kept. A table wider
    than a phone is named by its element."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(
        '<body style="margin:0"><input type="date" name="start" value="06-12-2026">'
        '<input type="date" name="end" value="2027-12-06"><input type="date" name="open">'
        '<table class="log" style="width:507px"><tr><td>sub_1</td></tr></table></body>'
    )
    measured = page.evaluate(MEASURE)

    assert measured["dates"] == [["start", "06-12-2026", ""], ["end", "2027-12-06", "2027-12-06"], ["open", "", ""]]
    walked_page = Walked("performer", "log", "/", [], **measured)
    assert _not_iso([walked_page]) == ["performer / log (/): start is '06-12-2026' in the page and '' in the browser"]
    assert (measured["scroll"], measured["inner"]) == (507, 390)
    assert _too_wide([walked_page]) == [
        "performer / log (/) is 507 px wide at 390 px: table.log (right edge 507 px), td (right edge 505 px)"
    ]


def test_the_english_detector_finds_what_it_should(tmp_path: Path) -> None:
    """The catalogue and source readers and the matcher: an English string is found verbatim, across
    placeholders and line breaks, whether the catalogue translates it, leaves it fuzzy or lacks it;
    one identical in both languages is not English, and a single word counts only on its own line."""
    catalogue = tmp_path / "django.po"
    catalogue.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: a.py:1\nmsgid "Who checked me"\nmsgstr "Siapa yang memeriksa saya"\n\n'
        '#, python-format\nmsgid ""\n"Signed on %(date)s by "\n"%(name)s"\n'
        'msgstr "Ditandatangani pada %(date)s oleh %(name)s"\n\n'
        '#, fuzzy\nmsgid "Not yet reviewed"\nmsgstr "Belum ditinjau"\n\n'
        'msgid "Email address"\nmsgstr "Email address"\n\n'
        'msgid "Draft"\nmsgstr "Draf"\n\n'
        '#~ msgid "Gone away"\n#~ msgstr "Hilang"\n',
        encoding="utf-8",
    )
    template = tmp_path / "page.html"
    template.write_text(
        '{% load i18n %}<button>{% translate "Next" %}</button><span title="{% translate \'Copied.\' %}">'
        "{% blocktranslate trimmed with id=subject.public_id %}\n  QR code of the\n  id {{ id }}\n"
        "{% endblocktranslate %}</span>",
        encoding="utf-8",
    )
    module = tmp_path / "forms.py"
    module.write_text(
        "from django.utils.translation import gettext_lazy as _, pgettext\n"
        'LABEL = _("Discard this draft")\nWORD = pgettext("activity", "Generate")\n',
        encoding="utf-8",
    )
    entries = {entry["msgid"]: entry for entry in read_po(catalogue)}
    assert set(entries) == {
        "Who checked me",
        "Signed on %(date)s by %(name)s",
        "Not yet reviewed",
        "Email address",
        "Draft",
    }
    assert entries["Not yet reviewed"]["fuzzy"]

    patterns = english_patterns([catalogue], [template, module])
    assert [(english.text, english.whole_line) for english in patterns] == [
        ("Copied.", True),
        ("Discard this draft", False),
        ("Draft", True),
        ("Generate", True),
        ("Next", True),
        ("Not yet reviewed", False),
        ("QR code of the id %(id)s", False),
        ("Signed on %(date)s by %(name)s", False),
        ("Who checked me", False),
    ]
    assert english_on("Riwayat\nWho checked\n me\nData", patterns) == ["Who checked me"]
    assert english_on("Signed on 6 December 2026 by Sari Pemeran", patterns) == ["Signed on %(date)s by %(name)s"]
    assert english_on("Not yet reviewed", patterns) == ["Not yet reviewed"]  # fuzzy: Django shows English
    assert english_on("Kode QR\nQR code of the id sub_8nw8j1dq\n  Next \nSalin", patterns) == [
        "Next",
        "QR code of the id %(id)s",
    ]
    # Identical in Indonesian, or one word inside a line (a name, an id): not English.
    assert english_on("Siapa yang memeriksa saya. Email address. Draft. Next-Gen Studio", patterns) == []
    assert english_on("Who checked mer", patterns) == []
    assert catalogues()[0].exists()
    assert len(catalogues()) >= 4


def test_a_line_that_reads_as_english_is_caught() -> None:
    text = "\n".join(
        [
            "Persetujuan saya",
            "Your Restu id",
            "Berikan id ini kepada studio. Mereka dapat memindai kodenya.",
            "Discard this draft",
            "Bahasa Inggris sekarang: Get the written consent of every person shown.",
            "sha256:2ce54155faeb793757b34d81a7998895fa24f7be2ea4787707eb245e92654f92",
            "Layar Emas Pictures · rina@layar-emas.example · consent.revoked",
            "import base64, json",
            "Give this id to a studio that wants to check your consent.",
        ]
    )
    code = ["import base64, json\nprint(header)"]

    assert english_lines(text, code) == [
        "Your Restu id",
        "Discard this draft",
        "Give this id to a studio that wants to check your consent.",
    ]
