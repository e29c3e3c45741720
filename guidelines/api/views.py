"""Guidelines, adoptions, project keys, proofs and attestations over HTTP: parse, call one service, answer."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guidelines import selectors, services
from guidelines.api import serializers as s
from guidelines.filtersets import AttestationFilter
from guidelines.models import Attestation, Guideline, GuidelineVersion
from guidelines.statements import MAX_ENVELOPE_BYTES
from registry.accounts.models import Membership, Organization
from registry.accounts.presence import presence_from_request
from registry.api.caller import acting_organization, api_key_of, authenticated_user, caller_role, require_person
from registry.api.etags import check_if_match, etag_for
from registry.api.idempotency import IdempotentPostMixin
from registry.api.pagination import whole_list, whole_list_response
from registry.api.schema import IF_MATCH, problems
from registry.errors import NotFound, ValidationFailed


class PublicRead(BasePermission):
    """Anyone may read; writing needs a signed-in person or an API key."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_authenticated)


def _role(request: Request, organization: Organization) -> str | None:
    return caller_role(request, organization) if request.user and request.user.is_authenticated else None


def _member_org(request: Request, public_id: str) -> tuple[Organization, str]:
    """An organization the caller belongs to, with the caller's role; 404 for everyone else."""
    organization = Organization.objects.filter(public_id=public_id).first()
    role = _role(request, organization) if organization else None
    if organization is None or role is None:
        raise NotFound("No such organization.")
    return organization, role


def _guideline(request: Request, slug: str) -> tuple[Guideline, str | None]:
    guideline = Guideline.objects.select_related("organization").filter(slug=slug).first()
    role = _role(request, guideline.organization) if guideline else None
    return selectors.guideline_get(slug=slug, member=role is not None), role


def _guideline_for_writing(request: Request, slug: str) -> tuple[Guideline, str]:
    guideline, role = _guideline(request, slug)
    if role is None:  # a stranger may see the guideline but not learn anything by writing to it
        raise NotFound("No such guideline.")
    return guideline, role


def _version_etag(version: GuidelineVersion) -> str:
    return etag_for(version.public_id, version.status, version.updated.isoformat())


def _version_response(version: GuidelineVersion, language: str | None = None, code: int = 200) -> Response:
    response = Response(s.version_out(version, language), status=code)
    response["ETag"] = _version_etag(version)
    return response


