"""Subjects over HTTP: the vocabulary, subjects, representatives, keys, vouches, disputes, the
access log and erasure. Parse, call one service or selector, answer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from consent import selectors, services
from consent.api import serializers as s
from consent.api.views._shared import (
    _parse,
    _people_only,
    _subject_etag,
    _subject_reachable,
)
from consent.models import AccessLogEntry, Consent, Representative, Subject, SubjectKey, Vouch
from consent.vocabulary import vocabulary_document
from registry.accounts.presence import presence_from_request
from registry.api.caller import acting_organization, api_key_of, authenticated_user, caller_role
from registry.api.etags import check_if_match
from registry.api.idempotency import IdempotentPostMixin
from registry.api.pagination import whole_list, whole_list_response
from registry.api.schema import IF_MATCH, problems
from registry.errors import NotFound, ValidationFailed


class VocabularyView(generics.GenericAPIView[Any]):
    """The words a consent is written in: media, activities and purposes, in English and Indonesian."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(vocabulary_document())


# --- Subjects ---------------------------------------------------------------------------------


class SubjectListCreate(IdempotentPostMixin, generics.GenericAPIView[Subject]):
    """The subjects the caller represents; register one (the caller becomes its representative)."""

    serializer_class = s.SubjectOut
    pagination_class = None
    queryset = Subject.objects.none()

    @extend_schema(
        operation_id="subjects_list", responses={200: whole_list("SubjectList", s.SubjectOut), **problems(403)}
    )
    def get(self, request: Request) -> Response:
        actor = _people_only(request, "list a person's subjects")
        # Only representations in force today (a guardian's ends when the child comes of age).
        subjects = [x for x in selectors.subjects_for(user=actor) if services.representative_of(user=actor, subject=x)]
        return whole_list_response([s.subject_out(x, private=True) for x in subjects])

    @extend_schema(request=s.SubjectIn, responses={201: s.SubjectOut})
    def post(self, request: Request) -> Response:
        actor = _people_only(request, "register a person")
        subject = services.subject_create(creator=actor, **_parse(s.SubjectIn, request))
        response = Response(s.subject_out(subject, private=True), status=status.HTTP_201_CREATED)
        response["ETag"] = _subject_etag(subject)
        return response


class SubjectDetail(generics.GenericAPIView[Any]):
    """One subject: everything for its representatives, the public profile for others (else 404)."""

    serializer_class = s.SubjectOut

    @extend_schema(responses={200: s.SubjectOut, **problems(403)})  # 403: an API key (people only)
    def get(self, request: Request, subject_id: str) -> Response:
        actor = _people_only(request, "read a subject as its creator's person")
        subject, rep = selectors.subject_visible(user=actor, public_id=subject_id)
        response = Response(s.subject_out(subject, private=rep is not None))
        if rep is not None:
            response["ETag"] = _subject_etag(subject)
        return response

    @extend_schema(request=s.SubjectPatchIn, parameters=[IF_MATCH], responses={200: s.SubjectOut})
    def patch(self, request: Request, subject_id: str) -> Response:
        actor = _people_only(request, "change a subject")
        subject, _ = selectors.subject_for_representative(user=actor, public_id=subject_id)
        check_if_match(request, _subject_etag(subject))
        subject = services.subject_profile_update(
            subject=subject,
            actor=actor,
            presence=presence_from_request(request),
            **_parse(s.SubjectPatchIn, request),
        )
        subject.refresh_from_db()
        response = Response(s.subject_out(subject, private=True))
        response["ETag"] = _subject_etag(subject)
        return response


