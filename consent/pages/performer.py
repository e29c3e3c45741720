"""Pages for performers and the people who act for them: parse a form, call a service, render."""

from __future__ import annotations

import json
import re
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from consent import selectors, services
from consent.models import Consent, Subject
from consent.pages.forms import (
    SEARCH_MIN_LENGTH,
    ConsentForm,
    OnboardingForm,
    RevokeForm,
    SignatureForm,
    kept_answers,
    signer_voice,
)
from consent.rules.statements import consent_summary
from registry.accounts.presence import presence_from_request
from registry.authenticated import AuthenticatedHttpRequest
from registry.errors import DomainError, NotAllowed, NotFound, ReauthenticationRequired
from registry.lib.canonical import sha256_digest
from registry.pages import form_errors


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _consent(request: AuthenticatedHttpRequest, consent_id: str) -> Consent:
    try:
        consent, _rep = selectors.consent_for_representative(user=request.user, public_id=consent_id)
    except NotFound:
        raise Http404 from None
    return consent


# What a person typed before being sent to re-authenticate, kept in their session (never in a URL).
_KEPT = "consent.kept_input"


def _reauthenticate(
    request: HttpRequest, back_to: str, message: str, kept: dict[str, str] | None = None
) -> HttpResponse:
    """Through allauth's re-authentication and back to ``back_to`` (a path of ours), with what the
    person typed kept for the page they return to."""
    if kept:
        request.session[_KEPT] = {"path": back_to, "fields": kept}
    messages.info(request, message)
    return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': back_to})}")


def _kept_input(request: HttpRequest, path: str) -> dict[str, str]:
    """What the person typed on ``path`` before re-authenticating (once)."""
    kept = request.session.get(_KEPT)
    if not isinstance(kept, dict) or kept.get("path") != path:
        return {}
    del request.session[_KEPT]
    fields = kept.get("fields")
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}


