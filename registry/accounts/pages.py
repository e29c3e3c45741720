"""The API-key pages of an organization: issue a key (shown once) and revoke one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from registry.accounts import services as accounts
from registry.accounts.forms import ApiKeyForm
from registry.accounts.models import ApiKey, Organization
from registry.accounts.presence import presence_from_request
from registry.errors import DomainError, ReauthenticationRequired
from registry.pages import form_errors, organization_context, organization_page, require_manager


def _keys_page(
    request: HttpRequest, organization: Organization, role: str, form: ApiKeyForm, issued: Any = None
) -> HttpResponse:
    keys = ApiKey.objects.filter(organization=organization).select_related("created_by").order_by("-created")
    context = organization_context(request, organization, role, "keys", form=form, keys=keys, issued=issued)
    return render(request, "consent/studio/api_keys.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Your organization's API keys; a new key is shown in this one response only."""
    organization, role = organization_page(request, org_slug)
    if request.method == "POST":
        require_manager(role)
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                issued = accounts.api_key_create(
                    organization=organization,
                    creator=request.user,  # type: ignore[arg-type]  # login_required: a User, not AnonymousUser
                    actor_role=role,
                    name=form.cleaned_data["name"],
                    presence=presence_from_request(request),
                )
            except ReauthenticationRequired:
                # Back to this page after confirming; the key's name is short and not secret.
                messages.info(request, _("For your safety, please confirm your password first. Then create the key."))
                back_to = reverse("consent:studio-api-keys", kwargs={"org_slug": organization.slug})
                return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': back_to})}")
            except DomainError as exc:
                form_errors(form, exc)
                return _keys_page(request, organization, role, form)
            return _keys_page(request, organization, role, ApiKeyForm(), issued=issued)
        return _keys_page(request, organization, role, form)
    return _keys_page(request, organization, role, ApiKeyForm())


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke(request: HttpRequest, org_slug: str, key_id: str) -> HttpResponse:
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    key = ApiKey.objects.filter(organization=organization, public_id=key_id).first()
    if key is None:
        raise Http404
    if request.method == "POST":
        accounts.api_key_revoke(api_key=key)
        messages.success(request, _("The key is revoked. Programs using it are refused from now on."))
        return redirect("consent:studio-api-keys", org_slug=organization.slug)
    context = organization_context(request, organization, role, "keys", key=key)
    return render(request, "consent/studio/api_key_revoke.html", context)
