"""Releases over HTTP: check a whole release, read its clearance report, re-check it."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from consent import releases
from consent import vocabulary as v
from consent.api.verification_views import _territory
from consent.models import Release
from registry.accounts.models import Membership, Organization
from registry.api.caller import api_key_of, caller_role
from registry.api.idempotency import IdempotentPostMixin
from registry.api.serializers import StrictSerializer

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class AppearanceIn(StrictSerializer):
    subject = serializers.CharField(max_length=40)
    media = serializers.ListField(
        child=serializers.ChoiceField(choices=(*v.MEDIA_KEYS, v.LIKENESS)), min_length=1, max_length=4
    )
    purpose = serializers.ChoiceField(choices=v.PURPOSE_KEYS)
    activity = serializers.ChoiceField(choices=v.ACTIVITY_KEYS, required=False, default="generate")

    def validate_media(self, value: list[str]) -> list[str]:
        media = list(v.MEDIA_KEYS) if v.LIKENESS in value else value
        if len(set(media)) != len(media):
            raise serializers.ValidationError("A medium is named twice.")
        return list(media)


class ToolIn(StrictSerializer):
    project = serializers.CharField(max_length=40)
    version = serializers.CharField(max_length=60)
    digest = serializers.CharField(max_length=80)

    def validate_digest(self, value: str) -> str:
        if not _DIGEST.match(value):
            raise serializers.ValidationError("Must be sha256: followed by 64 lower-case hex digits.")
        return value


class ReleaseIn(StrictSerializer):
    title = serializers.CharField(max_length=300)
    release_date = serializers.DateField()
    territories = serializers.ListField(child=serializers.CharField(max_length=2), min_length=1, max_length=250)
    appearances = AppearanceIn(many=True, allow_empty=False, max_length=500)
    tools = ToolIn(many=True, required=False, default=list, max_length=100)
    organization = serializers.CharField(max_length=40, required=False)

    def validate_territories(self, value: list[str]) -> list[str]:
        codes = [_territory(code) for code in value]
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError("A territory is named twice.")
        return codes

    def validate_appearances(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = set()
        for appearance in value:
            for medium in appearance["media"]:
                key = (appearance["subject"], medium, appearance["purpose"], appearance.get("activity"))
                if key in seen:
                    raise serializers.ValidationError(f"Duplicate appearance: {appearance['subject']} ({medium}).")
                seen.add(key)
        return value


class ReleaseOut(serializers.Serializer):  # type: ignore[type-arg]
    """The clearance report (documentation of the response shape)."""

    id = serializers.CharField()
    title = serializers.CharField()
    release_date = serializers.DateField()
    territories = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=Release.Status.choices)
    appearances = serializers.ListField(child=serializers.DictField())
    tools = serializers.ListField(child=serializers.DictField())
    evaluated_at = serializers.DateTimeField()
    receipt = serializers.CharField()


def _studio_orgs(request: Request) -> list[int]:
    key = api_key_of(request)
    if key is not None:
        return [key.organization_id]
    return list(Membership.objects.filter(user=request.user).values_list("organization_id", flat=True))


def _acting_organization(request: Request, org_id: str | None) -> Organization:
    key = api_key_of(request)
    if key is not None:
        if org_id and org_id != key.organization.public_id:
            raise PermissionDenied("An API key acts for its own organization only.")
        return key.organization
    organization = Organization.objects.filter(public_id=org_id).first() if org_id else None
    if organization is None or caller_role(request, organization) is None:
        raise PermissionDenied("Name an organization you belong to (field 'organization').")
    return organization


def _body(release: Release) -> dict[str, Any]:
    return {
        "id": release.public_id,
        "title": release.title,
        "release_date": release.release_date.isoformat(),
        "territories": release.territories,
        "status": release.status,
        "appearances": release.report.get("appearances", []),
        "tools": release.report.get("tools", []),
        "evaluated_at": release.evaluated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "receipt": release.receipt,
    }


class ReleaseListCreate(IdempotentPostMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Your organizations' releases; check a new one (201 with its clearance report)."""

    queryset = Release.objects.none()
    serializer_class = ReleaseOut

    def get_queryset(self) -> QuerySet[Release]:
        return Release.objects.filter(organization_id__in=_studio_orgs(self.request)).order_by("-created")

    @extend_schema(operation_id="releases_list", responses=ReleaseOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([_body(release) for release in page])

    @extend_schema(request=ReleaseIn, responses={201: ReleaseOut})
    def post(self, request: Request) -> Response:
        data = ReleaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        organization = _acting_organization(request, fields.pop("organization", None))
        release = releases.release_create(
            organization=organization, user=request.user, api_key=api_key_of(request), **fields
        )
        return Response(_body(release), status=status.HTTP_201_CREATED)


class ReleaseDetail(generics.GenericAPIView):  # type: ignore[type-arg]
    """One release's latest clearance report."""

    queryset = Release.objects.none()
    serializer_class = ReleaseOut

    def get(self, request: Request, release_id: str) -> Response:
        return Response(_body(releases.release_visible(public_id=release_id, organization_ids=_studio_orgs(request))))


class ReleaseRecheck(generics.GenericAPIView):  # type: ignore[type-arg]
    """Check the release again now."""

    queryset = Release.objects.none()
    serializer_class = ReleaseOut

    @extend_schema(request=None, responses={200: ReleaseOut})
    def post(self, request: Request, release_id: str) -> Response:
        release = releases.release_visible(public_id=release_id, organization_ids=_studio_orgs(request))
        return Response(_body(releases.release_recheck(release=release)))
