"""Consents over HTTP: create, read, sign, revoke, history and acknowledgements."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from consent import selectors, services
from consent.api import serializers as s
from consent.api.views._shared import (
    _consent_etag,
    _parse,
    _people_only,
)
from consent.models import Consent, ConsentEvent
from registry.accounts.presence import presence_from_request
from registry.api.caller import api_key_of
from registry.api.etags import check_if_match
from registry.api.idempotency import IdempotentPostMixin
from registry.api.pagination import whole_list, whole_list_response
from registry.api.schema import IF_MATCH, problems
from registry.errors import NotFound, ValidationFailed
from registry.events.services import acknowledgements_for
from registry.lib.timestamps import rfc3339


# On ``get``: drf-spectacular reads a plain view's handler methods, not ``list``.
@extend_schema_view(
    get=extend_schema(
        parameters=[OpenApiParameter("subject", str), OpenApiParameter("status", str, enum=Consent.Status.values)],
        responses={200: s.ConsentOut(many=True), **problems(400)},  # 400: an unknown status
    )
)
class ConsentListCreate(IdempotentPostMixin, generics.ListAPIView[Consent]):
    """Consents the caller may see (``?subject=``, ``?status=``); write a draft."""

    serializer_class = s.ConsentOut

    def get_queryset(self) -> QuerySet[Consent]:
        if getattr(self, "swagger_fake_view", False):
            return Consent.objects.none()
        rows = selectors.consents_visible(user=self.request.user, api_key=api_key_of(self.request))
        subject = self.request.query_params.get("subject")
        if subject:
            rows = rows.filter(subject__public_id=subject)
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in Consent.Status.values:
                raise ValidationFailed(
                    gettext("Unknown status."),
                    errors={"status": [gettext("One of %(statuses)s.") % {"statuses": ", ".join(Consent.Status)}]},
                )
            rows = rows.filter(status=wanted)
        return rows

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([s.consent_out(c) for c in page or []])

    @extend_schema(request=s.ConsentIn, responses={201: s.ConsentOut})
    def post(self, request: Request) -> Response:
        actor = _people_only(request, "write a consent")
        data = _parse(s.ConsentIn, request)
        try:
            subject, _ = selectors.subject_for_representative(user=actor, public_id=data.pop("subject"))
        except NotFound:
            raise ValidationFailed(
                gettext("You do not represent that subject."), errors={"subject": [gettext("Unknown subject.")]}
            ) from None
        consent = services.consent_create(subject=subject, actor=actor, terms=data)
        response = Response(s.consent_out(consent), status=status.HTTP_201_CREATED)
        response["ETag"] = _consent_etag(consent)
        return response


class ConsentDetail(generics.GenericAPIView[Any]):
    """One consent (representatives, and the named grantee's members and keys); edit a draft."""

    serializer_class = s.ConsentOut

    def get(self, request: Request, consent_id: str) -> Response:
        consent = selectors.consent_visible(user=request.user, api_key=api_key_of(request), public_id=consent_id)
        response = Response(s.consent_out(consent))
        response["ETag"] = _consent_etag(consent)
        return response

    @extend_schema(request=s.ConsentPatchIn, parameters=[IF_MATCH], responses={200: s.ConsentOut, **problems(409)})
    def patch(self, request: Request, consent_id: str) -> Response:
        actor = _people_only(request, "edit a consent")
        consent, _ = selectors.consent_for_representative(user=actor, public_id=consent_id)
        check_if_match(request, _consent_etag(consent))
        changes = _parse(s.ConsentPatchIn, request)
        consent = services.consent_update(consent=consent, actor=actor, changes=changes)
        response = Response(s.consent_out(consent))
        response["ETag"] = _consent_etag(consent)
        return response


class ConsentSign(generics.GenericAPIView[Any]):
    """Sign a draft with a subject key, or witnessed after a fresh re-authentication."""

    serializer_class = s.ConsentOut

    @extend_schema(request=s.SignIn, responses={200: s.ConsentOut, **problems(409)})
    def post(self, request: Request, consent_id: str) -> Response:
        actor = _people_only(request, "sign a consent")
        consent, _ = selectors.consent_for_representative(user=actor, public_id=consent_id)
        data = _parse(s.SignIn, request)
        consent = services.consent_sign(
            consent=consent,
            actor=actor,
            method=data["method"],
            signature=data.get("signature"),
            witness=presence_from_request(request),
            language=data.get("language") or (getattr(request, "LANGUAGE_CODE", "en") or "en"),
            notice_digest=data.get("notice_digest"),
        )
        return Response(s.consent_out(consent))


class ConsentRevoke(generics.GenericAPIView[Any]):
    """Revoke an active consent (now, or after its notice period)."""

    serializer_class = s.ConsentOut

    @extend_schema(request=s.RevokeIn, responses={200: s.ConsentOut, **problems(409)})
    def post(self, request: Request, consent_id: str) -> Response:
        actor = _people_only(request, "revoke a consent")
        consent, _ = selectors.consent_for_representative(user=actor, public_id=consent_id)
        data = _parse(s.RevokeIn, request)
        consent = services.consent_revoke(
            consent=consent,
            actor=actor,
            reason=data["reason"],
            method=data["method"],
            signature=data.get("signature"),
            witness=presence_from_request(request),
        )
        return Response(s.consent_out(consent))


class ConsentHistory(generics.GenericAPIView[ConsentEvent]):
    """Every step of a consent: created, edited, signed, revoked, expired (with log indexes)."""

    serializer_class = s.EventOut
    queryset = ConsentEvent.objects.none()
    pagination_class = None  # a consent has a handful of events: answered whole

    @extend_schema(operation_id="consents_history_list", responses={200: whole_list("ConsentHistory", s.EventOut)})
    def get(self, request: Request, consent_id: str) -> Response:
        consent = selectors.consent_visible(user=request.user, api_key=api_key_of(request), public_id=consent_id)
        events = [s.event_out(e) for e in selectors.consent_history(consent=consent)]
        return whole_list_response(events)


class ConsentAcknowledgements(generics.GenericAPIView[ConsentEvent]):
    """Which organizations acknowledged this consent's revocation or expiry, and when."""

    serializer_class = s.AcknowledgementOut
    queryset = ConsentEvent.objects.none()
    pagination_class = None

    @extend_schema(
        responses={200: whole_list("AcknowledgementList", s.AcknowledgementOut), **problems(403)}  # an API key
    )
    def get(self, request: Request, consent_id: str) -> Response:
        actor = _people_only(request, "read who acknowledged a consent's end")
        consent, _ = selectors.consent_for_representative(user=actor, public_id=consent_id)
        acknowledgements = acknowledgements_for(key="consent", value=consent.public_id)
        return whole_list_response(
            [
                {
                    "event": a.event.public_id,
                    "event_type": a.event.type,
                    "organization": a.organization.public_id,
                    "organization_name": a.organization.name,
                    "note": a.note,
                    "created": rfc3339(a.created),
                }
                for a in acknowledgements
            ]
        )
