"""Pages for studios: check a use, check a release and read its clearance report, webhooks, API keys.

A person acts for one of their organizations, named in the address (``/studios/<slug>/…``);
organizations they don't belong to answer 404, so addresses reveal nothing. Members read;
only admins and owners change webhooks and API keys. Views parse a form, call one service,
render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from consent import vocabulary as v
from consent.models import Consent, Release, SubjectProfile
from consent.pages.studio_forms import CheckForm, ReleaseForm, StudioCreateForm
from consent.rules.statements import country_name, human_date
from consent.services import releases
from consent.verification import check_from, verification_run
from registry.accounts import services as accounts
from registry.accounts.models import Membership, Organization
from registry.api.throttling import organization_charge, organization_wait
from registry.authenticated import AuthenticatedHttpRequest
from registry.errors import DomainError, NotFound
from registry.pages import form_errors, organization_context, organization_page

# One sentence per reason of consent.rules.decision.REASONS, for people rather than programs.
REASON_SENTENCES = {
    "subject_unknown": gettext_lazy(
        "Restu has no person with this id that your organization may know about. "
        "Check the id with the person or their agent."
    ),
    "disputed": gettext_lazy(
        "Someone has said “this isn't me” about this record, so every consent is on hold until that is settled."
    ),
    "denied_by_subject": gettext_lazy("The person has put a refusal on record that covers this use."),
    "assurance_too_low": gettext_lazy("The person's identity check is weaker than the minimum you asked for."),
    "no_matching_consent": gettext_lazy("The person has no consent in force that covers this use."),
    "wrong_grantee": gettext_lazy("The person's consents are for other organizations, not yours."),
    "wrong_production": gettext_lazy("The consent covers a different production only."),
    "medium_not_covered": gettext_lazy("The consent does not cover this part of the likeness (face, voice or body)."),
    "activity_not_covered": gettext_lazy("The consent does not allow this activity."),
    "purpose_not_covered": gettext_lazy("The consent does not cover this purpose."),
    "territory_not_covered": gettext_lazy("The consent does not cover this country."),
    "not_yet_valid": gettext_lazy("The consent is not in force yet on this date."),
    "expired": gettext_lazy("The consent has ended by this date (for a child: the day they come of age)."),
    "revoked": gettext_lazy("The person has revoked the consent."),
    "authority_unverified": gettext_lazy(
        "The person is a child or has died, and no verified guild or agency has yet confirmed that whoever "
        "acts for them (a guardian, an estate) may do so."
    ),
}

# Why a careful studio lawyer would still look at a permitted appearance (consent.services.releases.REVIEW_FLAGS).
FLAG_SENTENCES = {
    "term_over_10_years": gettext_lazy("The consent runs for more than ten years, or has no end date."),
    "minor_without_court_approval": gettext_lazy("The person is a child and no court approval is on record."),
    "no_named_production": gettext_lazy("The consent covers any production rather than naming yours."),
    "signer_unadvised": gettext_lazy(
        "The consent lets a digital replica be made or new material be generated for a named engagement, "
        "and the person signed it without a lawyer or a union representing them."
    ),
    "authority_unverified": gettext_lazy(
        "No verified guild or agency has yet confirmed the authority of the child's guardian or the estate."
    ),
}

DECISION_WORDS = {
    "permitted": gettext_lazy("Permitted"),
    "denied": gettext_lazy("Denied"),
    "unknown": gettext_lazy("Unknown"),
}

STATUS_WORDS: dict[str, tuple[Any, Any]] = {
    Release.Status.CLEARED: (
        gettext_lazy("Cleared"),
        gettext_lazy("Every appearance has consent for this release, and every tool is attested."),
    ),
    Release.Status.BLOCKED: (
        gettext_lazy("Blocked"),
        gettext_lazy(
            "At least one appearance has no consent for this release, or a tool has no attestation. "
            "Do not release it until this is solved."
        ),
    ),
    Release.Status.NEEDS_REVIEW: (
        gettext_lazy("Needs review"),
        gettext_lazy(
            "Every appearance has consent, but some terms deserve a careful look, for example by your lawyer."
        ),
    ),
}


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def reason_sentence(reason: str) -> str:
    return str(REASON_SENTENCES.get(reason, reason))


def flag_sentence(flag: str) -> str:
    return str(FLAG_SENTENCES.get(flag, flag))


def condition_sentences(conditions: dict[str, Any]) -> list[str]:
    """What the person asks of you when they permit a use, in plain words."""
    sentences = []
    if conditions.get("attribution_required"):
        sentences.append(_("Credit the person."))
    if conditions.get("approval_required"):
        sentences.append(_("Get the person's approval before each use is published."))
    if conditions.get("disclosure_label_required"):
        sentences.append(_("Label each use as made with AI."))
    if conditions.get("compensation_ref"):
        sentences.append(_("Compensation agreement: %(ref)s") % {"ref": conditions["compensation_ref"]})
    if conditions.get("notes"):
        sentences.append(_("Note from the person: %(notes)s") % {"notes": conditions["notes"]})
    return sentences


def _jwks_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("jwks"))


@login_required
@require_http_methods(["GET", "POST"])
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The organizations you act for; create a studio when you have none."""
    form = StudioCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = accounts.organization_create(
                creator=request.user,
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                kind=Organization.Kind.STUDIO,
            )
        except DomainError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Your studio is ready. You are its owner."))
            return redirect("consent:studio-check", org_slug=organization.slug)
    memberships = (
        Membership.objects.filter(user=request.user).select_related("organization").order_by("organization__name")
    )
    return render(request, "consent/studio/dashboard.html", {"memberships": memberships, "form": form})