class RepresentativeCreate(IdempotentPostMixin, generics.GenericAPIView[Representative]):
    """Add a guardian, an estate member or an agent (with a delegated scope) to a subject."""

    serializer_class = s.RepresentativeOut
    queryset = Representative.objects.none()

    @extend_schema(
        request=s.RepresentativeIn,
        responses={201: s.RepresentativeInvitationOut},
        description="Invites the email address: 201 with status invited whether or not it has an account; "
        "the representation starts when the invitee accepts (POST /api/v1/invitations/{id}/accept).",
    )
    def post(self, request: Request, subject_id: str) -> Response:
        actor = _people_only(request, "manage representatives")
        subject = Subject.objects.filter(public_id=subject_id).first() if isinstance(subject_id, str) else None
        # Its representatives, and a former guardian of a person who has come of age (who may hand
        # the record to the person, and nothing else); 404 for everyone else.
        if subject is None or not (
            services.representative_of(user=actor, subject=subject)
            or services.former_guardian_of(user=actor, subject=subject)
        ):
            raise NotFound(gettext("No such subject."))
        data = _parse(s.RepresentativeIn, request)
        # An invitation, whoever the address belongs to: the same answer either way (no account
        # oracle), and no authority until the invitee accepts.
        invitation = services.representative_invite(
            subject=subject,
            actor=actor,
            email=data["email"],
            role=data["role"],
            scope=data.get("scope"),
            valid_until=data.get("valid_until"),
            powers=data.get("powers"),
            presence=presence_from_request(request),
            base_url=request.build_absolute_uri("/"),
        )
        return Response(s.representative_invitation_out(invitation), status=status.HTTP_201_CREATED)


