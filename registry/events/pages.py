"""The webhook pages of an organization: endpoints, their secrets and their delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from registry.accounts.models import Organization
from registry.errors import DomainError
from registry.events import services as events
from registry.events.forms import WebhookForm
from registry.events.models import Delivery, DeliveryAttempt, WebhookEndpoint
from registry.pages import form_errors, organization_context, organization_page, require_manager


def _endpoint(organization: Organization, webhook_id: str) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(organization=organization, public_id=webhook_id).first()
    if endpoint is None:
        raise Http404
    return endpoint


def _webhooks_page(
    request: HttpRequest,
    organization: Organization,
    role: str,
    form: WebhookForm,
    shown: WebhookEndpoint | None = None,
) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.filter(organization=organization).order_by("created")
    context = organization_context(request, organization, role, "webhooks", form=form, endpoints=endpoints, shown=shown)
    return render(request, "consent/studio/webhooks.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Webhook endpoints; a new one's signing secret is shown in this one response only.

    Admins and owners only, as in the API: an endpoint's URL can carry a token of the studio's own.
    """
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint = events.webhook_create(organization=organization, actor_role=role, **form.cleaned_data)
            except DomainError as exc:
                form_errors(form, exc)
            else:
                return _webhooks_page(request, organization, role, WebhookForm(), shown=endpoint)
        return _webhooks_page(request, organization, role, form)
    return _webhooks_page(request, organization, role, WebhookForm())


@login_required
def webhook_detail(request: HttpRequest, org_slug: str, webhook_id: str) -> HttpResponse:
    """One endpoint and its delivery log, newest first (admins and owners, as in the API)."""
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    endpoint = _endpoint(organization, webhook_id)
    deliveries = (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-at", "-id")))
        .order_by("-created")[:100]
    )
    rows = [{"delivery": delivery, "last": next(iter(delivery.attempt_log.all()), None)} for delivery in deliveries]
    context = organization_context(request, organization, role, "webhooks", endpoint=endpoint, rows=rows)
    return render(request, "consent/studio/webhook_detail.html", context)


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, org_slug: str, webhook_id: str) -> HttpResponse:
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    endpoint = _endpoint(organization, webhook_id)
    events.webhook_update(endpoint=endpoint, is_active=not endpoint.is_active)
    if endpoint.is_active:
        messages.success(request, _("The webhook is on again."))
    else:
        messages.success(request, _("The webhook is off. Nothing is sent to it until you turn it on."))
    return redirect("consent:studio-webhooks", org_slug=organization.slug)


@login_required
@require_POST
def webhook_rotate(request: HttpRequest, org_slug: str, webhook_id: str) -> HttpResponse:
    """A new signing secret, shown in this one response; the old one keeps signing for 24 hours."""
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    endpoint = events.webhook_rotate_secret(endpoint=_endpoint(organization, webhook_id))
    return _webhooks_page(request, organization, role, WebhookForm(), shown=endpoint)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, org_slug: str, webhook_id: str) -> HttpResponse:
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    endpoint = _endpoint(organization, webhook_id)
    if request.method == "POST":
        # No service exists for this yet; the API's DELETE does exactly the same.
        events.webhook_delete(endpoint=endpoint)
        messages.success(request, _("The webhook is deleted."))
        return redirect("consent:studio-webhooks", org_slug=organization.slug)
    context = organization_context(request, organization, role, "webhooks", endpoint=endpoint)
    return render(request, "consent/studio/webhook_delete.html", context)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, org_slug: str, webhook_id: str, delivery_id: str) -> HttpResponse:
    organization, role = organization_page(request, org_slug)
    require_manager(role)
    endpoint = _endpoint(organization, webhook_id)
    delivery = Delivery.objects.filter(endpoint=endpoint, public_id=delivery_id).first()
    if delivery is None:
        raise Http404
    events.delivery_redeliver(delivery=delivery)
    messages.success(request, _("Sending again. The result appears in the log in a moment."))
    return redirect("consent:studio-webhook", org_slug=organization.slug, webhook_id=endpoint.public_id)
