"""What the subject and consent views share: who the caller is, which subject they may reach, ETags."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from rest_framework.request import Request

from consent import services
from consent.models import Consent, Subject
from registry.accounts.models import Membership, User
from registry.api.caller import api_key_of, require_person
from registry.api.etags import etag_for
from registry.errors import NotFound


def _people_only(request: Request, action: str = "act for a person") -> User:
    """API keys do machine work only (docs/api.md v1.1): 403 before anything is looked up."""
    return require_person(request, action=action)


def _subject_reachable(request: Request, subject_id: str, *, vouching: bool = False) -> Subject:
    """The subject if the caller may know it exists: its profile is public, the caller represents it,
    or (``vouching``) the caller acts for a verified guild or agency. 404 otherwise, the same as for a
    subject that does not exist — decided before the body is read, so the body's errors cannot tell."""
    subject = (
        Subject.objects.select_related("profile").filter(public_id=subject_id).first()
        if isinstance(subject_id, str)
        else None
    )
    if subject is not None:
        profile = getattr(subject, "profile", None)
        if profile is not None and profile.is_public:
            return subject
        key = api_key_of(request)
        user = request.user if request.user and request.user.is_authenticated else None
        if key is None and user is not None and services.representative_of(user=user, subject=subject):
            return subject
        if vouching and _acts_for_a_voucher(request):
            return subject
    raise NotFound(gettext("No such subject."))


def _acts_for_a_voucher(request: Request) -> bool:
    key = api_key_of(request)
    if key is not None:
        return bool(key.organization.may_vouch)
    if not request.user or not request.user.is_authenticated:
        return False
    memberships = Membership.objects.select_related("organization").filter(user=request.user)
    return any(m.organization.may_vouch for m in memberships)


def _parse(serializer_class: type, request: Request, **kwargs: Any) -> dict[str, Any]:
    data = serializer_class(data=request.data, **kwargs)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _subject_etag(subject: Subject) -> str:
    return etag_for(subject.public_id, subject.updated.isoformat())


def _consent_etag(consent: Consent) -> str:
    return etag_for(consent.public_id, consent.updated.isoformat(), consent.status)
