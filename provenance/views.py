"""The "Check a file" page: the same check as ``POST /api/v1/provenance/checks``, in plain words."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from provenance import selectors, uploads
from provenance.api.views import ProvenanceCheckThrottle, run_check
from provenance.forms import CheckFileForm
from registry.errors import NotFound

VERDICT_WORDS = {
    "consented": (
        _("Consent checks out"),
        _("This file carries a consent recorded in Restu, and it checks out."),
    ),
    "consent_revoked": (
        _("Consent was revoked"),
        _("This file carries a consent recorded in Restu, but the person has revoked it since."),
    ),
    "consent_invalid": (
        _("Consent does not check out"),
        _(
            "This file claims a consent that does not check out: the file was changed after it was "
            "signed, the signed receipt is not genuine, or the file allows more than the person agreed to."
        ),
    ),
    "no_consent_claim": (
        _("No consent claimed"),
        _("This file has Content Credentials, but they claim no consent recorded in Restu."),
    ),
    "no_manifest": (
        _("No Content Credentials"),
        _("This file has no Content Credentials, so it says nothing about anyone's consent."),
    ),
    "unreadable": (
        _("File could not be read"),
        _("We could not read this file. It may be damaged, cut short, or not a photo, video or sound file."),
    ),
}

STATUS_WORDS = {
    "active": _("in force"),
    "revoked": _("revoked"),
    "expired": _("expired"),
    "draft": _("not signed"),
}


def _present(result: dict[str, Any]) -> dict[str, Any]:
    title, sentence = VERDICT_WORDS[result["verdict"]]
    claims = [{**claim, "status_word": STATUS_WORDS.get(claim["status_now"] or "", "")} for claim in result["consents"]]
    return {**result, "title": title, "sentence": sentence, "claims": claims}


def _throttled(request: HttpRequest) -> int | None:
    throttle = ProvenanceCheckThrottle()
    if throttle.allow_request(request, SimpleNamespace(throttle_scope="provenance_check")):  # type: ignore[arg-type]  # outside DRF: the throttle reads only the address and throttle_scope
        return None
    return int(throttle.wait() or 1)


def check_file(request: HttpRequest) -> HttpResponse:
    """Check one file; the same answer as the API, in plain words.

    The page keeps Django's upload handlers (the CSRF check reads the form before any view runs):
    the body is already bounded by the page body limit, and Django deletes its own temporary file
    when the request ends. The file is copied, hashed, into our upload folder for c2pa-rs and
    deleted in ``finally``.
    """
    context: dict[str, Any] = {"form": CheckFileForm(), "limit": settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES}
    if request.method != "POST":
        queued = request.GET.get("check")
        return _check_status(request, queued) if queued else render(request, "provenance/check.html", context)
    wait = _throttled(request)
    if wait is not None:
        return render(request, "provenance/check.html", {**context, "wait": wait}, status=429)
    form = CheckFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "provenance/check.html", {**context, "form": form}, status=400)
    upload = uploads.CheckUploadHandler(limit=settings.REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES)
    try:
        received = upload.take(form.cleaned_data["file"])
        if received is None:
            return render(request, "provenance/check.html", {**context, "too_large": True}, status=413)
        code, body = run_check(upload, received)
    finally:
        upload.cleanup()
    if code == 202:
        return redirect(f"{reverse('provenance:check-file')}?{urlencode({'check': body['id']})}")
    return render(request, "provenance/check.html", {**context, "result": _present(body)})


def _check_status(request: HttpRequest, check_id: str) -> HttpResponse:
    """A large file's check: refreshes itself (no script) until the worker has answered."""
    try:
        found = selectors.check_status(check_id=check_id)
    except NotFound:
        raise Http404 from None
    result = _present(found["result"]) if found.get("result") else None
    return render(request, "provenance/check_status.html", {"check": found, "result": result})
