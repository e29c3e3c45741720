"""Forms for the performer pages: onboarding, the consent wizard, signing and revoking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from consent import vocabulary as v
from consent.pages.studio_forms import choice_field, country_choices
from registry.accounts.models import Organization
from registry.widgets import IsoDateField


class OnboardingForm(forms.Form):
    """Who is this for: myself, my child, or a late relative (as their estate)."""

    FOR_CHOICES = [
        ("living", _("For myself")),
        ("minor", _("For my child (I am their parent or guardian)")),
        ("deceased", _("For a late relative (I speak for their estate)")),
    ]
    status = forms.ChoiceField(label=_("Who is this for?"), choices=FOR_CHOICES, widget=forms.RadioSelect)
    display_name = forms.CharField(
        label=_("Their name"), max_length=150, help_text=_("Only you and the people you add can see it.")
    )
    adult_on = IsoDateField(
        label=_("The day your child comes of age"),
        required=False,
        help_text=_("From that day on, they decide for themselves."),
    )
    deceased_on = IsoDateField(label=_("Date of death"), required=False)


def _choices(terms: tuple[v.Term, ...]) -> list[tuple[str, Any]]:
    return [(t.key, t.label) for t in terms]


class ConsentForm(forms.Form):
    """The consent wizard in one sectioned form; the service checks every rule again."""

    effect = forms.ChoiceField(
        label=_("Do you give consent or refuse it?"),
        choices=[("permit", _("I give consent")), ("deny", _("I refuse (put a refusal on record)"))],
        widget=forms.RadioSelect,
        initial="permit",
    )
    grantee = forms.ChoiceField(label=_("Who may use it?"))
    production = forms.CharField(
        label=_("Only for one production (optional)"),
        required=False,
        max_length=200,
        help_text=_("Leave empty to cover every production of that studio."),
    )
    media = forms.MultipleChoiceField(  # type: ignore[assignment]  # the form metaclass moves fields to base_fields: BaseForm.media stays
        label=_("Which parts of your likeness?"),
        choices=[*_choices(v.MEDIA), (v.LIKENESS, v.LIKENESS_LABEL)],
        widget=forms.CheckboxSelectMultiple,
    )
    activities = forms.MultipleChoiceField(
        label=_("What may be done?"),
        choices=_choices(v.ACTIVITIES),
        widget=forms.CheckboxSelectMultiple,
        initial=v.DEFAULT_ACTIVITIES,
    )
    purposes = forms.MultipleChoiceField(
        label=_("For what purposes?"),
        choices=_choices(tuple(t for t in v.PURPOSES if not t.sensitive)),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sensitive_purposes = forms.MultipleChoiceField(
        label=_("Sensitive purposes (only if you name them)"),
        choices=_choices(tuple(t for t in v.PURPOSES if t.sensitive)),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    intended_use = forms.CharField(
        label=_("Describe the use in your own words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: “New scenes for the film Sang Penari, shot in Jakarta”."),
    )
    everywhere = forms.BooleanField(label=_("Everywhere in the world"), required=False)
    territories = forms.MultipleChoiceField(
        label=_("Where?"), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    valid_from = IsoDateField(label=_("From"))
    valid_until = IsoDateField(label=_("Until"), required=False, help_text=_("Leave empty for no end date."))
    attribution_required = forms.BooleanField(label=_("I must be credited"), required=False)
    approval_required = forms.BooleanField(label=_("I approve each use before it is published"), required=False)
    disclosure_label_required = forms.BooleanField(label=_("Each use must be labelled as made with AI"), required=False)
    revocation_policy = forms.ChoiceField(
        label=_("When I revoke it"),
        choices=[("anytime", _("It ends at once")), ("notice", _("It ends after a notice period"))],
        widget=forms.RadioSelect,
        initial="anytime",
    )
    notice_days = forms.IntegerField(label=_("Notice period in days"), required=False, min_value=1, max_value=365)
    representation = forms.ChoiceField(
        label=_("Who advised you?"),
        choices=[("none", _("Nobody")), ("counsel", _("A lawyer")), ("union", _("A union"))],
        initial="none",
    )

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        studios = Organization.objects.filter(kind__in=["studio", "agency", "project"]).order_by("name")
        choice_field(self, "grantee").choices = [("*", _("Anyone")), *[(o.public_id, o.name) for o in studios]]
        # Indonesia and the US first (each listed once), then every country in the reader's language.
        choice_field(self, "territories").choices = country_choices(language)
        # Each choice carries its one-line explanation, built now so it is in the reader's language.
        for name, terms in (
            ("media", v.MEDIA),
            ("activities", v.ACTIVITIES),
            ("purposes", tuple(t for t in v.PURPOSES if not t.sensitive)),
            ("sensitive_purposes", tuple(t for t in v.PURPOSES if t.sensitive)),
        ):
            explained = [
                (t.key, format_html('{} <span class="choice__help">{}</span>', t.label, t.help)) for t in terms
            ]
            if name == "media":
                explained.append((v.LIKENESS, format_html("{}", v.LIKENESS_LABEL)))
            choice_field(self, name).choices = explained
        today = timezone.now().date()
        self.fields["valid_from"].initial = today
        self.fields["valid_until"].initial = today + timedelta(days=365)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("purposes") and not data.get("sensitive_purposes"):
            self.add_error("purposes", _("Choose at least one purpose."))
        if not data.get("everywhere") and not data.get("territories"):
            self.add_error("territories", _("Choose at least one country, or everywhere."))
        return data

    def terms(self) -> dict[str, Any]:
        """The form's answers as the consent service's terms."""
        data = self.cleaned_data
        return {
            "effect": data["effect"],
            "grantee": data["grantee"],
            "production": data.get("production") or None,
            "media": data["media"],
            "activities": data["activities"],
            "purposes": [*data.get("purposes", []), *data.get("sensitive_purposes", [])],
            "intended_use": data.get("intended_use", ""),
            "territories": [v.ANY] if data.get("everywhere") else data["territories"],
            "valid_from": data["valid_from"],
            "valid_until": data.get("valid_until"),
            "conditions": {
                "attribution_required": data.get("attribution_required", False),
                "approval_required": data.get("approval_required", False),
                "disclosure_label_required": data.get("disclosure_label_required", False),
            },
            "revocation": {"policy": data["revocation_policy"], "notice_days": data.get("notice_days") or 0},
            "representation": data["representation"],
        }


class SignatureForm(forms.Form):
    """A compact JWS the person made with their own key."""

    signature = forms.CharField(label=_("Your signature"), widget=forms.Textarea(attrs={"rows": 4}))


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why? (optional, only you can see it)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
