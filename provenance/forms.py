"""The "Check a file" form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CheckFileForm(forms.Form):
    """One file, checked and forgotten."""

    file = forms.FileField(
        label=_("File to check"),
        help_text=_("A photo, video or sound file, up to 100 MB. We read it, then delete it: it is never stored."),
        error_messages={"required": _("Choose a file to check.")},
    )
