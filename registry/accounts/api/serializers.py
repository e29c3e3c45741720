"""Input and output shapes for organizations, members, invitations and API keys."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.accounts.models import ApiKey, Invitation, Membership, Organization
from registry.api.serializers import StrictSerializer


class OrganizationIn(StrictSerializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80)
    kind = serializers.ChoiceField(choices=Organization.Kind.choices)
    repository_url = serializers.URLField(required=False, allow_blank=True, default="")
    homepage = serializers.URLField(required=False, allow_blank=True, default="")


class OrganizationPatchIn(StrictSerializer):
    name = serializers.CharField(max_length=200, required=False)
    repository_url = serializers.URLField(required=False, allow_blank=True)
    homepage = serializers.URLField(required=False, allow_blank=True)


class VerificationOut(serializers.Serializer[Any]):
    """Whether registry staff verified the organization is what it declares, and when."""

    status = serializers.ChoiceField(choices=["unverified", "verified"])
    at = serializers.DateTimeField(allow_null=True, help_text="RFC 3339, UTC; null while unverified.")


class OrganizationOut(serializers.ModelSerializer[Organization]):
    id = serializers.CharField(source="public_id")
    verification = serializers.SerializerMethodField(
        help_text="Set by registry staff only; a declared kind proves nothing by itself. Only a verified "
        "guild or agency may vouch."
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "kind", "repository_url", "homepage", "created", "verification"]

    @extend_schema_field(VerificationOut)
    def get_verification(self, obj: Organization) -> dict[str, Any]:
        status = "verified" if obj.verified_at is not None else "unverified"
        return dict(VerificationOut({"status": status, "at": obj.verified_at}).data)


class MemberIn(StrictSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)


class InvitationOut(serializers.ModelSerializer[Invitation]):
    """An invitation as its sender and its invitee see it; the link's token is never shown."""

    id = serializers.CharField(source="public_id")
    status = serializers.ChoiceField(choices=Invitation.Status.choices, read_only=True)
    expires = serializers.DateTimeField(source="expires_at")
    details = serializers.JSONField(source="payload", help_text='The kind\'s terms, e.g. {"role": "admin"}.')

    class Meta:
        model = Invitation
        fields = ["id", "kind", "status", "email", "target", "details", "created", "expires", "accepted_at"]


class MemberInvitedOut(serializers.Serializer[Any]):
    """The answer to adding a member: the same for every email, whether or not it has an account."""

    status = serializers.ChoiceField(choices=["invited"])
    id = serializers.CharField(help_text="The invitation's id.")
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    organization = serializers.CharField()
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField()


class InvitationAcceptIn(StrictSerializer):
    token = serializers.CharField(
        required=False, max_length=100, help_text="The token from the emailed link, if the email is not verified."
    )


class MemberOut(serializers.ModelSerializer[Membership]):
    user = serializers.CharField(source="user.public_id")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["user", "email", "role", "created"]


class ApiKeyIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    organization = serializers.CharField(max_length=40)


class ApiKeyOut(serializers.ModelSerializer[ApiKey]):
    id = serializers.CharField(source="public_id")
    organization = serializers.CharField(source="organization.public_id")
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ["id", "name", "organization", "prefix", "created", "last_used_at", "revoked_at", "revoked"]

    def get_revoked(self, obj: ApiKey) -> bool:
        return obj.revoked_at is not None


class ApiKeyCreatedOut(ApiKeyOut):
    key = serializers.CharField(help_text="The secret. Shown once: store it now, it cannot be shown again.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "key"]
