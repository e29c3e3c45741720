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
from registry.lib.canonical import b64url_decode
from registry.lib.jsondepth import json_depth_exceeds
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
        receipt = data.validated_data["receipt"]
        if _hides_deep_json(receipt):
            return Response({"valid": False, "reason": "malformed token", "kid": None, "payload": None})
        check = receipt_verify(receipt)
        return Response({"valid": check.valid, "reason": check.reason, "kid": check.kid, "payload": check.payload})


def _hides_deep_json(token: str) -> bool:
    """Whether a compact JWS's header (read before any signature check) nests JSON too deeply for
    Python's recursive decoder: the request body's depth check cannot see inside base64url."""
    header = token.split(".", 1)[0]
    try:
        text = b64url_decode(header).decode("utf-8", "replace")
    except ValueError:
        return False  # receipt_verify answers "malformed token" itself
    return json_depth_exceeds(text)
