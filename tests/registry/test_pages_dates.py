"""Date inputs hold ISO ``YYYY-MM-DD`` whatever the language: the browser drops any other value.

With Indonesian, Django localizes dates as ``06-12-2026``; ``<input type="date">`` rejects that,
so the field came up empty and a consent's default one-year end date silently vanished.
"""

from __future__ import annotations

import importlib
import inspect
import re
from datetime import date, timedelta

import pytest
from django import forms
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from consent.models import Subject
from consent.pages.forms import ConsentForm, OnboardingForm
from consent.pages.studio_forms import CheckForm, ReleaseForm
from registry.widgets import IsoDateField, IsoDateInput

pytestmark = pytest.mark.django_db
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_INPUT = re.compile(r'<input type="date"[^>]*>')
VALUE = re.compile(r'value="([^"]*)"')


def _date_values(html: str) -> list[str]:
    """The value of every date input in ``html`` ("" for an empty one)."""
    values = []
    for tag in DATE_INPUT.findall(html):
        found = VALUE.search(tag)
        values.append(found.group(1) if found else "")
    return values


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_date_input_of_every_form_renders_iso(language: str) -> None:
    today = timezone.now().date()
    with translation.override(language):
        forms_and_fields = [
            (ConsentForm(language=language), ["valid_from", "valid_until"]),
            (CheckForm(language=language), ["date"]),
            (ReleaseForm(language=language), ["release_date"]),
            (OnboardingForm(initial={"adult_on": date(2031, 12, 6), "deceased_on": date(2020, 1, 31)}), None),
        ]
        rendered = {name: str(form[name]) for form, names in forms_and_fields for name in (names or form.fields)}
    values = {name: _date_values(html) for name, html in rendered.items() if 'type="date"' in html}
    assert values["valid_from"] == [today.isoformat()]
    assert values["valid_until"] == [(today + timedelta(days=365)).isoformat()]
    assert values["date"] == [today.isoformat()]
    assert values["release_date"] == [today.isoformat()]
    assert values["adult_on"] == ["2031-12-06"]
    assert values["deceased_on"] == ["2020-01-31"]


def test_a_bound_form_sends_the_iso_value_back_and_parses_it_in_indonesian() -> None:
    with translation.override("id"):
        form = ConsentForm({"valid_from": "2026-12-06", "valid_until": "2027-12-06"}, language="id")
        form.is_valid()
        assert form.cleaned_data["valid_from"] == date(2026, 12, 6)
        assert form.cleaned_data["valid_until"] == date(2027, 12, 6)
        assert _date_values(str(form["valid_until"])) == ["2027-12-06"]


def _forms_in(module_name: str) -> list[type[forms.Form]]:
    module = importlib.import_module(module_name)
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, forms.BaseForm) and obj.__module__ == module_name
    ]


def test_every_date_field_of_the_projects_forms_uses_the_iso_widget() -> None:
    modules = []
    for app in settings.INSTALLED_APPS:
        if app.split(".")[0] not in ("consent", "guidelines", "registry"):
            continue
        for name in ("forms", "studio_forms", "pages.forms", "pages.studio_forms"):
            try:
                importlib.import_module(f"{app}.{name}")
            except ModuleNotFoundError:
                continue
            modules.append(f"{app}.{name}")
    assert "consent.pages.forms" in modules
    assert "consent.pages.studio_forms" in modules
    plain = []
    for module in modules:
        for form_class in _forms_in(module):
            for name, field in form_class.base_fields.items():
                if isinstance(field, forms.DateField) and not isinstance(field.widget, IsoDateInput):
                    plain.append(f"{module}.{form_class.__name__}.{name}")
    assert plain == []
    assert isinstance(IsoDateField().widget, IsoDateInput)


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_wizard_and_studio_pages_fill_date_inputs_with_iso(language: str, make_user, make_org) -> None:
    person = make_user()
    client = Client()
    client.force_login(person)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.post("/me/start/", {"status": "living", "display_name": "Sari Pemeran"})
    subject = Subject.objects.get()
    today = timezone.now().date()
    wizard = client.get(f"/subjects/{subject.public_id}/consents/new/").content.decode()
    assert f'lang="{language}"' in wizard
    assert _date_values(wizard) == [today.isoformat(), (today + timedelta(days=365)).isoformat()]

    org = make_org(owner=person)
    for path in (f"/studios/{org.slug}/check/", f"/studios/{org.slug}/releases/new/"):
        page = client.get(path).content.decode()
        values = _date_values(page)
        assert values == [today.isoformat()], path
        assert all(ISO.match(value) for value in values)
