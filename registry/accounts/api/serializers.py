"""Input and output shapes for organizations, members and API keys."""

from __future__ import annotations

from rest_framework import serializers

from registry.accounts.models import ApiKey, Membership, Organization
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


class OrganizationOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="public_id")

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "kind", "repository_url", "homepage", "created"]


class MemberIn(StrictSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)


class MemberOut(serializers.ModelSerializer):  # type: ignore[type-arg]
    user = serializers.CharField(source="user.public_id")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["user", "email", "role", "created"]


class ApiKeyIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    organization = serializers.CharField(max_length=40)


class ApiKeyOut(serializers.ModelSerializer):  # type: ignore[type-arg]
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
