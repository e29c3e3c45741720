"""What every signed-in page of an organization shares: which organization the person acts for,
with which role, and a domain error shown on the form that caused it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from registry.accounts.models import Membership, Organization
from registry.accounts.selectors import organizations_for, role_in
from registry.errors import DomainError

MANAGERS = (Membership.Role.OWNER, Membership.Role.ADMIN)


def organization_page(request: HttpRequest, org_slug: str) -> tuple[Organization, str]:
    """The organization and the person's role in it; 404 for strangers, as if it did not exist."""
    organization = Organization.objects.filter(slug=org_slug).first()
    role = role_in(user=request.user, organization=organization) if organization else None  # type: ignore[arg-type]  # login_required: a User, not AnonymousUser
    if organization is None or role is None:
        raise Http404
    return organization, role


def require_manager(role: str) -> None:
    """Admins and owners only (403 otherwise), as in the API."""
    if role not in MANAGERS:
        raise PermissionDenied


def organization_context(
    request: HttpRequest, organization: Organization, role: str, section: str, **extra: Any
) -> dict[str, Any]:
    return {
        "organization": organization,
        "role": role,
        "can_manage": role in MANAGERS,
        "organizations": organizations_for(user=request.user).order_by("name"),  # type: ignore[arg-type]  # login_required: a User, not AnonymousUser
        "section": section,
        **extra,
    }


def form_errors(form: Any, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the field it names, else above the form."""
    for field, problems in (exc.errors or {}).items():
        target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, problem)
    if not exc.errors:
        form.add_error(None, exc.detail)


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's field ``name``, a choice field whose choices are built per request."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # narrows Field: every caller names a choice field
    return field
