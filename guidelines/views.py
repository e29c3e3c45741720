"""Guideline pages: the public catalogue, a guideline, a diff, a project, and the maintainer's editor."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guidelines import selectors, services
from guidelines.content import BODY
from guidelines.forms import (
    DraftForm,
    NewGuidelineForm,
    ProjectForm,
    ProofForm,
    PublishForm,
    RetireKeyForm,
    SigningKeyForm,
    clauses_to_text,
    translated_clauses_to_text,
)
from guidelines.models import Guideline, GuidelineVersion
from guidelines.rendering import render_markdown
from guidelines.vocabulary import CLAUSE_KINDS, CONTENT_LANGUAGES, safeguard_label
from registry.accounts.models import Membership, Organization
from registry.accounts.presence import presence_from_request, presence_is_fresh
from registry.accounts.selectors import role_in
from registry.accounts.services import organization_create
from registry.authenticated import AuthenticatedHttpRequest
from registry.errors import Conflict, DomainError, NotFound, ReauthenticationRequired, ValidationFailed

ADMIN_ROLES = (Membership.Role.OWNER, Membership.Role.ADMIN)


def _role(request: HttpRequest, organization: Organization) -> str | None:
    if not request.user.is_authenticated:
        return None
    return role_in(user=request.user, organization=organization)


def _guideline_or_404(request: HttpRequest, slug: str) -> tuple[Guideline, str | None]:
    guideline = get_object_or_404(Guideline.objects.select_related("organization"), slug=slug)
    role = _role(request, guideline.organization)
    try:
        return selectors.guideline_get(slug=slug, member=role is not None), role
    except NotFound:
        raise Http404 from None


def _editor_role(request: HttpRequest, organization: Organization) -> str:
    """Owners and admins edit; other members see a 403, strangers a 404 (no existence oracle)."""
    role = _role(request, organization)
    if role is None:
        raise Http404
    if role not in ADMIN_ROLES:
        raise PermissionDenied
    return role


def _ui_language() -> str:
    return (get_language() or "en").split("-")[0]


def _clauses_for_page(clauses: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    return [
        {
            **clause,
            "kind_label": CLAUSE_KINDS[clause["kind"]].get(language, clause["kind"]),
            "evidence_labels": [safeguard_label(item, language) for item in clause.get("evidence", [])],
        }
        for clause in clauses
    ]


def catalogue(request: HttpRequest) -> HttpResponse:
    """Every guideline with a published version."""
    guidelines = []
    for guideline in selectors.guidelines_public().order_by("title"):
        guidelines.append({"guideline": guideline, "latest": selectors.version_latest_public(guideline=guideline)})
    return render(request, "guidelines/catalogue.html", {"guidelines": guidelines})


def guideline_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A guideline: version picker, content language switch, clauses, adopters, diff link."""
    guideline, role = _guideline_or_404(request, slug)
    member = role is not None
    versions = selectors.versions_visible(guideline=guideline, member=member)
    wanted = request.GET.get("version")
    version = next((v for v in versions if v.version == wanted), None) if wanted else None
    if wanted and version is None:
        raise Http404
    if version is None:
        version = selectors.version_latest_public(guideline=guideline) or (versions[0] if versions else None)
    context: dict[str, Any] = {
        "guideline": guideline,
        "versions": versions,
        "version": version,
        "can_edit": role in ADMIN_ROLES,
        "adoptions": selectors.adopters_of(guideline=guideline),
    }
    if version is not None:
        languages = [version.language, *version.translations]
        requested = request.GET.get("lang") or _ui_language()
        shown, body, clauses = selectors.version_in_language(version, requested if requested in languages else None)
        older = [v for v in versions if v.is_public and v.sort_key < version.sort_key]
        context.update(
            shown_language=shown,
            content_languages=[(code, CONTENT_LANGUAGES.get(code, code)) for code in languages],
            body_html=render_markdown(body, heading_offset=2),
            clauses=_clauses_for_page(clauses, _ui_language()),
            previous=older[0] if older else None,
            attestations=version.attestations.filter(revoked_at__isnull=True).select_related("project")[:20],
        )
    return render(request, "guidelines/guideline.html", context)