def _facts(query: dict[str, Any]) -> list[tuple[str, str]]:
    """The checked use as label/value pairs, in the reader's language."""
    facts = [
        (_("Person"), query["subject"]),
        (_("Likeness"), v.label_of(v.MEDIA, query["medium"])),
        (_("Activity"), v.label_of(v.ACTIVITIES, query["activity"])),
        (_("Purpose"), v.label_of(v.PURPOSES, query["purpose"])),
        (_("Where"), country_name(query["territory"], _language())),
        (_("When"), human_date(query["date"])),
    ]
    if query.get("production"):
        facts.append((_("Production"), query["production"]))
    return facts


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Check one use: the answer in plain words, its conditions and its signed receipt."""
    organization, role = organization_page(request, org_slug)
    form = CheckForm(request.POST or None, language=_language())
    answer = None
    wait = None
    if request.method == "POST" and form.is_valid():
        # The page shares the organization's verification budget with its API keys, so a signed-in
        # member cannot sweep subject ids through the form either.
        wait = organization_wait("verify", organization.pk, request)
    if request.method == "POST" and form.is_valid() and wait is None:
        result = verification_run(
            organization=organization,
            check=check_from(form.validated),
            user=request.user,  # type: ignore[arg-type]  # login_required: a User, not AnonymousUser
        )
        answer = {
            **result,
            "word": DECISION_WORDS[result["decision"]],
            "reason_sentences": [reason_sentence(reason) for reason in result["reasons"]],
            "condition_sentences": condition_sentences(result.get("conditions") or {}),
            "facts": _facts(form.validated),
        }
    context = organization_context(
        request, organization, role, "check", form=form, answer=answer, jwks_url=_jwks_url(request), wait=wait
    )
    response = render(request, "consent/studio/check.html", context, status=429 if wait else 200)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@login_required
def release_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization, role = organization_page(request, org_slug)
    items = Release.objects.filter(organization=organization).order_by("-created")[:200]
    rows = [{"release": release, "word": STATUS_WORDS[release.status][0]} for release in items]
    return render(
        request,
        "consent/studio/release_list.html",
        organization_context(request, organization, role, "releases", rows=rows),
    )


def _counted(validated: dict[str, Any]) -> dict[str, Any]:
    return {"territories": validated.get("territories") or [], "appearances": validated.get("appearances") or []}


@login_required
@require_http_methods(["GET", "POST"])
def release_new(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Check a release: appearances typed in the table, or uploaded as CSV, validated as by the API."""
    organization, role = organization_page(request, org_slug)
    form = ReleaseForm(request.POST or None, request.FILES or None, language=_language())
    if request.method == "POST" and form.is_valid():
        try:
            # Each check counts against the organization's verification rate, as through the API.
            wait = organization_charge(
                "verify", organization.pk, releases.release_check_count(**_counted(form.validated))
            )
            if wait is not None:
                form.add_error(
                    None, _("Too many checks this minute. Try again in %(seconds)d seconds.") % {"seconds": wait}
                )
            else:
                release = releases.release_create(
                    organization=organization,
                    user=request.user,  # type: ignore[arg-type]  # login_required: a User
                    **form.validated,
                )
                return redirect("consent:studio-release", org_slug=organization.slug, release_id=release.public_id)
        except DomainError as exc:
            form_errors(form, exc)
    return render(
        request,
        "consent/studio/release_new.html",
        organization_context(request, organization, role, "releases", form=form),
    )