class GuidelineListCreate(IdempotentPostMixin, generics.GenericAPIView[Guideline]):
    """The public catalogue (plus your own organizations' guidelines); create a guideline."""

    permission_classes = [PublicRead]
    queryset = Guideline.objects.none()

    def get_queryset(self) -> QuerySet[Guideline]:
        public = selectors.guidelines_public()
        user = self.request.user
        if user and user.is_authenticated:
            own = Guideline.objects.filter(organization__memberships__user=user)
            key = api_key_of(self.request)
            if key is not None:
                own = Guideline.objects.filter(organization=key.organization)
            return Guideline.objects.filter(Q(pk__in=public.values("pk")) | Q(pk__in=own.values("pk"))).select_related(
                "organization"
            )
        return public

    @extend_schema(operation_id="guidelines_list", responses={200: s.GuidelineOut(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([s.guideline_out(g) for g in page or []])

    @extend_schema(request=s.GuidelineIn, responses={201: s.GuidelineOut})
    def post(self, request: Request) -> Response:
        data = s.GuidelineIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        organization, role = acting_organization(request, fields.pop("organization", None))
        guideline = services.guideline_create(organization=organization, actor_role=role, **fields)
        return Response(s.guideline_out(guideline, []), status=status.HTTP_201_CREATED)


class GuidelineDetail(APIView):
    """One guideline with the versions the caller may see."""

    permission_classes = [PublicRead]

    @extend_schema(responses={200: s.GuidelineOut})
    def get(self, request: Request, slug: str) -> Response:
        guideline, role = _guideline(request, slug)
        versions = selectors.versions_visible(guideline=guideline, member=role is not None)
        return Response(s.guideline_out(guideline, versions))


class VersionListCreate(IdempotentPostMixin, APIView):
    """A guideline's versions; write a new draft (owners and admins of its organization)."""

    permission_classes = [PublicRead]

    @extend_schema(operation_id="guidelines_versions_list", responses={200: whole_list("VersionList", s.VersionOut)})
    def get(self, request: Request, slug: str) -> Response:
        guideline, role = _guideline(request, slug)
        versions = selectors.versions_visible(guideline=guideline, member=role is not None)
        return whole_list_response([s.version_out(v) for v in versions])

    @extend_schema(request=s.VersionIn, responses={201: s.VersionOut})
    def post(self, request: Request, slug: str) -> Response:
        guideline, role = _guideline_for_writing(request, slug)
        data = s.VersionIn(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.guideline_version_create(
            guideline=guideline, actor_role=role, actor=authenticated_user(request), **data.validated_data
        )
        return _version_response(version, code=status.HTTP_201_CREATED)


class VersionDetail(APIView):
    """Read a version (``?lang=id`` for its translation); edit a draft with ``If-Match``."""

    permission_classes = [PublicRead]

    @extend_schema(
        parameters=[OpenApiParameter("lang", str, description="Show the content in this language.")],
        responses={200: s.VersionOut},
    )
    def get(self, request: Request, slug: str, version: str) -> Response:
        guideline, role = _guideline(request, slug)
        found = selectors.version_get(guideline=guideline, version=version, member=role is not None)
        return _version_response(found, request.query_params.get("lang") or None)

    @extend_schema(request=s.VersionPatchIn, parameters=[IF_MATCH], responses={200: s.VersionOut, **problems(409)})
    def patch(self, request: Request, slug: str, version: str) -> Response:
        guideline, role = _guideline_for_writing(request, slug)
        found = selectors.version_get(guideline=guideline, version=version, member=True)
        check_if_match(request, _version_etag(found))
        data = s.VersionPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.guideline_version_update(version=found, actor_role=role, **data.validated_data)
        return _version_response(updated)


class VersionPublish(APIView):
    """Publish a draft: from now on it never changes, and it is in the public log."""

    # 400: a draft whose content does not validate cannot be published.
    @extend_schema(request=None, responses={200: s.VersionOut, **problems(400, 409)})
    def post(self, request: Request, slug: str, version: str) -> Response:
        guideline, role = _guideline_for_writing(request, slug)
        found = selectors.version_get(guideline=guideline, version=version, member=True)
        return _version_response(services.guideline_version_publish(version=found, actor_role=role))


class VersionRetire(APIView):
    """Retire a published version (logged as ``guideline.retired``)."""

    @extend_schema(request=None, responses={200: s.VersionOut, **problems(409)})
    def post(self, request: Request, slug: str, version: str) -> Response:
        guideline, role = _guideline_for_writing(request, slug)
        found = selectors.version_get(guideline=guideline, version=version, member=True)
        return _version_response(services.guideline_version_retire(version=found, actor_role=role))


class GuidelineDiff(APIView):
    """Clauses added, removed and changed, and a unified diff of the body, between two versions."""

    permission_classes = [PublicRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, required=True),
            OpenApiParameter("to", str, required=True),
            OpenApiParameter("lang", str),
        ],
        responses={200: s.DiffOut, **problems(400)},
    )
    def get(self, request: Request, slug: str) -> Response:
        guideline, role = _guideline(request, slug)
        names = {name: request.query_params.get(name, "") for name in ("from", "to")}
        missing = [name for name, value in names.items() if not value]
        if missing:
            raise ValidationFailed(
                "Name both versions: ?from=…&to=….", errors={name: ["This parameter is required."] for name in missing}
            )
        old = selectors.version_get(guideline=guideline, version=names["from"], member=role is not None)
        new = selectors.version_get(guideline=guideline, version=names["to"], member=role is not None)
        diff = selectors.versions_diff(old=old, new=new, language=request.query_params.get("lang") or None)
        return Response({"guideline": guideline.slug, "from": old.version, "to": new.version, **diff.as_dict()})


class AdoptionListCreate(IdempotentPostMixin, APIView):
    """Who adopted a published version (public); adopt it for one of your organizations."""

    permission_classes = [PublicRead]

    @extend_schema(responses={200: whole_list("AdoptionList", s.AdoptionOut)})
    def get(self, request: Request, slug: str, version: str) -> Response:
        guideline, role = _guideline(request, slug)
        found = selectors.version_get(guideline=guideline, version=version, member=role is not None)
        adoptions = selectors.adoptions_of(version=found)
        return whole_list_response([s.adoption_out(a) for a in adoptions])

    @extend_schema(request=s.AdoptionIn, responses={201: s.AdoptionOut})
    def post(self, request: Request, slug: str, version: str) -> Response:
        guideline, _ = _guideline(request, slug)
        found = selectors.version_get(guideline=guideline, version=version, member=False)
        data = s.AdoptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        organization, role = acting_organization(request, data.validated_data.get("organization"))
        adoption = services.adoption_create(
            version=found, organization=organization, actor_role=role, actor=authenticated_user(request)
        )
        return Response(s.adoption_out(adoption), status=status.HTTP_201_CREATED)


class ProjectKeyListCreate(IdempotentPostMixin, APIView):
    """A project's signing keys, active and retired (members only); register one."""

    @extend_schema(
        operation_id="organizations_keys_list", responses={200: whole_list("ProjectKeyList", s.ProjectKeyOut)}
    )
    def get(self, request: Request, org_id: str) -> Response:
        organization, _ = _member_org(request, org_id)
        keys = selectors.project_keys(organization=organization)
        return whole_list_response([s.project_key_out(k) for k in keys])

    # 403 for an API key (people only) and, with type reauthentication-required, without a fresh
    # proof of presence: a signing key attests on the project's behalf.
    @extend_schema(request=s.ProjectKeyIn, responses={201: s.ProjectKeyOut, **problems(403)})
    def post(self, request: Request, org_id: str) -> Response:
        organization, role = _member_org(request, org_id)
        person = require_person(request, action="register a signing key")
        data = s.ProjectKeyIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = services.project_key_add(
            organization=organization,
            actor_role=role,
            actor=person,
            public_jwk=data.validated_data["public_jwk"],
            presence=presence_from_request(request),
        )
        return Response(s.project_key_out(key), status=status.HTTP_201_CREATED)


class ProjectKeyDetail(APIView):
    """Read a key; ``DELETE`` retires it (it stays listed, and what it signed stays valid)."""

    @extend_schema(responses={200: s.ProjectKeyOut})
    def get(self, request: Request, org_id: str, kid: str) -> Response:
        organization, _ = _member_org(request, org_id)
        return Response(s.project_key_out(selectors.project_key_get(organization=organization, kid=kid)))

    @extend_schema(responses={204: None, **problems(403)})
    def delete(self, request: Request, org_id: str, kid: str) -> Response:
        organization, role = _member_org(request, org_id)
        require_person(request, action="retire a signing key")
        key = selectors.project_key_get(organization=organization, kid=kid)
        services.project_key_retire(key=key, actor_role=role, presence=presence_from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProofListCreate(IdempotentPostMixin, APIView):
    """A project's proofs of control over its domain or repository; ask for a new token."""

    @extend_schema(operation_id="organizations_proofs_list", responses={200: whole_list("ProofList", s.ProofOut)})
    def get(self, request: Request, org_id: str) -> Response:
        organization, _ = _member_org(request, org_id)
        proofs = selectors.control_proofs(organization=organization)
        return whole_list_response([s.proof_out(p) for p in proofs])

    @extend_schema(request=s.ProofIn, responses={201: s.ProofOut})
    def post(self, request: Request, org_id: str) -> Response:
        organization, role = _member_org(request, org_id)
        data = s.ProofIn(data=request.data)
        data.is_valid(raise_exception=True)
        proof = services.control_proof_create(organization=organization, actor_role=role, **data.validated_data)
        return Response(s.proof_out(proof), status=status.HTTP_201_CREATED)


class ProofDetail(APIView):
    """One proof and its last check."""

    @extend_schema(responses={200: s.ProofOut})
    def get(self, request: Request, org_id: str, proof_id: str) -> Response:
        organization, _ = _member_org(request, org_id)
        return Response(s.proof_out(selectors.control_proof_get(organization=organization, public_id=proof_id)))


class ProofCheck(APIView):
    """Fetch the published token now and record whether it is there."""

    @extend_schema(request=None, responses={200: s.ProofOut})
    def post(self, request: Request, org_id: str, proof_id: str) -> Response:
        organization, role = _member_org(request, org_id)
        proof = selectors.control_proof_get(organization=organization, public_id=proof_id)
        return Response(s.proof_out(services.control_proof_check(proof=proof, actor_role=role)))


def _attesting_project(request: Request, project_id: str | None) -> tuple[Organization, str]:
    """The project the caller attests for: named, the API key's, or the only project they administer."""
    if project_id is not None or api_key_of(request) is not None:
        return acting_organization(request, project_id, field="project")
    administered = list(
        Organization.objects.filter(
            kind=Organization.Kind.PROJECT,
            memberships__user=authenticated_user(request),
            memberships__role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        )[:2]
    )
    if len(administered) != 1:
        raise ValidationFailed(
            "Name the project organization this attestation is for.", errors={"project": ["This field is required."]}
        )
    return acting_organization(request, administered[0].public_id, field="project")


class AttestationListCreate(IdempotentPostMixin, generics.GenericAPIView[Attestation]):
    """Every attestation, filterable by project and artefact digest (public); submit a signed one."""

    permission_classes = [PublicRead]
    filterset_class = AttestationFilter
    queryset = Attestation.objects.none()

    def get_queryset(self) -> QuerySet[Attestation]:
        return selectors.attestations_public()

    @extend_schema(operation_id="attestations_list", responses={200: s.AttestationOut(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([s.attestation_out(a) for a in page or []])

    @extend_schema(request=s.AttestationIn, responses={201: s.AttestationOut})
    def post(self, request: Request) -> Response:
        if len(request.body) > MAX_ENVELOPE_BYTES:
            raise services.PayloadTooLarge("An attestation may be at most 256 KiB.")
        data = s.AttestationIn(data=request.data)
        data.is_valid(raise_exception=True)
        project, role = _attesting_project(request, data.validated_data.get("project"))
        attestation = services.attestation_store(
            project=project, actor_role=role, envelope=data.validated_data["envelope"]
        )
        return Response(s.attestation_out(attestation), status=status.HTTP_201_CREATED)


class AttestationDetail(APIView):
    """One attestation, with its envelope so anyone can verify the signature again."""

    permission_classes = [PublicRead]

    @extend_schema(responses={200: s.AttestationOut})
    def get(self, request: Request, attestation_id: str) -> Response:
        return Response(s.attestation_out(selectors.attestation_get(public_id=attestation_id)))


class AttestationRevoke(APIView):
    """The project withdraws an attestation (logged; webhook ``attestation.revoked``)."""

    @extend_schema(request=s.AttestationRevokeIn, responses={200: s.AttestationOut, **problems(409)})
    def post(self, request: Request, attestation_id: str) -> Response:
        attestation = selectors.attestation_get(public_id=attestation_id)
        role = _role(request, attestation.project)
        if role is None:
            raise NotFound("No such attestation.")
        data = s.AttestationRevokeIn(data=request.data)
        data.is_valid(raise_exception=True)
        revoked = services.attestation_revoke(attestation=attestation, actor_role=role, **data.validated_data)
        return Response(s.attestation_out(revoked))


class SafeguardList(APIView):
    """The safeguard vocabulary, with English and Indonesian labels."""

    permission_classes = [PublicRead]

    @extend_schema(responses={200: whole_list("SafeguardList", s.SafeguardOut)})
    def get(self, request: Request) -> Response:
        return whole_list_response(s.safeguards_out())