def diff_page(request: HttpRequest, slug: str) -> HttpResponse:
    """What changed between two versions, clause by clause and line by line."""
    guideline, role = _guideline_or_404(request, slug)
    versions = selectors.versions_visible(guideline=guideline, member=role is not None)
    by_number = {v.version: v for v in versions}
    old, new = by_number.get(request.GET.get("from", "")), by_number.get(request.GET.get("to", ""))
    context: dict[str, Any] = {"guideline": guideline, "versions": versions, "old": old, "new": new}
    if old is not None and new is not None:
        language = request.GET.get("lang") or _ui_language()
        diff = selectors.versions_diff(old=old, new=new, language=language)
        lines = [
            {"text": line.rstrip("\n"), "kind": {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "same")}
            for line in diff.body_diff.splitlines(keepends=True)
        ]
        context.update(diff=diff, body_lines=lines)
    return render(request, "guidelines/diff.html", context)


def project_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """A project: its guidelines, adoptions, attestations; keys and proofs for its members."""
    organization = get_object_or_404(Organization, slug=org_slug, kind=Organization.Kind.PROJECT)
    role = _role(request, organization)
    member = role is not None
    guidelines = (
        organization.guidelines.all() if member else selectors.guidelines_public().filter(organization=organization)
    )
    context: dict[str, Any] = {
        "organization": organization,
        "member": member,
        "can_edit": role in ADMIN_ROLES,
        "guidelines": guidelines.order_by("title"),
        "adoptions": organization.adoptions.select_related("version__guideline").order_by("-created"),
        "attestations": selectors.attestations_public().filter(project=organization)[:50],
    }
    if member:
        context.update(
            keys=selectors.project_keys(organization=organization),
            proofs=selectors.control_proofs(organization=organization),
        )
    return render(request, "guidelines/project.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def guideline_new(request: AuthenticatedHttpRequest, org_slug: str) -> HttpResponse:
    """Start a guideline and its first draft, in one form."""
    organization = get_object_or_404(Organization, slug=org_slug)
    role = _editor_role(request, organization)
    form = NewGuidelineForm(request.POST or None, initial={"version": "1.0.0"})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.guideline_start(
                organization=organization,
                actor_role=role,
                actor=request.user,
                slug=form.cleaned_data["slug"],
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                version=form.cleaned_data["version"],
                **form.content(),
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors, exc.detail)
        else:
            return redirect("guidelines:publish", slug=version.guideline.slug, version=version.version)
    return render(request, "guidelines/editor.html", {"form": form, "organization": organization, "new": True})


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: AuthenticatedHttpRequest, slug: str, version: str | None = None) -> HttpResponse:
    """Edit a draft, or (without ``version``) write a new draft starting from the latest version."""
    guideline, _ = _guideline_or_404(request, slug)
    role = _editor_role(request, guideline.organization)
    draft = None
    if version is not None:
        draft = get_object_or_404(GuidelineVersion, guideline=guideline, version=version)
        if draft.status != GuidelineVersion.Status.DRAFT:
            return render(request, "guidelines/frozen.html", {"guideline": guideline, "version": draft}, status=409)
    source = draft or guideline.versions.order_by("-sort_key").first()
    initial: dict[str, Any] = {}
    if source is not None:
        translation = source.translations.get("id", {})
        initial = {
            "version": source.version if draft else "",
            "body": source.body,
            "clauses": clauses_to_text(source.clauses),
            "body_id": translation.get("body", ""),
            "clauses_id": translated_clauses_to_text(translation.get("clauses", {})),
        }
    outdated = draft.translations_outdated.get("id", []) if draft is not None else []
    form = DraftForm(request.POST or None, initial=initial, outdated=outdated)
    if draft is not None:
        form.fields["version"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            if draft is not None:
                saved = services.guideline_version_update(version=draft, actor_role=role, **form.content())
            else:
                saved = services.guideline_version_create(
                    guideline=guideline,
                    actor_role=role,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    **form.content(),
                )
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors, exc.detail)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            return redirect("guidelines:publish", slug=guideline.slug, version=saved.version)
    context = {
        "form": form,
        "guideline": guideline,
        "organization": guideline.organization,
        "draft": draft,
        "outdated": _outdated_rows(draft, outdated) if draft is not None else [],
    }
    return render(request, "guidelines/editor.html", context)


