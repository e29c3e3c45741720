"""Verification, bulk verification and consent tokens over HTTP."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import pycountry
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consent import vocabulary as v
from consent.api.serializers import c2pa_assertions_field, log_proof_field
from consent.models import Subject
from consent.rules.decision import ASSURANCE_ORDER
from consent.services import representative_of
from consent.verification import (
    Check,
    check_from,
    collector_paused,
    consent_token_issue,
    verification_run,
    verification_run_bulk,
)
from registry.accounts.models import Organization
from registry.api.caller import api_key_of, authenticated_user
from registry.api.schema import problems
from registry.api.serializers import StrictSerializer
from registry.api.throttling import _RateFromSettings, throttles_check
from registry.errors import ValidationFailed

MAX_BULK = 1000
logger = logging.getLogger(__name__)


def _territory(value: str) -> str:
    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise serializers.ValidationError("Not an ISO 3166-1 alpha-2 country code.")
    return code


class CheckIn(StrictSerializer):
    subject = serializers.CharField(max_length=40)
    medium = serializers.ChoiceField(choices=v.MEDIA_KEYS)
    activity = serializers.ChoiceField(choices=v.ACTIVITY_KEYS, required=False, default="generate")
    purpose = serializers.ChoiceField(choices=v.PURPOSE_KEYS)
    territory = serializers.CharField(max_length=2, min_length=2)
    date = serializers.DateField()
    production = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True, default=None)
    min_assurance = serializers.ChoiceField(choices=ASSURANCE_ORDER, required=False, allow_null=True, default=None)

    def validate_territory(self, value: str) -> str:
        return _territory(value)


# --- The hot path's input check -------------------------------------------------------------------
# DRF's serializer costs ~0.2 ms per query (and 1,000 of them per bulk request); this plain check
# accepts only input the serializer would accept unchanged and returns exactly what it would.
# Anything else (a wrong type, stray whitespace, an invalid value) goes through ``CheckIn``, so the
# errors are the serializer's own.
_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
_MEDIA, _ACTIVITIES, _PURPOSES = frozenset(v.MEDIA_KEYS), frozenset(v.ACTIVITY_KEYS), frozenset(v.PURPOSE_KEYS)
_ASSURANCES = frozenset(ASSURANCE_ORDER)
_CHECK_FIELDS = frozenset(
    ("subject", "medium", "activity", "purpose", "territory", "date", "production", "min_assurance")
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _plain_text(value: Any, max_length: int) -> bool:
    # What DRF's CharField keeps unchanged: a printable str without surrounding whitespace.
    return type(value) is str and len(value) <= max_length and value.isprintable() and value == value.strip()


def _one_of(value: Any, choices: frozenset[str]) -> bool:
    return type(value) is str and value in choices


def _quick_check(data: Any) -> dict[str, Any] | None:
    """``CheckIn``'s validated data for well-formed input, or None to let the serializer decide."""
    if type(data) is not dict or not _CHECK_FIELDS.issuperset(data):
        return None
    subject, territory, day = data.get("subject"), data.get("territory"), data.get("date")
    activity = data.get("activity", "generate")
    production, wanted = data.get("production"), data.get("min_assurance")
    if not (
        _plain_text(subject, 40)
        and subject
        and _one_of(data.get("medium"), _MEDIA)
        and _one_of(activity, _ACTIVITIES)
        and _one_of(data.get("purpose"), _PURPOSES)
        and type(territory) is str
        and territory.upper() in _COUNTRIES
        and type(day) is str
        and _ISO_DATE.fullmatch(day)
        and (production is None or _plain_text(production, 200))
        and (wanted is None or _one_of(wanted, _ASSURANCES))
    ):
        return None
    try:
        on = date.fromisoformat(day)
    except ValueError:
        return None
    return {
        "subject": subject,
        "medium": data["medium"],
        "activity": activity,
        "purpose": data["purpose"],
        "territory": territory.upper(),
        "date": on,
        "production": production,
        "min_assurance": wanted,
    }


