"""Forms for the performer pages: onboarding, the consent wizard, signing and revoking."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from consent import vocabulary as v
from consent.pages.studio_forms import country_choices
from registry.accounts.models import Organization
from registry.pages import choice_field
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


_WHOSE_LIKENESS = {
    "you": _("Which parts of your likeness?"),
    "child": _("Which parts of your child's likeness?"),
    "late": _("Which parts of your late relative's likeness?"),
    "principal": _("Which parts of the likeness of the person you represent?"),
}
_WHOSE_PARTS = {
    "you": _("Your face, your voice, your body, or all of them."),
    "child": _("Their face, their voice, their body, or all of them."),
    "late": _("Their face, their voice, their body, or all of them."),
    "principal": _("Their face, their voice, their body, or all of them."),
}
_WHOSE_CREDIT = {
    "you": _("I must be credited"),
    "child": _("My child must be credited"),
    "late": _("My late relative must be credited"),
    "principal": _("The person I represent must be credited"),
}


def signer_voice(role: str, status: str) -> str:
    """``you``, ``child``, ``late`` or ``principal``: the same reading as the plain-language summary."""
    if role == "guardian" or (role != "self" and status == "minor"):
        return "child"
    if role == "estate" or status == "deceased":
        return "late"
    if role == "agent":
        return "principal"
    return "you"


# Organizations a likeness may be licensed to (a guild or similar body is never a grantee).
GRANTEE_KINDS = ("studio", "agency", "project")
# The fewest letters a search needs, and the most matches shown: a search, never the whole registry.
SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 8


def organization_matches(query: str) -> list[Organization]:
    """Organizations whose name or short name contains ``query`` (case-insensitive), a few at most."""
    query = query.strip()
    if len(query) < SEARCH_MIN_LENGTH:
        return []
    found = Organization.objects.filter(kind__in=GRANTEE_KINDS).filter(
        models.Q(name__icontains=query) | models.Q(slug__icontains=query)
    )
    return list(found.order_by("name")[:SEARCH_LIMIT])


class ConsentForm(forms.Form):
    """The consent wizard: one form, one question per step (the steps are a layer in the page's
    script; without it the same form is one page). The service checks every rule again."""

    effect = forms.ChoiceField(
        label=_("Do you give consent or refuse it?"),
        choices=[("permit", _("I give consent")), ("deny", _("I refuse (put a refusal on record)"))],
        widget=forms.RadioSelect,
        initial="permit",
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
    all_purposes = forms.BooleanField(
        label=_("Every purpose, including political and sexual content"),
        required=False,
        help_text=_("Only for a refusal: nobody may use it for anything."),
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
    territories = forms.MultipleChoiceField(label=_("Where?"), required=False, widget=forms.CheckboxSelectMultiple)
    org_query = forms.CharField(
        label=_("Search for a studio or organization by name"),
        required=False,
        max_length=200,
        help_text=_("Type at least two letters of its name, then choose it from the results."),
    )
    grantee = forms.ChoiceField(label=_("Who may use it?"), widget=forms.RadioSelect)
    production = forms.CharField(
        label=_("Only for one production (optional)"),
        required=False,
        max_length=200,
        help_text=_("Leave empty to cover every production of that studio."),
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

    def __init__(
        self, *args: Any, language: str = "en", voice: str = "you", adult_on: date | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Whose likeness, as the signer would say it: a guardian speaks of their child, an estate
        # of the late relative, an agent of the person they represent.
        self.voice = voice if voice in _WHOSE_LIKENESS else "you"
        self.fields["media"].label = _WHOSE_LIKENESS[self.voice]
        self.fields["attribution_required"].label = _WHOSE_CREDIT[self.voice]
        self.media_hint = _WHOSE_PARTS[self.voice]
        source = self.data if self.is_bound else self.initial
        self.language = language
        self.search_query = str(source.get("org_query") or "").strip()
        self.org_matches = organization_matches(self.search_query)
        # Offered: anyone, the organization already chosen (kept when the search changes), and
        # what the search found. Validation accepts only these, so only a real grantee.
        offered = list(self.org_matches)
        chosen = str(source.get("grantee") or "")
        if chosen and chosen != v.ANY and all(o.public_id != chosen for o in offered):
            picked = Organization.objects.filter(public_id=chosen, kind__in=GRANTEE_KINDS).first()
            if picked is not None:
                offered.insert(0, picked)
        choice_field(self, "grantee").choices = [
            (v.ANY, _("Anyone")),
            *[(o.public_id, format_html('{} <span class="choice__help">{}</span>', o.name, o.slug)) for o in offered],
        ]
        # Indonesia and the US first (each listed once), then every country in the reader's language.
        self.country_groups = country_choices(language)
        choice_field(self, "territories").choices = [pair for _group, pairs in self.country_groups for pair in pairs]
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
        # A year by default; for a minor, never past the day they come of age (the registry refuses it).
        a_year = today + timedelta(days=365)
        self.fields["valid_until"].initial = min(a_year, adult_on) if adult_on else a_year

    def country_rows(self) -> list[tuple[str, list[tuple[str, str, bool]]]]:
        """The country checkboxes by group: (group, [(code, name, checked)])."""
        if self.is_bound:
            chosen = set(self.data.getlist("territories")) if hasattr(self.data, "getlist") else set()
        else:
            chosen = set(self.initial.get("territories") or [])
        return [
            (str(group), [(code, name, code in chosen) for code, name in pairs]) for group, pairs in self.country_groups
        ]

    def refuses_everything(self, data: dict[str, Any]) -> bool:
        return data.get("effect") == "deny" and bool(data.get("all_purposes"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.refuses_everything(data) and not data.get("purposes") and not data.get("sensitive_purposes"):
            self.add_error("purposes", _("Choose at least one purpose."))
        if not data.get("everywhere") and not data.get("territories"):
            self.add_error("territories", _("Choose at least one country, or everywhere."))
        if (
            data.get("revocation_policy") == "notice"
            and not data.get("notice_days")
            and "notice_days" not in self.errors
        ):
            self.add_error("notice_days", _("Say how many days the notice period lasts (1 to 365)."))
        return data

    def terms(self) -> dict[str, Any]:
        """The form's answers as the consent service's terms."""
        data = self.cleaned_data
        if self.refuses_everything(data):
            # Named one by one: a wildcard never reaches the sensitive purposes.
            purposes = list(v.PURPOSE_KEYS)
        else:
            purposes = [*data.get("purposes", []), *data.get("sensitive_purposes", [])]
        return {
            "effect": data["effect"],
            "grantee": data["grantee"],
            "production": data.get("production") or None,
            "media": data["media"],
            "activities": data["activities"],
            "purposes": purposes,
            "intended_use": data.get("intended_use", ""),
            "territories": [v.ANY] if data.get("everywhere") else data["territories"],
            "valid_from": data["valid_from"],
            "valid_until": data.get("valid_until"),
            "conditions": {
                "attribution_required": data.get("attribution_required", False),
                "approval_required": data.get("approval_required", False),
                "disclosure_label_required": data.get("disclosure_label_required", False),
            },
            "revocation": {
                "policy": data["revocation_policy"],
                "notice_days": (data.get("notice_days") or 0) if data["revocation_policy"] == "notice" else 0,
            },
            "representation": data["representation"],
        }


def kept_answers(form: ConsentForm, data: Any) -> dict[str, Any]:
    """What the person had answered, as initial values (a search is not a submission: no errors)."""
    kept: dict[str, Any] = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            kept[name] = data.getlist(name)
        elif isinstance(field, forms.BooleanField):
            kept[name] = data.get(name) in ("on", "true", "1", "True")
        elif name in data:
            kept[name] = data.get(name)
    return kept


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