def _outdated_rows(version: GuidelineVersion, keys: list[str]) -> list[dict[str, str]]:
    """For each outdated Indonesian text: what the English now says, and what the Indonesian still says."""
    translation = version.translations.get("id", {})
    english = {clause["key"]: clause["text"] for clause in version.clauses}
    rows = []
    for key in keys:
        if key == BODY:
            rows.append({"key": "", "label": _("Main text"), "english": "", "indonesian": ""})
        else:
            rows.append(
                {
                    "key": key,
                    "label": key,
                    "english": english.get(key, ""),
                    "indonesian": translation.get("clauses", {}).get(key, ""),
                }
            )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def version_publish(request: HttpRequest, slug: str, version: str) -> HttpResponse:
    """Review a draft as it will appear, then publish it with an explicit confirmation."""
    guideline, _ = _guideline_or_404(request, slug)
    role = _editor_role(request, guideline.organization)
    draft = get_object_or_404(GuidelineVersion, guideline=guideline, version=version)
    if draft.status != GuidelineVersion.Status.DRAFT:
        return redirect(f"{guideline_url(guideline)}?version={draft.version}")
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.guideline_version_publish(version=draft, actor_role=role)
        except DomainError as exc:
            form.add_error(None, exc.detail)
        else:
            return redirect(f"{guideline_url(guideline)}?version={draft.version}")
    context = {
        "form": form,
        "guideline": guideline,
        "version": draft,
        "previews": [_preview(draft, code) for code in (draft.language, *_other_languages(draft))],
        "outdated": any(draft.translations_outdated.values()),
    }
    return render(request, "guidelines/publish.html", context)


# Language names inside a sentence ("Preview in English"); called at render time, in the page's language.
LANGUAGE_NAMES = {
    "en": lambda: pgettext("language name in a sentence", "English"),
    "id": lambda: pgettext("language name in a sentence", "Bahasa Indonesia"),
}


def _other_languages(version: GuidelineVersion) -> list[str]:
    return [code for code in CONTENT_LANGUAGES if code != version.language]


def _preview(version: GuidelineVersion, language: str) -> dict[str, Any]:
    """The draft as readers of ``language`` will see it, with what is untranslated or outdated marked."""
    translation = version.translations.get(language) if language != version.language else None
    _shown, body, clauses = selectors.version_in_language(version, language)
    outdated = set(version.translations_outdated.get(language, []))
    translated = set((translation or {}).get("clauses", {}))
    rows = _clauses_for_page(clauses, _ui_language())
    for row in rows:
        row["outdated"] = row["key"] in outdated
        row["untranslated"] = language != version.language and row["key"] not in translated
    return {
        "code": language,
        "name": LANGUAGE_NAMES[language]() if language in LANGUAGE_NAMES else language,
        "original": language == version.language,
        "missing": language != version.language and translation is None,
        "body_outdated": BODY in outdated,
        "body_html": render_markdown(body, heading_offset=2),
        "clauses": rows,
    }


def guideline_url(guideline: Guideline) -> str:
    return reverse("guidelines:detail", kwargs={"slug": guideline.slug})


# --- the maintainer's start: a project organization and its signing keys ------------------------

PENDING_KEY = "guidelines.pending_signing_key"


