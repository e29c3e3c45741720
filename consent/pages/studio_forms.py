"""Forms for the studio pages: a check, a release (table or CSV), webhooks, API keys, a new studio.

The forms only collect answers; every rule the API enforces is enforced here by the API's own
serializers (``CheckIn``, ``ReleaseIn``), so a page can never accept what the API would refuse.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pycountry
from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ErrorDetail

from consent import vocabulary as v
from consent.api.views.releases import ReleaseIn
from consent.api.views.verification import CheckIn
from consent.rules.statements import country_name
from registry.pages import choice_field
from registry.widgets import IsoDateField

APPEARANCE_ROWS = 10
VISIBLE_ROWS = 3
TOOL_ROWS = 3
CSV_MAX_BYTES = 1024 * 1024
# The API takes at most 500 appearances per release (ReleaseIn); a longer file could never pass.
CSV_MAX_ROWS = 500
CSV_COLUMNS = ("subject", "media", "purpose")
# A cell starting with one of these is run as a formula by spreadsheets ("CSV injection"). No id,
# medium or purpose starts with one, so such a cell is refused rather than stored and echoed back
# into the reports and exports that studios open in a spreadsheet.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Indonesia and the United States are where most checks are made, so they lead every list.
COMMON_COUNTRIES = ("ID", "US")


def _explained(terms: tuple[v.Term, ...]) -> list[tuple[str, Any]]:
    return [(t.key, format_html('{} <span class="choice__help">{}</span>', t.label, t.help)) for t in terms]


def country_choices(language: str) -> list[tuple[str | Promise, list[tuple[str, str]]]]:
    """Every country in the reader's language, Indonesia and the US first (each listed once)."""
    common = [(code, country_name(code, language)) for code in COMMON_COUNTRIES]
    rest = sorted(
        (
            (c.alpha_2, country_name(c.alpha_2, language))
            for c in pycountry.countries
            if c.alpha_2 not in COMMON_COUNTRIES
        ),
        key=lambda pair: pair[1],
    )
    return [(_("Often chosen"), common), (_("All countries"), rest)]


def _flatten(errors: Any) -> list[str]:
    """A serializer's nested error structure as plain messages."""
    if isinstance(errors, (str, ErrorDetail)):
        return [str(errors)]
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _flatten(value)]
    if isinstance(errors, list):
        return [message for value in errors for message in _flatten(value)]
    return [str(errors)]


