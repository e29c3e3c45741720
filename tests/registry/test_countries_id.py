"""Country names a reader of Bahasa Indonesia sees in every country picker (docs/glossary-id.md).

The names come from pycountry's Indonesian ISO 3166 catalogue, corrected where it is dated or
still in English; a picker built from them must read as today's official Indonesian names.
"""

from __future__ import annotations

import pycountry
import pytest

from consent.pages.studio_forms import country_choices

# The names the Indonesian Ministry of Foreign Affairs and CLDR use today, against the dated or
# English ones pycountry ships ("Timor Timur", "Cina", "Perancis", "Republik Demokrat Congo",
# "Czechia", "Bonaire, Sint Eustatius and Saba").
CURRENT_NAMES = {
    "TL": "Timor Leste",
    "CN": "Tiongkok",
    "FR": "Prancis",
    "GF": "Guyana Prancis",
    "PF": "Polinesia Prancis",
    "TF": "Wilayah Selatan Prancis",
    "CD": "Republik Demokratik Kongo",
    "CG": "Republik Kongo",
    "CZ": "Ceko",
    "BQ": "Bonaire, Sint Eustatius, dan Saba",
}
DATED_OR_ENGLISH = ("Timor Timur", "Cina", "Perancis", "Demokrat Congo", "Czechia", "Congo")


def _names(language: str) -> dict[str, str]:
    return {code: name for _group, choices in country_choices(language) for code, name in choices}


@pytest.mark.parametrize(("code", "name"), sorted(CURRENT_NAMES.items()))
def test_the_indonesian_picker_uses_the_current_name(code: str, name: str) -> None:
    assert _names("id")[code] == name


def test_no_indonesian_country_name_is_dated_or_left_in_english() -> None:
    names = _names("id")
    assert not [name for name in names.values() if any(old in name for old in DATED_OR_ENGLISH)]
    # An English conjunction means pycountry had no Indonesian name for it.
    assert not [name for name in names.values() if " and " in name or " of " in name]


def test_every_country_is_offered_once_with_indonesia_first() -> None:
    groups = country_choices("id")
    codes = [code for _group, choices in groups for code, _name in choices]
    assert sorted(codes) == sorted(country.alpha_2 for country in pycountry.countries)
    assert codes[0] == "ID"


def test_english_pages_keep_english_names() -> None:
    names = _names("en")
    assert names["TL"] == "Timor-Leste"
    assert names["CN"] == "China"
    assert names["CD"] == "Democratic Republic of the Congo"