def _reauthenticate(request: HttpRequest, back_to: str) -> HttpResponse:
    messages.info(
        request,
        _("For your safety, please confirm your password first. Then you come back here, with what you typed kept."),
    )
    return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': back_to})}")


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create a project organization; its creator becomes its first owner."""
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_create(
                creator=request.user,
                kind=Organization.Kind.PROJECT,
                **form.cleaned_data,
            )
        except Conflict:
            form.add_error("slug", _("Another organization already uses this short name. Please choose another."))
        except ValidationFailed as exc:
            form.add_error(None, exc.detail)
        else:
            messages.success(request, _("Your project is on Restu. Next, register a signing key."))
            return redirect("guidelines:project", org_slug=organization.slug)
    return render(request, "guidelines/project_new.html", {"form": form})


def _project_for_editing(request: HttpRequest, org_slug: str) -> tuple[Organization, str]:
    organization = get_object_or_404(Organization, slug=org_slug, kind=Organization.Kind.PROJECT)
    return organization, _editor_role(request, organization)


@login_required
@require_http_methods(["GET", "POST"])
def signing_keys(request: AuthenticatedHttpRequest, org_slug: str) -> HttpResponse:
    """What a signing key is, the ids a release process needs, and registering a public key."""
    organization, role = _project_for_editing(request, org_slug)
    here = reverse("guidelines:keys", kwargs={"org_slug": organization.slug})
    initial: dict[str, Any] = {}
    pending = request.session.pop(PENDING_KEY, None) if request.method == "GET" else None
    if isinstance(pending, dict) and pending.get("organization") == organization.public_id:
        initial["public_key"] = pending.get("public_key", "")
    form = SigningKeyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_key_add(
                organization=organization,
                actor_role=role,
                actor=request.user,
                public_jwk=form.cleaned_data["public_key"],
                presence=presence_from_request(request),
            )
        except ReauthenticationRequired:
            request.session[PENDING_KEY] = {
                "organization": organization.public_id,
                "public_key": form.data.get("public_key", "")[:4000],
            }
            return _reauthenticate(request, here)
        except Conflict:
            form.add_error("public_key", _("This key is already registered for the project."))
        except ValidationFailed:
            form.add_error("public_key", _("This is not an Ed25519 public key. Paste the output of the command above."))
        else:
            messages.success(request, _("Signing key registered. Its key id is in the list below."))
            return redirect(here)
    context = {
        "organization": organization,
        "form": form,
        "keys": selectors.project_keys(organization=organization),
        "present": presence_is_fresh(presence_from_request(request)),
    }
    return render(request, "guidelines/signing_keys.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def signing_key_retire(request: HttpRequest, org_slug: str, kid: str) -> HttpResponse:
    """Retire a signing key, after an explicit confirmation."""
    organization, role = _project_for_editing(request, org_slug)
    try:
        key = selectors.project_key_get(organization=organization, kid=kid)
    except NotFound:
        raise Http404 from None
    keys_page = reverse("guidelines:keys", kwargs={"org_slug": organization.slug})
    if not key.is_active:
        return redirect(keys_page)
    form = RetireKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_key_retire(key=key, actor_role=role, presence=presence_from_request(request))
        except ReauthenticationRequired:
            return _reauthenticate(request, request.path)
        messages.success(request, _("The key is retired. It signs nothing new."))
        return redirect(keys_page)
    return render(
        request, "guidelines/signing_key_retire.html", {"organization": organization, "key": key, "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def control_proofs(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Prove the domain or repository is the project's: get a token, publish it, and let Restu check it."""
    organization, role = _project_for_editing(request, org_slug)
    here = reverse("guidelines:proofs", kwargs={"org_slug": organization.slug})
    form = ProofForm(request.POST if request.POST.get("action") == "create" else None)
    if request.method == "POST" and request.POST.get("action") == "check":
        try:
            proof = selectors.control_proof_get(organization=organization, public_id=request.POST.get("proof", ""))
        except NotFound:
            raise Http404 from None
        checked = services.control_proof_check(proof=proof, actor_role=role)
        if checked.status == checked.Status.VERIFIED:
            messages.success(request, _("Verified: Restu found the token."))
        else:
            messages.error(request, _("Not verified yet: %(reason)s.") % {"reason": checked.last_error})
        return redirect(here)
    if request.method == "POST" and form.is_valid():
        try:
            services.control_proof_create(organization=organization, actor_role=role, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors, exc.detail)
        else:
            messages.success(request, _("Here is your token. Publish it, then press Check now."))
            return redirect(here)
    context = {
        "organization": organization,
        "form": form,
        "proofs": selectors.control_proofs(organization=organization),
    }
    return render(request, "guidelines/proofs.html", context)
