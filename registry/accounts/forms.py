"""The API-key form of the organization pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ApiKeyForm(forms.Form):
    """A name for a new API key, so you recognise it later."""

    name = forms.CharField(
        label=_("Name of the key"),
        max_length=100,
        help_text=_("For example “render farm” or “CI pipeline”: you will see it in the list."),
    )