def _report_rows(release: Release, language: str) -> list[dict[str, Any]]:
    """The report's appearances for people: plain labels, each person's name where the studio gave
    one (or the person made their profile public), and every condition of the consent relied on.

    Conditions are read from the consent record itself (frozen once signed), as a single check
    shows them: the stored report does not carry them.
    """
    appearances = release.report.get("appearances", [])
    consent_ids = {row["consent"] for row in appearances if row.get("consent")}
    conditions = dict(Consent.objects.filter(public_id__in=consent_ids).values_list("public_id", "conditions"))
    public_names = dict(
        SubjectProfile.objects.filter(
            subject__public_id__in={row["subject"] for row in appearances}, is_public=True
        ).values_list("subject__public_id", "display_name")
    )
    given_names = {
        appearance.get("subject"): appearance.get("name")
        for appearance in release.appearances or []
        if isinstance(appearance, dict) and appearance.get("name")
    }
    rows = []
    for row in appearances:
        territories = row.get("territories", {})
        rows.append(
            {
                **row,
                "name": row.get("name") or given_names.get(row["subject"]) or public_names.get(row["subject"]) or "",
                "medium_label": v.label_of(v.MEDIA, row["medium"]),
                "purpose_label": v.label_of(v.PURPOSES, row["purpose"]),
                "word": DECISION_WORDS.get(row["decision"], row["decision"]),
                "reason_sentences": [reason_sentence(reason) for reason in row.get("reasons", [])],
                "flag_sentences": [flag_sentence(flag) for flag in row.get("flags", [])],
                "condition_sentences": condition_sentences(
                    row.get("conditions") or conditions.get(row.get("consent")) or {}
                )
                if row.get("decision") == "permitted"
                else [],
                "not_permitted_in": [
                    country_name(code, language) for code, decision in territories.items() if decision != "permitted"
                ],
            }
        )
    return rows


def _report_context(request: HttpRequest, organization: Organization, role: str, release: Release) -> dict[str, Any]:
    language = _language()
    word, explanation = STATUS_WORDS[release.status]
    return organization_context(
        request,
        organization,
        role,
        "releases",
        release=release,
        status_word=word,
        status_explanation=explanation,
        rows=_report_rows(release, language),
        tools=release.report.get("tools", []),
        territory_names=[country_name(code, language) for code in release.territories],
        jwks_url=_jwks_url(request),
        receipt_name=f"{release.public_id}.jws",
    )


@login_required
def release_report(request: HttpRequest, org_slug: str, release_id: str) -> HttpResponse:
    """The clearance report, readable on screen and on paper; ``?download=jws`` gives the signed
    report (the receipt, a compact JWS) as a file, ``?download=html`` a standalone HTML copy."""
    organization, role = organization_page(request, org_slug)
    try:
        release = releases.release_visible(public_id=release_id, organization_ids=[organization.pk])
    except NotFound:
        raise Http404 from None
    download = request.GET.get("download")
    if download == "jws":
        response = HttpResponse(release.receipt, content_type="application/jose; charset=us-ascii")
        response["Content-Disposition"] = f'attachment; filename="{release.public_id}.jws"'
        return response
    context = _report_context(request, organization, role, release)
    if download == "html":
        response = render(request, "consent/studio/release_report_file.html", context)
        response["Content-Disposition"] = f'attachment; filename="{release.public_id}.html"'
        return response
    return render(request, "consent/studio/release_report.html", context)


@login_required
@require_POST
def release_recheck(request: HttpRequest, org_slug: str, release_id: str) -> HttpResponse:
    organization, _role = organization_page(request, org_slug)
    try:
        release = releases.release_visible(public_id=release_id, organization_ids=[organization.pk])
    except NotFound:
        raise Http404 from None
    previous = release.status
    release = releases.release_recheck(release=release)
    if release.status == previous:
        messages.success(request, _("Checked again just now: nothing changed."))
    else:
        messages.warning(request, _("Checked again just now: the status changed."))
    return redirect("consent:studio-release", org_slug=organization.slug, release_id=release.public_id)
