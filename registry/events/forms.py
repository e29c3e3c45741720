"""The webhook form of the organization pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry.events.vocabulary import EVENT_TYPES
from registry.pages import choice_field

EVENT_HELP = {
    "consent.signed": _("A person signed a consent that names your organization or everyone."),
    "consent.revoked": _("A person revoked a consent you may rely on."),
    "consent.expired": _("A consent you may rely on reached its end date."),
    "release.status_changed": _("One of your releases changed status, for example from cleared to blocked."),
    "attestation.stored": _("A project signed an attestation for a release of its tool."),
    "attestation.revoked": _("A project withdrew an attestation."),
    "guideline.published": _("A project published a new guideline version."),
    "guideline.retired": _("A project retired a guideline version."),
    "subject.disputed": _("Someone said “this isn't me” about a person you may rely on."),
}


class WebhookForm(forms.Form):
    """A new webhook endpoint: where to send, and which events."""

    url = forms.URLField(
        label=_("Address (URL) of your receiver"),
        max_length=500,
        assume_scheme="https",
        help_text=_("It must be reachable over the internet, with https."),
    )
    events = forms.MultipleChoiceField(
        label=_("Which events?"),
        choices=[(event, event) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Description (optional)"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per request, so each explanation is in the reader's language.
        choice_field(self, "events").choices = [
            (
                event,
                format_html('<code>{}</code> <span class="choice__help">{}</span>', event, EVENT_HELP.get(event, "")),
            )
            for event in EVENT_TYPES
        ]