class RepresentativeDetail(generics.GenericAPIView[Representative]):
    """End a representation (your own, or an agent you appointed)."""

    serializer_class = s.RepresentativeOut
    queryset = Representative.objects.none()

    def delete(self, request: Request, subject_id: str, rep_id: str) -> Response:
        actor = _people_only(request, "manage representatives")
        subject, _ = selectors.subject_for_representative(user=actor, public_id=subject_id)
        rep = Representative.objects.filter(subject=subject, public_id=rep_id).first()
        if rep is None:
            raise NotFound(gettext("No such representative."))
        services.representative_end(representative=rep, actor=actor, presence=presence_from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubjectKeyListCreate(IdempotentPostMixin, generics.GenericAPIView[SubjectKey]):
    """The subject's signing keys (retired ones included); add an Ed25519 public JWK."""

    serializer_class = s.KeyOut
    pagination_class = None
    queryset = SubjectKey.objects.none()

    @extend_schema(
        operation_id="subjects_keys_list",
        responses={200: whole_list("SubjectKeyList", s.KeyOut), **problems(403)},  # 403: an API key
    )
    def get(self, request: Request, subject_id: str) -> Response:
        actor = _people_only(request, "read a subject's keys")
        subject, _ = selectors.subject_for_representative(user=actor, public_id=subject_id)
        keys = [s.key_out(k) for k in subject.keys.order_by("created")]
        return whole_list_response(keys)

    @extend_schema(request=s.KeyIn, responses={201: s.KeyOut})
    def post(self, request: Request, subject_id: str) -> Response:
        actor = _people_only(request, "manage a subject's keys")
        subject, _ = selectors.subject_for_representative(user=actor, public_id=subject_id)
        key = services.subject_key_add(
            subject=subject, actor=actor, presence=presence_from_request(request), **_parse(s.KeyIn, request)
        )
        return Response(s.key_out(key), status=status.HTTP_201_CREATED)


class SubjectKeyDetail(generics.GenericAPIView[SubjectKey]):
    """Retire a key (never deleted: what it signed stays verifiable)."""

    serializer_class = s.KeyOut
    queryset = SubjectKey.objects.none()

    @extend_schema(responses={200: s.KeyOut})
    def delete(self, request: Request, subject_id: str, kid: str) -> Response:
        actor = _people_only(request, "manage a subject's keys")
        subject, _ = selectors.subject_for_representative(user=actor, public_id=subject_id)
        key = SubjectKey.objects.select_related("subject").filter(subject=subject, kid=kid).first()
        if key is None:
            raise NotFound(gettext("No such key."))
        key = services.subject_key_retire(key=key, actor=actor, presence=presence_from_request(request))
        return Response(s.key_out(key))


class VouchCreate(IdempotentPostMixin, generics.GenericAPIView[Vouch]):
    """A member of a guild or agency vouches for the subject's identity."""

    serializer_class = s.VouchOut
    queryset = Vouch.objects.none()

    @extend_schema(request=s.VouchIn, responses={201: s.VouchOut})
    def post(self, request: Request, subject_id: str) -> Response:
        subject = _subject_reachable(request, subject_id, vouching=True)
        data = _parse(s.VouchIn, request)
        organization, role = acting_organization(request, data["organization"])
        vouch = services.vouch_give(
            subject=subject,
            organization=organization,
            actor_role=role,
            user=authenticated_user(request),
            api_key=api_key_of(request),
        )
        return Response(s.vouch_out(vouch), status=status.HTTP_201_CREATED)


class VouchDetail(generics.GenericAPIView[Vouch]):
    """The vouching organization withdraws its vouch."""

    serializer_class = s.VouchOut
    queryset = Vouch.objects.none()

    @extend_schema(responses={200: s.VouchOut})
    def delete(self, request: Request, subject_id: str, vouch_id: str) -> Response:
        vouch = (
            Vouch.objects.select_related("subject", "organization")
            .filter(subject__public_id=subject_id, public_id=vouch_id)
            .first()
        )
        role = caller_role(request, vouch.organization) if vouch else None
        if vouch is None or role is None:
            raise NotFound(gettext("No such vouch."))
        vouch = services.vouch_revoke(vouch=vouch, actor_role=role)
        return Response(s.vouch_out(vouch))


class DisputeCreate(IdempotentPostMixin, generics.GenericAPIView[Consent]):
    """Anyone signed in: "this is me and I did not consent", or "this person is not who they claim"."""

    serializer_class = s.DisputeOut
    queryset = Consent.objects.none()

    @extend_schema(request=s.DisputeIn, responses={201: s.DisputeOut})
    def post(self, request: Request, subject_id: str) -> Response:
        actor = _people_only(request, "open a dispute")
        subject = _subject_reachable(request, subject_id)
        data = _parse(s.DisputeIn, request)
        consent = None
        if data.get("consent"):
            consent = Consent.objects.filter(public_id=data["consent"], subject=subject).first()
            if consent is None:
                raise ValidationFailed(
                    gettext("No such consent for this subject."), errors={"consent": [gettext("Unknown consent.")]}
                )
        dispute = services.dispute_open(
            subject=subject, opened_by=actor, kind=data["kind"], statement=data["statement"], consent=consent
        )
        return Response(s.dispute_out(dispute), status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(responses={200: s.AccessOut(many=True), **problems(403)}))  # 403: an API key
class AccessLogList(generics.ListAPIView[AccessLogEntry]):
    """Who checked this subject, when, for what use, and the answer (representatives only)."""

    serializer_class = s.AccessOut

    def get_queryset(self) -> QuerySet[AccessLogEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AccessLogEntry.objects.none()
        actor = _people_only(self.request, "read an access log")
        subject, _ = selectors.subject_for_representative(user=actor, public_id=self.kwargs["subject_id"])
        return services.access_log_read(subject=subject, actor=actor)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([s.access_out(e) for e in page or []])


# --- Consents ---------------------------------------------------------------------------------


# --- Erasure ----------------------------------------------------------------------------------


class ErasureView(generics.GenericAPIView[Any]):
    """Erase the caller's person (docs/api.md v1.1): permits revoked first, then personal text removed."""

    serializer_class = s.ErasureOut

    @extend_schema(
        request=s.ErasureIn,
        responses={200: s.ErasureOut, **problems(400, 403)},
        description="Needs a fresh proof of presence (403 reauthentication-required otherwise). Every active "
        "permit is revoked first (logged, grantees notified); then names, emails, profiles, subject dates, "
        "intended uses, notes, conditions' text, shown summaries and court references are removed and the "
        "account closed. Ids, statuses, digests and log leaves stay, so receipts and log proofs still verify.",
    )
    def post(self, request: Request) -> Response:
        person = _people_only(request, "erase a person")
        _parse(s.ErasureIn, request)
        erasure = services.person_erase(user=person, presence=presence_from_request(request))
        return Response(erasure.document())
