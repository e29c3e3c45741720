"""Releases over HTTP: check a whole release, read its clearance report, re-check it."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from consent import vocabulary as v
from consent.api.serializers import ReleaseAppearanceOut
from consent.api.views.verification import _territory
from consent.models import Release
from consent.services import releases
from registry.accounts.models import Membership, Organization
from registry.api.caller import acting_organization, api_key_of, authenticated_user
from registry.api.idempotency import IdempotentPostMixin
from registry.api.schema import problems
from registry.api.serializers import StrictSerializer
from registry.api.throttling import organization_charge
from registry.lib.timestamps import rfc3339

logger = logging.getLogger(__name__)

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
    appearances = AppearanceIn(many=True, allow_empty=False, max_length=500)  # type: ignore[call-arg]  # DRF's many=True takes max_length; its stubs do not list it
    tools = ToolIn(many=True, required=False, default=list, max_length=100)  # type: ignore[call-arg]  # DRF's many=True takes max_length; its stubs do not list it
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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        count = releases.release_check_count(territories=attrs["territories"], appearances=attrs["appearances"])
        if count > releases.MAX_CHECKS:
            raise serializers.ValidationError(
                {
                    "appearances": [
                        f"At most {releases.MAX_CHECKS:,} checks (appearances x media x territories); "
                        f"this release has {count:,}."
                    ]
                }
            )
        return attrs


class ReleaseOut(serializers.Serializer[Any]):
    """The clearance report (documentation of the response shape)."""

    id = serializers.CharField()
    title = serializers.CharField()
    release_date = serializers.DateField()
    territories = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=Release.Status.choices)
    appearances = ReleaseAppearanceOut(many=True)
    tools = serializers.ListField(child=serializers.DictField())
    evaluated_at = serializers.DateTimeField()
    receipt = serializers.CharField()


def _studio_orgs(request: Request) -> list[int]:
    key = api_key_of(request)
    if key is not None:
        return [key.organization_id]
    return list(Membership.objects.filter(user=authenticated_user(request)).values_list("organization_id", flat=True))


def release_checks_wait(*, organization: Organization, checks: int) -> int | None:
    """Count a release's checks against the organization's verification rate (docs/api.md "Releases"):
    None when allowed, else the seconds to wait (the studio pages can answer with it as the API does).

    The same counter as its API keys' verifications and the studio's check page (scope
    ``verify``, per organization). A release is refused when the window's budget is already
    spent; otherwise every check is charged, even past the budget, so the checks that follow wait
    for the next window. Refusing any release larger than what is left would make one of 10,000
    checks impossible under the default rate (6,000 a minute) while letting its checks through one
    by one. Rechecks the registry runs itself (a consent changed) are not charged.
    """
    return organization_charge("verify", organization.pk, checks)


def _charge(organization: Organization, territories: list[str], appearances: list[dict[str, Any]]) -> None:
    checks = releases.release_check_count(territories=territories, appearances=appearances)
    wait = release_checks_wait(organization=organization, checks=checks)
    if wait is not None:
        raise Throttled(wait=wait)


def _body(release: Release) -> dict[str, Any]:
    return {
        "id": release.public_id,
        "title": release.title,
        "release_date": release.release_date.isoformat(),
        "territories": release.territories,
        "status": release.status,
        "appearances": releases.release_appearances(release),
        "tools": release.report.get("tools", []),
        "evaluated_at": rfc3339(release.evaluated_at),
        "receipt": release.receipt,
    }


class ReleaseListCreate(IdempotentPostMixin, generics.GenericAPIView[Release]):
    """Your organizations' releases; check a new one (201 with its clearance report)."""

    queryset = Release.objects.none()
    serializer_class = ReleaseOut

    def get_queryset(self) -> QuerySet[Release]:
        return Release.objects.filter(organization_id__in=_studio_orgs(self.request)).order_by("-created")

    @extend_schema(operation_id="releases_list", responses=ReleaseOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([_body(release) for release in page or []])

    @extend_schema(request=ReleaseIn, responses={201: ReleaseOut, **problems(400, 403, 429)})
    def post(self, request: Request) -> Response:
        # Who acts is decided before the body is read for anything else.
        named = request.data.get("organization") if isinstance(request.data, dict) else None
        organization, _role = acting_organization(request, None if named is None else str(named))
        data = ReleaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("organization", None)
        _charge(organization, fields["territories"], fields["appearances"])
        release = releases.release_create(
            organization=organization, user=authenticated_user(request), api_key=api_key_of(request), **fields
        )
        return Response(_body(release), status=status.HTTP_201_CREATED)


class ReleaseDetail(generics.GenericAPIView[Release]):
    """One release's latest clearance report."""

    queryset = Release.objects.none()
    serializer_class = ReleaseOut

    def get(self, request: Request, release_id: str) -> Response:
        return Response(_body(releases.release_visible(public_id=release_id, organization_ids=_studio_orgs(request))))


class ReleaseRecheck(generics.GenericAPIView[Release]):
    """Check the release again now."""

    queryset = Release.objects.none()
    serializer_class = ReleaseOut

    @extend_schema(request=None, responses={200: ReleaseOut, **problems(404, 429)})
    def post(self, request: Request, release_id: str) -> Response:
        release = releases.release_visible(public_id=release_id, organization_ids=_studio_orgs(request))
        _charge(release.organization, release.territories, release.appearances)
        return Response(_body(releases.release_recheck(release=release)))