class StudioCreateForm(forms.Form):
    """A new studio organization; its creator becomes its owner."""

    name = forms.CharField(label=_("Studio name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name for web addresses (optional)"),
        max_length=80,
        required=False,
        help_text=_("Lower-case letters, numbers and hyphens. Made from the name if you leave it empty."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("name") and not data.get("slug"):
            data["slug"] = slugify(data["name"])[:80]
            if not data["slug"]:
                self.add_error("slug", _("Choose a short name with letters or numbers."))
        return data


class CheckForm(forms.Form):
    """One intended use of a person's likeness, checked against their consents."""

    subject = forms.CharField(
        label=_("Person's Restu id"),
        max_length=40,
        help_text=_("Starts with sub_. The person, or their agent, can give it to you."),
    )
    medium = forms.ChoiceField(label=_("Which part of their likeness?"), widget=forms.RadioSelect)
    activity = forms.ChoiceField(label=_("What will you do?"), widget=forms.RadioSelect, initial="generate")
    purpose = forms.ChoiceField(label=_("For what purpose?"), widget=forms.RadioSelect)
    territory = forms.ChoiceField(label=_("Where will it be used?"))
    date = IsoDateField(label=_("On which date?"))
    production = forms.CharField(
        label=_("Production (optional)"),
        max_length=200,
        required=False,
        help_text=_("The title of the film, series or game. Some consents cover one production only."),
    )
    min_assurance = forms.ChoiceField(
        label=_("Minimum identity check"),
        required=False,
        choices=[
            ("", _("No minimum")),
            ("self_asserted", _("Self-asserted: the person said who they are")),
            ("email_verified", _("Email verified")),
            ("vouched", _("Vouched for by a guild or agency")),
        ],
    )

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "medium").choices = _explained(v.MEDIA)
        choice_field(self, "activity").choices = _explained(v.ACTIVITIES)
        choice_field(self, "purpose").choices = _explained(v.PURPOSES)
        choice_field(self, "territory").choices = country_choices(language)
        self.fields["territory"].initial = "ID"
        self.fields["date"].initial = timezone.now().date()
        self.validated: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        body = {
            "subject": data["subject"].strip(),
            "medium": data["medium"],
            "activity": data["activity"],
            "purpose": data["purpose"],
            "territory": data["territory"],
            "date": data["date"].isoformat(),
            "production": data.get("production") or None,
            "min_assurance": data.get("min_assurance") or None,
        }
        checked = CheckIn(data=body)
        if not checked.is_valid():
            for field, problems in checked.errors.items():
                for message in _flatten(problems):
                    self.add_error(field if field in self.fields else None, message)
        else:
            self.validated = dict(checked.validated_data)
        return data


class ReleaseForm(forms.Form):
    """A release: its appearances typed into a small table, or uploaded as a CSV file."""

    title = forms.CharField(
        label=_("Title of the release"),
        max_length=300,
        help_text=_("Consents for one production only are matched against this title."),
    )
    release_date = IsoDateField(label=_("Release date"))
    territories = forms.MultipleChoiceField(
        label=_("Where will it be released?"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or ⌘ on a Mac) to choose more than one country."),
    )
    appearances_csv = forms.FileField(
        label=_("Or upload the appearances as a CSV file"),
        required=False,
        help_text=_(
            "Columns subject, media, purpose, with a header line. Separate several media with a semicolon, "
            "for example face;voice. At most 500 rows and 1 MiB."
        ),
    )

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "territories").choices = country_choices(language)
        self.fields["release_date"].initial = timezone.now().date()
        purposes = [("", _("Choose…")), *[(t.key, t.label) for t in v.PURPOSES]]
        for row in range(APPEARANCE_ROWS):
            self.fields[f"subject_{row}"] = forms.CharField(label=_("Person's Restu id"), max_length=40, required=False)
            self.fields[f"media_{row}"] = forms.MultipleChoiceField(
                label=_("Likeness"),
                choices=[(t.key, t.label) for t in v.MEDIA],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
            self.fields[f"purpose_{row}"] = forms.ChoiceField(label=_("Purpose"), choices=purposes, required=False)
        for row in range(TOOL_ROWS):
            self.fields[f"tool_project_{row}"] = forms.CharField(label=_("Project id"), max_length=40, required=False)
            self.fields[f"tool_version_{row}"] = forms.CharField(label=_("Version"), max_length=60, required=False)
            self.fields[f"tool_digest_{row}"] = forms.CharField(label=_("Digest"), max_length=80, required=False)
        self.validated: dict[str, Any] = {}

    def appearance_rows(self) -> list[dict[str, Any]]:
        """The table's rows as bound fields, for the template."""
        return [
            {
                "number": row + 1,
                "subject": self[f"subject_{row}"],
                "media": self[f"media_{row}"],
                "purpose": self[f"purpose_{row}"],
            }
            for row in range(APPEARANCE_ROWS)
        ]

    def visible_rows(self) -> list[dict[str, Any]]:
        return self.appearance_rows()[:VISIBLE_ROWS]

    def more_rows(self) -> list[dict[str, Any]]:
        return self.appearance_rows()[VISIBLE_ROWS:]

    def more_rows_used(self) -> bool:
        """Whether the hidden rows hold anything, so they open again when the form comes back."""
        if not self.is_bound:
            return False
        return any(
            self.data.get(f"subject_{row}") or self.data.get(f"media_{row}")
            for row in range(VISIBLE_ROWS, APPEARANCE_ROWS)
        )

    def tool_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "number": row + 1,
                "project": self[f"tool_project_{row}"],
                "version": self[f"tool_version_{row}"],
                "digest": self[f"tool_digest_{row}"],
            }
            for row in range(TOOL_ROWS)
        ]

    def _table_appearances(self, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for row in range(APPEARANCE_ROWS):
            subject = (data.get(f"subject_{row}") or "").strip()
            media = data.get(f"media_{row}") or []
            purpose = data.get(f"purpose_{row}") or ""
            if not subject and not media:
                continue
            place = _("Row %(number)d") % {"number": row + 1}
            if not subject:
                self.add_error(f"subject_{row}", _("%(place)s: enter the person's Restu id.") % {"place": place})
            if not media:
                self.add_error(
                    f"media_{row}", _("%(place)s: tick at least one part of the likeness.") % {"place": place}
                )
            if not purpose:
                self.add_error(f"purpose_{row}", _("%(place)s: choose a purpose.") % {"place": place})
            found.append((str(place), {"subject": subject, "media": list(media), "purpose": purpose}))
        return found

    def _csv_appearances(self, upload: Any) -> list[tuple[str, dict[str, Any]]] | None:
        """Rows of the uploaded file, or None after adding a form error (never an exception)."""
        if upload.size > CSV_MAX_BYTES:
            self.add_error("appearances_csv", _("The file is larger than 1 MiB."))
            return None
        stream = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
        found: list[tuple[str, dict[str, Any]]] = []
        try:
            reader = csv.DictReader(stream, strict=True)
            columns = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
            if not set(CSV_COLUMNS) <= set(columns) or len(set(columns)) != len(columns):
                self.add_error(
                    "appearances_csv",
                    _("The first line must name the columns subject, media and purpose."),
                )
                return None
            reader.fieldnames = columns
            for record in reader:
                if len(found) >= CSV_MAX_ROWS:
                    self.add_error("appearances_csv", _("The file has more than 500 rows."))
                    return None
                if None in record:
                    self.add_error(
                        "appearances_csv",
                        _("Line %(line)d has more cells than there are columns.") % {"line": reader.line_num},
                    )
                    return None
                formula = next(
                    (
                        cell.lstrip(" ")[:1]
                        for cell in record.values()
                        if cell and cell.lstrip(" ").startswith(CSV_FORMULA_STARTS)
                    ),
                    None,
                )
                if formula is not None:
                    self.add_error(
                        "appearances_csv",
                        _(
                            "Line %(line)d: a cell starts with “%(char)s”. Spreadsheets run such cells as "
                            "formulas, so Restu does not accept them."
                        )
                        % {"line": reader.line_num, "char": formula.replace("\t", "⇥").replace("\r", "↵")},
                    )
                    return None
                cells = {name: (record.get(name) or "").strip() for name in CSV_COLUMNS}
                if not any(cells.values()):
                    continue
                media = [part.strip().lower() for part in cells["media"].split(";") if part.strip()]
                place = _("Line %(line)d") % {"line": reader.line_num}
                found.append((str(place), {"subject": cells["subject"], "media": media, "purpose": cells["purpose"]}))
        except UnicodeDecodeError:
            self.add_error("appearances_csv", _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."))
            return None
        except csv.Error as exc:
            self.add_error(
                "appearances_csv", _("The file is not a readable CSV file (%(problem)s).") % {"problem": exc}
            )
            return None
        finally:
            stream.detach()
        if not found:
            self.add_error("appearances_csv", _("The file has no appearances."))
            return None
        return found

    def _tools(self, data: dict[str, Any]) -> list[dict[str, str]]:
        tools = []
        for row in range(TOOL_ROWS):
            parts = {key: (data.get(f"tool_{key}_{row}") or "").strip() for key in ("project", "version", "digest")}
            if not any(parts.values()):
                continue
            if not all(parts.values()):
                self.add_error(
                    f"tool_project_{row}",
                    _("Tool %(number)d: fill in the project id, the version and the digest.") % {"number": row + 1},
                )
            tools.append(parts)
        return tools

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("appearances_csv")
        table = self._table_appearances(data)
        if upload and table:
            self.add_error(None, _("Use either the table or a CSV file, not both."))
            return data
        if upload:
            appearances = self._csv_appearances(upload)
            if appearances is None:
                return data
        else:
            appearances = table
            if not appearances and not self.errors:
                self.add_error(None, _("Add at least one appearance: in the table, or as a CSV file."))
        tools = self._tools(data)
        if self.errors:
            return data
        body = {
            "title": data["title"],
            "release_date": data["release_date"].isoformat(),
            "territories": data["territories"],
            "appearances": [appearance for _place, appearance in appearances],
            "tools": tools,
        }
        checked = ReleaseIn(data=body)
        if checked.is_valid():
            self.validated = dict(checked.validated_data)
            return data
        places = [place for place, _appearance in appearances]
        for field, problems in checked.errors.items():
            if field in ("appearances", "tools") and isinstance(problems, dict):
                # Per-item errors come keyed by the item's position: name the row or line.
                for index, problem in problems.items():
                    if not isinstance(index, int):
                        # About the list as a whole (too many items), not one of them: no place.
                        for message in _flatten(problem):
                            self.add_error(None, message)
                        continue
                    if field == "appearances" and index < len(places):
                        where = places[index]
                    else:
                        where = str(_("Tool %(number)d") % {"number": index + 1})
                    for message in _flatten(problem):
                        self.add_error(None, f"{where}: {message}")
            else:
                target = field if field in self.fields else None
                for message in _flatten(problems):
                    self.add_error(target, message)
        return data
