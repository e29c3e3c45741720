"""The registry's public keys (JWKS) and server-side receipt checking."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import keys
from registry.api.serializers import StrictSerializer
from registry.receipts import receipt_verify


class JwksView(APIView):
    """``/.well-known/jwks.json``: every receipt key, retired ones marked by their validity."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(responses=inline_serializer("Jwks", {"keys": serializers.ListField(child=serializers.DictField())}))
    def get(self, request: Request) -> Response:
        response = Response(keys.keyring().jwks(keys.RECEIPT))
        response["Cache-Control"] = "public, max-age=300"
        return response


class ReceiptIn(StrictSerializer):
    receipt = serializers.CharField(max_length=65536, trim_whitespace=True)


class ReceiptVerifyView(APIView):
    """Check a receipt's signature and key validity; answers ``valid: false`` with a reason."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=ReceiptIn,
        responses=inline_serializer(
            "ReceiptCheck",
            {
                "valid": serializers.BooleanField(),
                "reason": serializers.CharField(allow_null=True),
                "kid": serializers.CharField(allow_null=True),
                "payload": serializers.DictField(allow_null=True),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        data = ReceiptIn(data=request.data)
        data.is_valid(raise_exception=True)
        check = receipt_verify(data.validated_data["receipt"])
        return Response({"valid": check.valid, "reason": check.reason, "kid": check.kid, "payload": check.payload})