@login_required
def my_consents(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every person the user acts for, with their consents."""
    # Only representations in force today (a guardian's ends when the child comes of age).
    subjects = [
        x for x in selectors.subjects_for(user=request.user) if services.representative_of(user=request.user, subject=x)
    ]
    rows = []
    for subject in subjects:
        consents = list(subject.consents.select_related("grantee_org", "subject").order_by("-created"))
        rows.append(
            {
                "subject": subject,
                "consents": [(c, consent_summary(c, _language())) for c in consents],
                "qr": _qr_svg(subject.public_id),
            }
        )
    return render(request, "consent/my_consents.html", {"rows": rows})


def _qr_svg(text: str) -> str:
    """``text`` as a QR code in inline SVG, drawn on the server (no script, no image request)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    # Sized by the style sheet; the id is ours (letters and digits only), so the markup is safe.
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg class="qr" aria-hidden="true" focusable="false"', svg)
    return mark_safe(svg)  # noqa: S308


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subject = services.subject_create(
                creator=request.user,
                display_name=data["display_name"],
                status=data["status"],
                adult_on=data.get("adult_on") if data["status"] == "minor" else None,
                deceased_on=data.get("deceased_on") if data["status"] == "deceased" else None,
            )
        except DomainError as exc:
            form_errors(form, exc)
        else:
            return redirect("consent:consent-new", subject_id=subject.public_id)
    return render(request, "consent/onboarding.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def consent_new(request: AuthenticatedHttpRequest, subject_id: str) -> HttpResponse:
    """The wizard: one form whose steps the page's script shows one at a time.

    One form, posted once, rather than server-side steps with a draft kept between them: the server
    validates every answer together exactly as without scripts, there is no half-made state in the
    session to expire or clash between two tabs, and the browser's Back button never loses answers.
    A search for an organization (the "Search" button, or ``?org_query=`` from the script) is not a
    submission: it shows the matches with the answers kept, and no errors."""
    try:
        subject, rep = selectors.subject_for_representative(user=request.user, public_id=subject_id)
    except NotFound:
        raise Http404 from None
    searching = request.method == "POST" and "find_org" in request.POST
    options: dict[str, Any] = {
        "language": _language(),
        "voice": signer_voice(rep.role, subject.status),
        "adult_on": subject.adult_on if subject.status == Subject.Status.MINOR else None,
    }
    if searching:
        probe = ConsentForm(request.POST, **options)
        form = ConsentForm(initial=kept_answers(probe, request.POST), **options)
    elif request.method == "POST":
        form = ConsentForm(request.POST, **options)
    else:
        form = ConsentForm(initial={"org_query": request.GET.get("org_query", "")[:200]}, **options)
    if request.method == "POST" and not searching and form.is_valid():
        try:
            consent = services.consent_create(subject=subject, actor=request.user, terms=form.terms())
        except DomainError as exc:
            form_errors(form, exc)
        else:
            return redirect("consent:consent-review", consent_id=consent.public_id)
    context = {"form": form, "subject": subject, "searched": len(form.search_query) >= SEARCH_MIN_LENGTH}
    return render(request, "consent/consent_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consent_review(request: AuthenticatedHttpRequest, consent_id: str) -> HttpResponse:
    """The plain-language summary, the terms, and the ways to sign (or revoke, or discard a draft)."""
    consent = _consent(request, consent_id)
    if request.method == "POST":
        return _discard(request, consent)
    here = reverse("consent:consent-review", kwargs={"consent_id": consent.public_id})
    resumed = _resume_signing(request, consent, _kept_input(request, here))
    if resumed is not None:
        return resumed
    summary = consent.notice_summary if consent.signed_at else consent_summary(consent, _language())
    context = {
        "consent": consent,
        "summary": summary,
        "notice_digest": sha256_digest(summary.encode("utf-8")),
        "signing_input": services.consent_signing_input(consent),
        "signature_form": SignatureForm(),
        "issuer": settings.REGISTRY_ISSUER,
    }
    return render(request, "consent/consent_review.html", context)


def _discard(request: AuthenticatedHttpRequest, consent: Consent) -> HttpResponse:
    """POST ``action=discard`` on the review page: delete a draft never signed."""
    if request.POST.get("action") != "discard":
        return HttpResponse(status=400)
    try:
        services.consent_discard(consent=consent, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("consent:consent-review", consent_id=consent.public_id)
    messages.success(request, _("Draft discarded. Nothing of it was kept."))
    return redirect("consent:my-consents")


# How long a "sign" that waited for re-authentication stays pending.
_RESUME_WITHIN = 600


def _resume_signing(request: AuthenticatedHttpRequest, consent: Consent, kept: dict[str, str]) -> HttpResponse | None:
    """Back from re-authentication after pressing sign: finish that signature without a second press.

    Safe because the intent was written by the person's own POST (CSRF-checked) into their session,
    names this consent and the digest of the summary they were shown (a changed draft is refused),
    lapses after a few minutes, is used once, and the service still demands the fresh presence."""
    if kept.get("intent") != "sign" or consent.status != Consent.Status.DRAFT:
        return None
    try:
        pending_since = float(kept.get("at", "0"))
    except ValueError:
        return None
    if timezone.now().timestamp() - pending_since > _RESUME_WITHIN:
        return None
    try:
        services.consent_sign(
            consent=consent,
            actor=request.user,
            method=Consent.Method.WITNESSED,
            witness=presence_from_request(request),
            language=kept.get("language") or _language(),
            notice_digest=kept.get("notice_digest") or None,
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return None
    messages.success(request, _("Signed. Your decision is now on record."))
    return redirect("consent:my-consents")


@login_required
@require_POST
def consent_sign(request: AuthenticatedHttpRequest, consent_id: str) -> HttpResponse:
    consent = _consent(request, consent_id)
    review = reverse("consent:consent-review", kwargs={"consent_id": consent.public_id})
    method = request.POST.get("method", "witnessed")
    try:
        services.consent_sign(
            consent=consent,
            actor=request.user,
            method=method,
            signature=request.POST.get("signature") or None,
            witness=presence_from_request(request),
            language=_language(),
            notice_digest=request.POST.get("notice_digest") or None,
        )
    except ReauthenticationRequired:
        kept = None
        if method == Consent.Method.WITNESSED:
            kept = {
                "intent": "sign",
                "notice_digest": request.POST.get("notice_digest") or "",
                "language": _language(),
                "at": str(timezone.now().timestamp()),
            }
        return _reauthenticate(
            request,
            review,
            _("For your safety, please confirm your password first. We will then finish signing for you."),
            kept=kept,
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Signed. Your decision is now on record."))
        return redirect("consent:my-consents")
    return redirect(review)


@login_required
@require_http_methods(["GET", "POST"])
def consent_revoke(request: AuthenticatedHttpRequest, consent_id: str) -> HttpResponse:
    consent = _consent(request, consent_id)
    here = reverse("consent:consent-revoke", kwargs={"consent_id": consent.public_id})
    kept = _kept_input(request, here) if request.method == "GET" else {}
    form = RevokeForm(request.POST or None, initial={"reason": kept.get("reason", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(
                consent=consent,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                witness=presence_from_request(request),
            )
        except ReauthenticationRequired:
            return _reauthenticate(
                request,
                here,
                _("For your safety, please confirm your password first. Then revoke again."),
                kept={"reason": form.cleaned_data["reason"]},
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Revoked. From now on, nobody can get a new yes from this consent."))
            return redirect("consent:my-consents")
    summary = consent.notice_summary or consent_summary(consent, _language())
    return render(request, "consent/consent_revoke.html", {"consent": consent, "form": form, "summary": summary})


@login_required
def consent_history(request: AuthenticatedHttpRequest, consent_id: str) -> HttpResponse:
    consent = _consent(request, consent_id)
    events = selectors.consent_history(consent=consent)
    return render(request, "consent/consent_history.html", {"consent": consent, "events": events})


@login_required
def access_log(request: AuthenticatedHttpRequest, subject_id: str) -> HttpResponse:
    """Who checked me."""
    try:
        subject, _rep = selectors.subject_for_representative(user=request.user, public_id=subject_id)
    except NotFound:
        raise Http404 from None
    try:
        entries = services.access_log_read(subject=subject, actor=request.user).order_by("-created")[:200]
    except NotAllowed as exc:  # an agent without read_access_log
        raise PermissionDenied(exc.detail) from None
    return render(request, "consent/access_log.html", {"subject": subject, "entries": entries})


@login_required
def export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everything about me, as JSON (each consent also as an ISO/IEC TS 27560-style record)."""
    body = json.dumps(selectors.person_export(user=request.user), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="restu-my-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def erase(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Delete my personal data and close my account (asks for confirmation first)."""
    if request.method == "POST":
        if request.POST.get("confirm") != "erase":
            messages.error(request, _("Tick the box to confirm."))
            return redirect("consent:erase")
        try:
            services.person_erase(user=request.user, presence=presence_from_request(request))
        except ReauthenticationRequired:
            return _reauthenticate(
                request,
                reverse("consent:erase"),
                _("For your safety, please confirm your password first. Then confirm the erasure again."),
            )
        logout(request)
        messages.success(request, _("Your personal data has been deleted and your account closed."))
        return redirect("home")
    return render(request, "consent/erase.html")
