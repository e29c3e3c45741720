"""The maintainer's editor: a draft version in plain text fields (one clause per line), and publishing."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django import forms
from django.utils.translation import gettext_lazy as _

from guidelines.content import BODY
from guidelines.vocabulary import CLAUSE_KINDS
from registry.lib.jsondepth import loads_bounded

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

    def __init__(self, *args: Any, outdated: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if outdated:
            self.fields["reviewed"] = forms.MultipleChoiceField(
                label=_("Indonesian texts that are still correct"),
                help_text=_(
                    "The English text of these changed after they were translated. Update the Indonesian "
                    "text above, or tick it here if it is still correct."
                ),
                choices=[(key, _("Main text") if key == BODY else key) for key in outdated],
                widget=forms.CheckboxSelectMultiple,
                required=False,
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
        content: dict[str, Any] = {
            "language": "en",
            "body": data["body"],
            "clauses": data["clauses"],
            "translations": translations,
        }
        if data.get("reviewed"):
            content["translations_reviewed"] = {"id": list(data["reviewed"])}
        return content

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


class ProjectForm(forms.Form):
    """A new project organization: its name, its address on Restu and where its code lives."""

    name = forms.CharField(label=_("Project name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name for the address"),
        max_length=80,
        help_text=_("Lower-case letters, digits and hyphens. Your project's page will be at /projects/short-name/."),
    )
    repository_url = forms.URLField(
        label=_("Source code repository"),
        required=False,
        assume_scheme="https",
        help_text=_("For example https://github.com/you/your-tool. You can later prove that the repository is yours."),
    )
    homepage = forms.URLField(label=_("Homepage"), required=False, assume_scheme="https")

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("This short name is reserved. Please choose another."))
        return slug


# Page addresses under /projects/ that a project's short name must not take.
RESERVED_SLUGS = {"new"}


class SigningKeyForm(forms.Form):
    """A project's public signing key, pasted as PEM (what openssl prints) or as a JSON Web Key."""

    public_key = forms.CharField(
        label=_("Public key"),
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "Paste the public key: the text from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----, "
            "or an Ed25519 JSON Web Key. Never paste the private key."
        ),
    )

    def clean_public_key(self) -> dict[str, Any]:
        text = self.cleaned_data["public_key"].strip()
        if "PRIVATE KEY" in text or _json_has_private_part(text):
            raise forms.ValidationError(
                _("This is a private key. Keep it secret and paste only the public key (openssl pkey -pubout).")
            )
        if text.startswith("-----BEGIN"):
            return _jwk_from_pem(text)
        try:
            jwk = loads_bounded(text)
        except ValueError:
            jwk = None
        if not isinstance(jwk, dict):
            raise forms.ValidationError(_("This is neither a PEM public key nor a JSON Web Key."))
        return jwk


def _json_has_private_part(text: str) -> bool:
    try:
        value = loads_bounded(text)
    except ValueError:
        return False
    return isinstance(value, dict) and "d" in value


def _jwk_from_pem(text: str) -> dict[str, Any]:
    try:
        key = serialization.load_pem_public_key(text.encode("ascii", errors="replace"))
    except ValueError:
        raise forms.ValidationError(_("This PEM text could not be read as a public key.")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise forms.ValidationError(_("This is not an Ed25519 key. Restu accepts Ed25519 signing keys only."))
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")}


class RetireKeyForm(forms.Form):
    """Retiring a key cannot be undone, so it takes an explicit confirmation."""

    confirm = forms.BooleanField(
        label=_("I understand that this key will sign nothing new. What it signed before stays valid."),
        required=True,
    )


class ProofForm(forms.Form):
    """Ask for a token to publish on the project's domain or in its repository."""

    kind = forms.ChoiceField(
        label=_("Where you will publish the token"),
        choices=[
            ("domain", _("On our website's domain (a file at /.well-known/restu.txt)")),
            ("repository", _("In our source code repository (a file you add)")),
        ],
        widget=forms.RadioSelect,
        initial="repository",
    )
    target = forms.CharField(
        label=_("Domain name or file address"),
        max_length=500,
        help_text=_(
            "For a domain: its name, such as example.org. For the repository: the address where anyone can "
            "read the raw file, under your repository's address."
        ),
    )

    def add_service_errors(self, errors: dict[str, list[str]] | None, detail: str) -> None:
        """The service names ``target`` or ``kind``; anything else is shown above the form."""
        for name, found in (errors or {"__all__": [detail]}).items():
            for message in found:
                self.add_error(name if name in self.fields else None, message)