def check_input(data: Any) -> Check:
    """One verification query, validated (400 with the serializer's errors when bad)."""
    fields = _quick_check(data)
    if fields is None:
        serializer = CheckIn(data=data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
    return check_from(fields)


def bulk_input(data: Any) -> list[Check]:
    """Up to ``MAX_BULK`` queries, validated as ``BulkIn`` would."""
    queries = data.get("queries") if type(data) is dict and len(data) == 1 else None
    if type(queries) is list and 0 < len(queries) <= MAX_BULK:
        checked = [_quick_check(item) for item in queries]
        if all(fields is not None for fields in checked):
            return [check_from(fields) for fields in checked]  # type: ignore[arg-type]  # none is None: checked just above
    serializer = BulkIn(data=data)
    serializer.is_valid(raise_exception=True)
    return [check_from(item) for item in serializer.validated_data["queries"]]


class BulkIn(StrictSerializer):
    queries = CheckIn(many=True, allow_empty=False, max_length=MAX_BULK)  # type: ignore[call-arg]  # DRF's many=True takes max_length; its stubs do not list it


class TokenIn(CheckIn):
    grantee = serializers.CharField(max_length=40, required=False)


def quick_token_input(data: Any) -> tuple[dict[str, Any], str | None] | None:
    """``token_input`` for a well-formed query (its named grantee plain text, or absent); None otherwise."""
    if type(data) is not dict:
        return None
    grantee = data.get("grantee")
    if "grantee" in data and not (grantee and _plain_text(grantee, 40)):
        return None
    fields = _quick_check({name: value for name, value in data.items() if name != "grantee"})
    return None if fields is None else (fields, grantee)


def token_input(data: Any) -> tuple[dict[str, Any], str | None]:
    """A consent token's query and its named grantee (None when not named), validated as ``TokenIn``
    would: through ``quick_token_input`` when well-formed, else through the serializer (400 when bad)."""
    quick = quick_token_input(data)
    if quick is not None:
        return quick
    serializer = TokenIn(data=data)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    return fields, fields.pop("grantee", None)


_ANSWER: dict[str, serializers.Field[Any, Any, Any, Any]] = {
    "decision": serializers.ChoiceField(choices=["permitted", "denied", "unknown"]),
    "reasons": serializers.ListField(child=serializers.CharField()),
    # The subject's level at this moment (inside the signed receipt); null when ``unknown``.
    "assurance": serializers.ChoiceField(choices=ASSURANCE_ORDER, allow_null=True),
    "consent": serializers.CharField(allow_null=True),
    "consent_digest": serializers.CharField(allow_null=True),
    "conditions": serializers.DictField(),
    "log_proof": log_proof_field(),
}


class VerifyThrottle(_RateFromSettings):
    """Per organization, so nobody can sweep subject ids (rates ``THROTTLE_VERIFY[_BULK]``)."""

    scope = "verify"

    def planned_hit(self, request: Request, view: Any) -> tuple[str, int, int] | None:
        self.scope = getattr(view, "throttle_scope", "verify")
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().planned_hit(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = api_key_of(request)
        ident = key.organization_id if key else (request.user.pk if request.user.is_authenticated else None)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class _Throttled(APIView):
    """The default throttles plus the per-organization verification throttle."""

    throttle_scope = "verify"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), VerifyThrottle()]

    def check_throttles(self, request: Request) -> None:
        throttles_check(self, request)  # the key's and the organization's counters in one round trip


def _calling_organization(request: Request) -> Organization:
    key = api_key_of(request)
    if key is None:
        raise PermissionDenied("Verifications are made by organizations: use an API key of your studio or project.")
    return key.organization


class VerificationView(_Throttled):
    """Check one use of a person's likeness; the answer comes with a signed receipt."""

    @extend_schema(
        request=CheckIn,
        responses={
            200: inline_serializer(
                "Verification",
                {
                    **_ANSWER,
                    "receipt": serializers.CharField(),
                    "c2pa_assertions": c2pa_assertions_field("a permitted answer, under its receipt"),
                },
            ),
            **problems(403),  # a person's session or token instead of an organization's API key
        },
    )
    def post(self, request: Request) -> Response:
        organization = _calling_organization(request)
        body = verification_run(
            organization=organization,
            check=check_input(request.data),
            user=authenticated_user(request),
            api_key=api_key_of(request),
        )
        return Response(body)


class BulkVerificationView(_Throttled):
    """Check up to 1,000 uses at once, answered in order, under one receipt for the batch."""

    throttle_scope = "verify_bulk"

    @extend_schema(
        request=BulkIn,
        responses={
            200: inline_serializer(
                "BulkVerification",
                {
                    "results": inline_serializer(
                        "BulkAnswer",
                        {
                            **_ANSWER,
                            "query": serializers.DictField(),
                            "c2pa_assertions": c2pa_assertions_field(
                                "a permitted answer, under the batch receipt; outside the batch digest"
                            ),
                        },
                        many=True,
                    ),
                    "receipt": serializers.CharField(),
                },
            ),
            **problems(403),  # a person's session or token instead of an organization's API key
        },
    )
    def post(self, request: Request) -> HttpResponse:
        organization = _calling_organization(request)
        with collector_paused():
            queries = request.data.get("queries") if isinstance(request.data, dict) else None
            if isinstance(queries, list) and len(queries) > MAX_BULK:
                raise ValidationFailed(
                    f"At most {MAX_BULK} queries per request.", errors={"queries": [f"At most {MAX_BULK} queries."]}
                )
            checks: list[Check] = bulk_input(request.data)
            document = verification_run_bulk(
                organization=organization, checks=checks, user=authenticated_user(request), api_key=api_key_of(request)
            )
        # Rendered by the service: the digest in the receipt and the response share their pieces.
        return HttpResponse(document, content_type="application/json")


class ConsentTokenView(_Throttled):
    """A short-lived token (10 minutes) that a tool checks offline before processing a likeness."""

    @extend_schema(
        request=TokenIn,
        responses={
            201: inline_serializer(
                "ConsentToken",
                {
                    "token": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(),
                    "consent": serializers.CharField(),
                    "log_proof": log_proof_field(),
                },
            ),
            # The use is not permitted, or the caller is neither a permitted grantee's API key nor
            # one of the person's representatives.
            **problems(403),
        },
    )
    def post(self, request: Request) -> Response:
        fields, grantee = token_input(request.data)
        key = api_key_of(request)
        organization = key.organization if key else None
        if organization is not None:
            if grantee and grantee != organization.public_id:
                raise ValidationFailed(
                    "A grantee asks for tokens for itself only.", errors={"grantee": ["Must be your own organization."]}
                )
            audience = organization.public_id
        else:
            subject = Subject.objects.filter(public_id=fields["subject"]).first()
            if subject is None or representative_of(user=authenticated_user(request), subject=subject) is None:
                raise PermissionDenied(
                    "Only the person's representatives, or a permitted grantee's API key, can ask for a consent token."
                )
            if not grantee:
                raise ValidationFailed(
                    "Name the organization that will use the token.", errors={"grantee": ["This field is required."]}
                )
            audience = grantee
        body = consent_token_issue(
            check=check_from(fields),
            audience=audience,
            organization=organization,
            user=authenticated_user(request),
            api_key=key,
        )
        return Response(body, status=201)
