"""Organizations, members, invitations and API keys over HTTP: parse, call a service or selector, answer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry.accounts import selectors, services
from registry.accounts.api import serializers as s
from registry.accounts.models import ApiKey, Invitation, Membership, Organization
from registry.accounts.presence import presence_from_request
from registry.api.caller import acting_organization, api_key_of, authenticated_user, caller_role, require_person
from registry.api.etags import check_if_match, etag_for
from registry.api.idempotency import IdempotentPostMixin
from registry.api.pagination import whole_list, whole_list_response
from registry.api.schema import IF_MATCH, problems
from registry.errors import NotFound


def _organization_for(request: Request, public_id: str) -> tuple[Organization, str]:
    """The organization and the caller's role; 404 for anyone outside it."""
    organization = Organization.objects.filter(public_id=public_id).first()
    role = caller_role(request, organization) if organization else None
    if organization is None or role is None:
        raise NotFound("No such organization.")
    return organization, role


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


class OrganizationListCreate(IdempotentPostMixin, generics.ListAPIView[Organization]):
    """List the caller's organizations; create one (the creator becomes its owner)."""

    serializer_class = s.OrganizationOut

    def get_queryset(self) -> QuerySet[Organization]:
        if getattr(self, "swagger_fake_view", False):
            return Organization.objects.none()
        key = api_key_of(self.request)
        if key is not None:
            return Organization.objects.filter(pk=key.organization_id)
        return selectors.organizations_for(user=authenticated_user(self.request))

    @extend_schema(request=s.OrganizationIn, responses={201: s.OrganizationOut})
    def post(self, request: Request) -> Response:
        creator = require_person(request, action="create organizations")
        data = s.OrganizationIn(data=request.data)
        data.is_valid(raise_exception=True)
        organization = services.organization_create(creator=creator, **data.validated_data)
        return Response(s.OrganizationOut(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetail(generics.GenericAPIView[Any]):
    """Read or update one organization (members only; ETag and If-Match)."""

    serializer_class = s.OrganizationOut

    def _respond(self, organization: Organization) -> Response:
        response = Response(s.OrganizationOut(organization).data)
        response["ETag"] = etag_for(organization.public_id, organization.updated.isoformat())
        return response

    def get(self, request: Request, org_id: str) -> Response:
        organization, _ = _organization_for(request, org_id)
        return self._respond(organization)

    @extend_schema(
        request=s.OrganizationPatchIn, parameters=[IF_MATCH], responses={200: s.OrganizationOut, **problems(403)}
    )
    def patch(self, request: Request, org_id: str) -> Response:
        # Renaming or re-describing the organization is a person's decision, not machine work.
        require_person(request, action="change an organization")
        organization, role = _organization_for(request, org_id)
        check_if_match(request, etag_for(organization.public_id, organization.updated.isoformat()))
        data = s.OrganizationPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        organization = services.organization_update(organization=organization, actor_role=role, **data.validated_data)
        return self._respond(organization)


class MemberListCreate(IdempotentPostMixin, generics.GenericAPIView[Membership]):
    """The members of an organization; admins add members, owners add owners."""

    serializer_class = s.MemberOut
    pagination_class = None
    queryset = Membership.objects.none()  # for the schema; get() reads through the organization

    @extend_schema(operation_id="organizations_members_list", responses={200: whole_list("MemberList", s.MemberOut)})
    def get(self, request: Request, org_id: str) -> Response:
        organization, _ = _organization_for(request, org_id)
        members = organization.memberships.select_related("user").order_by("created")
        return whole_list_response(s.MemberOut(members, many=True).data)

    @extend_schema(
        request=s.MemberIn,
        responses={201: s.MemberInvitedOut, **problems(403)},
        description="Invite someone by email; the membership starts when they accept "
        "(POST /api/v1/invitations/{id}/accept, or the emailed link). The answer is the same whether "
        "or not the address has an account. Inviting an owner needs a fresh proof of presence "
        "(403 reauthentication-required).",
    )
    def post(self, request: Request, org_id: str) -> Response:
        # A key must not add people: a leaked owner's key would otherwise let anyone make
        # themselves an owner, whose access outlives the key's revocation.
        actor = require_person(request, action="invite members")
        organization, role = _organization_for(request, org_id)
        data = s.MemberIn(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.member_invite(
            organization=organization,
            actor=actor,
            actor_role=role,
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            presence=presence_from_request(request),
            base_url=_base_url(request),
        )
        body = {
            "status": "invited",
            "id": invitation.public_id,
            "email": invitation.email,
            "role": invitation.payload["role"],
            "organization": organization.public_id,
            "created": invitation.created,
            "expires": invitation.expires_at,
        }
        return Response(s.MemberInvitedOut(body).data, status=status.HTTP_201_CREATED)


class OrganizationInvitationList(generics.GenericAPIView[Invitation]):
    """The organization's pending member invitations (admins and owners)."""

    serializer_class = s.InvitationOut
    pagination_class = None
    queryset = Invitation.objects.none()  # for the schema; get() reads through the selector

    @extend_schema(
        operation_id="organizations_invitations_list",
        responses={200: whole_list("OrganizationInvitationList", s.InvitationOut), **problems(403)},
    )
    def get(self, request: Request, org_id: str) -> Response:
        require_person(request, action="manage members")
        organization, role = _organization_for(request, org_id)
        services.require_admin(role)
        invitations = selectors.organization_invitations(organization=organization)
        return whole_list_response(s.InvitationOut(invitations, many=True).data)


class OrganizationInvitationDetail(generics.GenericAPIView[Any]):
    """Withdraw a pending invitation (admins; an owner invitation, owners only)."""

    serializer_class = s.InvitationOut

    @extend_schema(responses={204: None, **problems(403, 404, 409)})
    def delete(self, request: Request, org_id: str, invitation_id: str) -> Response:
        require_person(request, action="manage members")
        organization, role = _organization_for(request, org_id)
        invitation = Invitation.objects.filter(public_id=invitation_id).first()
        services.require_admin(role)
        if invitation is None:
            raise NotFound("No such invitation.")
        services.member_invitation_cancel(organization=organization, actor_role=role, invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetail(generics.GenericAPIView[Any]):
    """Remove a member, or leave the organization yourself."""

    serializer_class = s.MemberOut

    @extend_schema(responses={204: None, **problems(409)})  # 409: the last owner cannot leave
    def delete(self, request: Request, org_id: str, user_id: str) -> Response:
        actor = require_person(request, action="remove members")
        organization, role = _organization_for(request, org_id)
        membership = (
            Membership.objects.select_related("user").filter(organization=organization, user__public_id=user_id).first()
        )
        if membership is None:
            raise NotFound("No such member.")
        services.membership_remove(membership=membership, actor=actor, actor_role=role)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(get=extend_schema(responses={200: s.ApiKeyOut(many=True), **problems(403)}))
class ApiKeyListCreate(IdempotentPostMixin, generics.ListAPIView[ApiKey]):
    """The keys of the organizations the caller administers; create one (its secret is shown once)."""

    serializer_class = s.ApiKeyOut

    def get_queryset(self) -> QuerySet[ApiKey]:
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        person = require_person(self.request, action="manage API keys")
        admin_orgs = Membership.objects.filter(
            user=person, role__in=[Membership.Role.ADMIN, Membership.Role.OWNER]
        ).values("organization_id")
        return ApiKey.objects.select_related("organization").filter(organization_id__in=admin_orgs)

    @extend_schema(
        request=s.ApiKeyIn,
        responses={201: s.ApiKeyCreatedOut, **problems(403)},
        description="Needs a person (not an API key) who proved presence within the last 5 minutes "
        "(403 reauthentication-required otherwise).",
    )
    def post(self, request: Request) -> Response:
        creator = require_person(request, action="create API keys")
        data = s.ApiKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        organization, role = acting_organization(request, data.validated_data["organization"])
        issued = services.api_key_create(
            organization=organization,
            creator=creator,
            actor_role=role,
            name=data.validated_data["name"],
            presence=presence_from_request(request),
        )
        body: dict[str, Any] = dict(s.ApiKeyOut(issued.api_key).data)
        body["key"] = issued.secret
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetail(generics.GenericAPIView[Any]):
    """Read or revoke one key (admins and owners of its organization)."""

    serializer_class = s.ApiKeyOut

    def _key(self, request: Request, key_id: str) -> ApiKey:
        require_person(request, action="manage API keys")
        key = ApiKey.objects.select_related("organization").filter(public_id=key_id).first()
        if key is None or caller_role(request, key.organization) not in (Membership.Role.ADMIN, Membership.Role.OWNER):
            raise NotFound("No such API key.")
        return key

    @extend_schema(responses={200: s.ApiKeyOut, **problems(403)})
    def get(self, request: Request, key_id: str) -> Response:
        return Response(s.ApiKeyOut(self._key(request, key_id)).data)

    def delete(self, request: Request, key_id: str) -> Response:
        services.api_key_revoke(api_key=self._key(request, key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationList(generics.GenericAPIView[Invitation]):
    """The pending invitations addressed to the caller's verified email addresses."""

    serializer_class = s.InvitationOut
    pagination_class = None
    queryset = Invitation.objects.none()  # for the schema; get() reads through the selector

    @extend_schema(
        operation_id="invitations_list",
        responses={200: whole_list("InvitationList", s.InvitationOut), **problems(403)},  # 403: an API key
    )
    def get(self, request: Request) -> Response:
        person = require_person(request, action="read invitations")
        invitations = selectors.invitations_for(user=person)
        return whole_list_response(s.InvitationOut(invitations, many=True).data)


class InvitationAccept(IdempotentPostMixin, generics.GenericAPIView[Any]):
    """Accept an invitation addressed to you: only now does its authority (membership, representation) start."""

    serializer_class = s.InvitationOut

    @extend_schema(
        request=s.InvitationAcceptIn,
        responses={200: s.InvitationOut, **problems(403, 404, 409)},
        description="The signed-in person whose verified email address is the invited one (or who holds "
        "the emailed link's token) accepts. Anyone else: 404. Already accepted, cancelled or expired: 409.",
    )
    def post(self, request: Request, invitation_id: str) -> Response:
        person = require_person(request, action="accept invitations")
        invitation = Invitation.objects.filter(public_id=invitation_id).first()
        # Access before the body: an invitation to someone else is 404 whatever was sent.
        if invitation is None or invitation.email not in services.invitee_addresses(person):
            raise NotFound("No such invitation.")
        # The body is optional (only the link's token goes there): an empty one is no JSON to parse.
        data = s.InvitationAcceptIn(data=request.data if request.body.strip() else {})
        data.is_valid(raise_exception=True)
        token = data.validated_data.get("token")
        accepted = services.invitation_accept(invitation=invitation, user=person, token=token)
        return Response(s.InvitationOut(accepted).data)
