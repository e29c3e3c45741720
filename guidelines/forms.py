"""The maintainer's editor: a draft version in plain text fields (one clause per line), and publishing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guidelines.vocabulary import CLAUSE_KINDS

CLAUSE_HELP = _(
    "One clause per line: key | kind | text | evidence. The kind is must, must_not or should; "
    "evidence (optional) lists safeguards separated by commas, e.g. "
    "label-output | must | Label synthetic output. | visible_watermark, c2pa_manifest"
)
CLAUSE_ID_HELP = _("One line per clause: key | Indonesian text. Leave empty for clauses you have not translated.")


def clauses_to_text(clauses: list[dict[str, Any]]) -> str:
    lines = []
    for clause in clauses:
        parts = [clause["key"], clause["kind"], clause["text"]]
        if clause.get("evidence"):
            parts.append(", ".join(clause["evidence"]))
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def translated_clauses_to_text(texts: dict[str, str]) -> str:
    return "\n".join(f"{key} | {text}" for key, text in texts.items())


class DraftForm(forms.Form):
    """A draft version's content; the service does the real validation, the form only parses lines."""

    version = forms.CharField(label=_("Version"), max_length=100, help_text=_("A semantic version, such as 1.0.0."))
    body = forms.CharField(label=_("Text (Markdown, English)"), widget=forms.Textarea(attrs={"rows": 10}))
    clauses = forms.CharField(
        label=_("Clauses (English)"), widget=forms.Textarea(attrs={"rows": 6}), help_text=CLAUSE_HELP
    )
    body_id = forms.CharField(
        label=_("Text in Bahasa Indonesia (Markdown)"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )
    clauses_id = forms.CharField(
        label=_("Clauses in Bahasa Indonesia"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=CLAUSE_ID_HELP,
    )

    def clean_clauses(self) -> list[dict[str, Any]]:
        clauses = []
        for number, line in enumerate(self.cleaned_data["clauses"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) not in (3, 4) or parts[1] not in CLAUSE_KINDS:
                raise forms.ValidationError(
                    _("Line %(number)s: write key | kind | text | evidence (kind: must, must_not or should)."),
                    params={"number": number},
                )
            clause: dict[str, Any] = {"key": parts[0], "kind": parts[1], "text": parts[2]}
            if len(parts) == 4 and parts[3]:
                clause["evidence"] = [item.strip() for item in parts[3].split(",") if item.strip()]
            clauses.append(clause)
        return clauses

    def clean_clauses_id(self) -> dict[str, str]:
        texts: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["clauses_id"].splitlines(), start=1):
            if not line.strip():
                continue
            key, bar, text = line.partition("|")
            if not bar or not key.strip() or not text.strip():
                raise forms.ValidationError(_("Line %(number)s: write key | text."), params={"number": number})
            texts[key.strip()] = text.strip()
        return texts

    def content(self) -> dict[str, Any]:
        """The fields as the version services take them."""
        data = self.cleaned_data
        translations = {}
        if data["body_id"].strip() or data["clauses_id"]:
            translations["id"] = {"body": data["body_id"], "clauses": data["clauses_id"]}
        return {"language": "en", "body": data["body"], "clauses": data["clauses"], "translations": translations}

    def add_service_errors(self, errors: dict[str, list[str]] | None, detail: str) -> None:
        """Show a service's ValidationFailed next to the field it concerns."""
        for name, messages in (errors or {"__all__": [detail]}).items():
            if name.startswith("translations"):
                field = "clauses_id" if ".clauses" in name else "body_id"
            elif name.startswith("clauses"):
                field = "clauses"
            elif name in self.fields:
                field = name
            else:
                field = None
            for message in messages:
                self.add_error(field, f"{detail} {message}" if field == "clauses" else message)


class NewGuidelineForm(DraftForm):
    """A new guideline together with its first draft."""

    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name for the address"), max_length=80, help_text=_("Lower-case letters, digits and hyphens.")
    )
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["title", "slug", "summary", "version", "body", "clauses", "body_id", "clauses_id"]


class PublishForm(forms.Form):
    """Publishing cannot be undone, so it takes an explicit confirmation."""

    confirm = forms.BooleanField(
        label=_("I understand that a published version can never be changed, and that it goes into the public log."),
        required=True,
    )
