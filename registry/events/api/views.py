"""Webhook endpoints over HTTP: create (secret shown once), change, rotate, delivery log, redeliver."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from registry.accounts.models import Membership, Organization
from registry.api.caller import acting_organization, api_key_of, authenticated_user, caller_role
from registry.api.etags import check_if_match, etag_for
from registry.api.idempotency import IdempotentPostMixin
from registry.api.schema import IF_MATCH
from registry.api.serializers import StrictSerializer
from registry.errors import NotFound
from registry.events import services
from registry.events.api import serializers as s
from registry.events.models import Delivery, DeliveryAttempt, WebhookEndpoint
from registry.lib.timestamps import rfc3339

_ADMIN = (Membership.Role.ADMIN, Membership.Role.OWNER)


def _admin_organizations(request: Request) -> QuerySet[Organization]:
    key = api_key_of(request)
    if key is not None:
        role = caller_role(request, key.organization)
        return Organization.objects.filter(pk=key.organization_id) if role in _ADMIN else Organization.objects.none()
    return Organization.objects.filter(memberships__user=authenticated_user(request), memberships__role__in=_ADMIN)


def _endpoint(request: Request, webhook_id: str) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_related("organization")
        .filter(public_id=webhook_id, organization__in=_admin_organizations(request))
        .first()
    )
    if endpoint is None:
        raise NotFound("No such webhook.")
    return endpoint


def _etag(endpoint: WebhookEndpoint) -> str:
    return etag_for(endpoint.public_id, endpoint.updated.isoformat())


class WebhookListCreate(IdempotentPostMixin, generics.ListAPIView[WebhookEndpoint]):
    """The webhooks of organizations you administer; register one (its secret is shown once)."""

    serializer_class = s.WebhookOut
    # A replay (Idempotency-Key) answers the same body with the secret null: it is shown once.
    idempotency_secret_fields = ("secret",)

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.select_related("organization").filter(
            organization__in=_admin_organizations(self.request)
        )

    @extend_schema(request=s.WebhookIn, responses={201: s.WebhookWithSecretOut})
    def post(self, request: Request) -> Response:
        data = s.WebhookIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        organization, role = acting_organization(request, fields.pop("organization", None))
        endpoint = services.webhook_create(organization=organization, actor_role=role, **fields)
        return Response(s.WebhookWithSecretOut(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetail(generics.GenericAPIView[WebhookEndpoint]):
    """Read, change (ETag/If-Match) or delete one webhook."""

    serializer_class = s.WebhookOut
    queryset = WebhookEndpoint.objects.none()

    def _respond(self, endpoint: WebhookEndpoint, code: int = 200) -> Response:
        response = Response(s.WebhookOut(endpoint).data, status=code)
        response["ETag"] = _etag(endpoint)
        return response

    def get(self, request: Request, webhook_id: str) -> Response:
        return self._respond(_endpoint(request, webhook_id))

    @extend_schema(request=s.WebhookPatchIn, parameters=[IF_MATCH], responses={200: s.WebhookOut})
    def patch(self, request: Request, webhook_id: str) -> Response:
        endpoint = _endpoint(request, webhook_id)
        check_if_match(request, _etag(endpoint))
        data = s.WebhookPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._respond(services.webhook_update(endpoint=endpoint, **data.validated_data))

    def delete(self, request: Request, webhook_id: str) -> Response:
        services.webhook_delete(endpoint=_endpoint(request, webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecret(generics.GenericAPIView[WebhookEndpoint]):
    """A new signing secret (shown once); the old one keeps signing beside it for 24 hours."""

    serializer_class = s.WebhookWithSecretOut
    queryset = WebhookEndpoint.objects.none()

    @extend_schema(request=None, responses={200: s.WebhookWithSecretOut})
    def post(self, request: Request, webhook_id: str) -> Response:
        endpoint = services.webhook_rotate_secret(endpoint=_endpoint(request, webhook_id))
        return Response(s.WebhookWithSecretOut(endpoint).data)


class DeliveryLog(generics.ListAPIView[DeliveryAttempt]):
    """Every delivery attempt to this webhook, newest first."""

    serializer_class = s.AttemptOut

    def get_queryset(self) -> QuerySet[DeliveryAttempt]:
        if getattr(self, "swagger_fake_view", False):
            return DeliveryAttempt.objects.none()
        endpoint = _endpoint(self.request, self.kwargs["webhook_id"])
        return DeliveryAttempt.objects.select_related("delivery__event").filter(delivery__endpoint=endpoint)

    def paginate_queryset(self, queryset: Any) -> Any:
        if isinstance(self.paginator, CursorPagination):  # the API's default, CreatedCursorPagination
            self.paginator.ordering = "-at"
        return super().paginate_queryset(queryset)


class Redeliver(generics.GenericAPIView[Any]):
    """Send one delivery again now (for instance after fixing the receiver)."""

    serializer_class = s.AttemptOut
    queryset = Delivery.objects.none()

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "RedeliveryQueued",
                {"delivery": serializers.CharField(), "status": serializers.ChoiceField(choices=["queued"])},
            )
        },
    )
    def post(self, request: Request, webhook_id: str, delivery_id: str) -> Response:
        endpoint = _endpoint(request, webhook_id)
        delivery = Delivery.objects.filter(endpoint=endpoint, public_id=delivery_id).first()
        if delivery is None:
            raise NotFound("No such delivery.")
        services.delivery_redeliver(delivery=delivery)
        return Response({"delivery": delivery.public_id, "status": "queued"}, status=status.HTTP_202_ACCEPTED)


class AcknowledgeIn(StrictSerializer):
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    organization = serializers.CharField(max_length=40, required=False)


class EventAcknowledge(generics.GenericAPIView[Delivery]):
    """Confirm your organization received and acted on a revocation or expiry (the person sees it)."""

    serializer_class = AcknowledgeIn
    queryset = Delivery.objects.none()

    @extend_schema(
        request=AcknowledgeIn,
        responses={
            201: inline_serializer(
                "EventAcknowledged",
                {
                    "event": serializers.CharField(),
                    "organization": serializers.CharField(),
                    "created": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request: Request, event_id: str) -> Response:
        data = AcknowledgeIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = api_key_of(request)
        org_id = data.validated_data.get("organization")
        organization = key.organization if key else Organization.objects.filter(public_id=org_id).first()
        if organization is None or caller_role(request, organization) is None:
            raise NotFound("No such event for your organization.")
        acknowledgement = services.event_acknowledge(
            public_id=event_id,
            organization=organization,
            user=request.user,
            api_key=key,
            note=data.validated_data["note"],
        )
        return Response(
            {
                "event": event_id,
                "organization": organization.public_id,
                "created": rfc3339(acknowledgement.created),
            },
            status=status.HTTP_201_CREATED,
        )
