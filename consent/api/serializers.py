"""Input shapes (strict: unknown fields are errors) and the output documents of the consent API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from consent.models import (
    POWERS,
    AccessLogEntry,
    Consent,
    ConsentEvent,
    Dispute,
    Representative,
    Subject,
    SubjectKey,
    Vouch,
)
from consent.services import consent_signing_input, revocation_signing_input
from registry.api.serializers import StrictSerializer
from registry.lib.timestamps import rfc3339, rfc3339_or_none


def choice(choices: list[tuple[str, Any]], **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField documented by a pattern, not a named enum: ``status``, ``role`` and ``kind``
    mean different choice sets on other resources, and drf-spectacular's enum components would
    collide (with a warning that fails ``check --deploy``)."""
    values = [value for value, _ in choices]

    @extend_schema_field(
        {"type": "string", "pattern": "^(" + "|".join(values) + ")$", "description": "One of: " + ", ".join(values)}
    )
    class PatternChoiceField(serializers.ChoiceField):
        pass

    return PatternChoiceField(choices=choices, **kwargs)


# --- Input ----------------------------------------------------------------------------------


class SubjectIn(StrictSerializer):
    display_name = serializers.CharField(max_length=150)
    status = choice(Subject.Status.choices)
    adult_on = serializers.DateField(required=False, allow_null=True, default=None)
    deceased_on = serializers.DateField(required=False, allow_null=True, default=None)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    is_public = serializers.BooleanField(required=False, default=False)


class SubjectPatchIn(StrictSerializer):
    display_name = serializers.CharField(max_length=150, required=False)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    is_public = serializers.BooleanField(required=False)


class ScopeIn(StrictSerializer):
    media = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    activities = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    purposes = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class RepresentativeIn(StrictSerializer):
    email = serializers.EmailField()
    role = choice(Representative.Role.choices)
    scope = ScopeIn(required=False)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    powers = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        allow_null=True,
        max_length=len(POWERS),
        help_text="An agent's powers (default sign and revoke); self, guardian and estate hold all of them.",
    )


class KeyIn(StrictSerializer):
    public_jwk = serializers.DictField()
    signature = serializers.CharField(
        required=False,
        max_length=20000,
        help_text="Instead of a fresh re-authentication: a compact JWS by one of the subject's active keys over "
        'the canonical JSON of {"type": "restu.subject-key-add/v1", "registry": <issuer>, "subject": <id>, '
        '"kid": <RFC 7638 thumbprint of public_jwk>}.',
    )


class VouchIn(StrictSerializer):
    organization = serializers.CharField(max_length=40)


class DisputeIn(StrictSerializer):
    kind = choice(Dispute.Kind.choices)
    statement = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    consent = serializers.CharField(required=False, allow_null=True, max_length=40, default=None)


class ConditionsIn(StrictSerializer):
    attribution_required = serializers.BooleanField(required=False)
    approval_required = serializers.BooleanField(required=False)
    disclosure_label_required = serializers.BooleanField(required=False)
    compensation_ref = serializers.CharField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RevocationPolicyIn(StrictSerializer):
    policy = choice(Consent.RevocationPolicy.choices)
    notice_days = serializers.IntegerField(required=False, min_value=0, max_value=365)


class _Words(serializers.ListField):
    child = serializers.CharField(max_length=40)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=300, **kwargs)


class ConsentTermsIn(StrictSerializer):
    """The terms of a consent; the service checks them against the vocabulary and the subject."""

    effect = choice(Consent.Effect.choices)
    grantee = serializers.CharField(max_length=40)
    production = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    media = _Words()
    activities = _Words(required=False)
    purposes = _Words()
    intended_use = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    territories = _Words()
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    conditions = ConditionsIn(required=False)
    revocation = RevocationPolicyIn(required=False)
    representation = choice(Consent.Representation.choices, required=False)
    court_approval_ref = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    guideline = serializers.CharField(max_length=120, required=False, allow_null=True)


class ConsentIn(ConsentTermsIn):
    subject = serializers.CharField(max_length=40)


class ConsentPatchIn(ConsentTermsIn):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class ErasureIn(StrictSerializer):
    confirm = choice([("erase", "erase")], help_text='Must be "erase": the erasure cannot be undone.')


class SignIn(StrictSerializer):
    method = choice(Consent.Method.choices)
    signature = serializers.CharField(required=False, max_length=20000)
    language = choice([("en", "English"), ("id", "Bahasa Indonesia")], required=False)
    notice_digest = serializers.CharField(required=False, max_length=80)


class RevokeIn(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    method = choice(Consent.Method.choices, required=False, default="witnessed")
    signature = serializers.CharField(required=False, max_length=20000)


# --- Output (plain dicts, documented for the schema by the serializers after them) -------------


def _date(value: Any) -> str | None:
    return value.isoformat() if value else None


def representative_out(rep: Representative) -> dict[str, Any]:
    return {
        "id": rep.public_id,
        "user": rep.user.public_id,
        "role": rep.role,
        "delegated_by": rep.delegated_by.public_id if rep.delegated_by_id and rep.delegated_by else None,
        "scope": rep.scope or None,
        "powers": rep.effective_powers,
        "valid_until": _date(rep.valid_until),
        "created": rfc3339(rep.created),
        "ended_at": rfc3339_or_none(rep.ended_at),
    }


def representative_invitation_out(invitation: Any) -> dict[str, Any]:
    """An invitation to represent a subject: the same shape whether or not the address has an account."""
    terms = invitation.payload or {}
    return {
        "status": "invited",
        "id": invitation.public_id,
        "subject": invitation.target,
        "email": invitation.email,
        "role": terms.get("role"),
        "powers": terms.get("powers"),
        "scope": terms.get("scope") or None,
        "valid_until": terms.get("valid_until"),
        "expires_at": rfc3339(invitation.expires_at),
    }


def key_out(key: SubjectKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "id": key.public_id,
        "public_jwk": key.public_jwk,
        "created": rfc3339(key.created),
        "retired_at": rfc3339_or_none(key.retired_at),
    }


def vouch_out(vouch: Vouch) -> dict[str, Any]:
    return {
        "id": vouch.public_id,
        "subject": vouch.subject.public_id,
        "organization": vouch.organization.public_id,
        "created": rfc3339(vouch.created),
        "revoked_at": rfc3339_or_none(vouch.revoked_at),
    }


def subject_out(subject: Subject, *, private: bool) -> dict[str, Any]:
    """Representatives (``private``) see everything; others the public profile only."""
    profile = getattr(subject, "profile", None)
    public_profile = None
    if profile is not None and profile.is_public:
        public_profile = {"display_name": profile.display_name, "bio": profile.bio}
    body: dict[str, Any] = {
        "id": subject.public_id,
        "assurance": subject.assurance,
        "public_profile": public_profile,
    }
    if not private:
        return body
    body.update(
        {
            "status": subject.status,
            "adult_on": _date(subject.adult_on),
            "deceased_on": _date(subject.deceased_on),
            "disputed": subject.disputed,
            "profile": {
                "display_name": profile.display_name,
                "bio": profile.bio,
                "notes": profile.notes,
                "is_public": profile.is_public,
            }
            if profile is not None
            else None,
            "representatives": [
                representative_out(r)
                for r in subject.representatives.select_related("user", "delegated_by").order_by("created")
            ],
            "keys": [key_out(k) for k in subject.keys.order_by("created")],
            "vouches": [vouch_out(vch) for vch in subject.vouches.select_related("organization").order_by("created")],
            "created": rfc3339(subject.created),
            "updated": rfc3339(subject.updated),
        }
    )
    return body


def consent_out(consent: Consent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": consent.public_id,
        "subject": consent.subject.public_id,
        "status": consent.status,
        **{k: v for k, v in consent.terms.items() if k not in ("type", "registry", "id", "subject")},
        "digest": consent.digest,
        "created": rfc3339(consent.created),
        "updated": rfc3339(consent.updated),
    }
    if consent.status == Consent.Status.DRAFT:
        body["signing_input"] = consent_signing_input(consent)
        return body
    body["signature"] = {
        "method": consent.method,
        "signed_at": rfc3339_or_none(consent.signed_at),
        "signer": consent.signed_by.public_id if consent.signed_by else None,
        "kid": consent.signer_kid,
        "jws": consent.signature,
        "second_factor": consent.second_factor,
        "notice_digest": consent.notice_digest,
        "notice_language": consent.notice_language,
    }
    body["summary"] = consent.notice_summary
    if consent.status == Consent.Status.ACTIVE:
        body["revocation_signing_input"] = revocation_signing_input(consent)
    if consent.status == Consent.Status.REVOKED:
        body["revoked"] = {
            "at": rfc3339_or_none(consent.revoked_at),
            "effective_at": rfc3339_or_none(consent.revocation_effective_at),
            "by": consent.revoked_by.public_id if consent.revoked_by else None,
        }
    if consent.status == Consent.Status.EXPIRED:
        body["expired_at"] = rfc3339_or_none(consent.expired_at)
    return body


def event_out(event: ConsentEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "at": rfc3339(event.at),
        "actor": event.actor.public_id if event.actor else None,
        "digest": event.digest or None,
        "log_index": event.log_index,
    }


def access_out(entry: AccessLogEntry) -> dict[str, Any]:
    return {
        "at": rfc3339(entry.created),
        "kind": entry.kind,
        "caller": {
            "organization": entry.caller_org.public_id if entry.caller_org else None,
            "organization_name": entry.caller_org.name if entry.caller_org else None,
            "api_key": entry.caller_key.public_id if entry.caller_key else None,
        },
        "query": entry.query,
        "decision": entry.decision,
        "consent": entry.consent.public_id if entry.consent else None,
        "receipt": entry.receipt_id or None,
    }


def dispute_out(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.public_id,
        "subject": dispute.subject.public_id,
        "kind": dispute.kind,
        "consent": dispute.consent.public_id if dispute.consent else None,
        "status": dispute.status,
        "created": rfc3339(dispute.created),
    }


# Schema-only descriptions of the outputs above.


class SubjectOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    assurance = choice(Subject.Assurance.choices)
    public_profile = serializers.DictField(allow_null=True)
    status = choice(Subject.Status.choices, required=False)
    adult_on = serializers.DateField(required=False, allow_null=True)
    deceased_on = serializers.DateField(required=False, allow_null=True)
    disputed = serializers.BooleanField(required=False)
    profile = serializers.DictField(required=False, allow_null=True)
    representatives = serializers.ListField(child=serializers.DictField(), required=False)
    keys = serializers.ListField(child=serializers.DictField(), required=False)
    vouches = serializers.ListField(child=serializers.DictField(), required=False)


class ConsentOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    subject = serializers.CharField()
    status = choice(Consent.Status.choices)
    effect = choice(Consent.Effect.choices)
    grantee = serializers.CharField()
    digest = serializers.CharField()
    signing_input = serializers.CharField(required=False, help_text="Drafts: base64url of the canonical terms.")
    signature = serializers.DictField(required=False)
    summary = serializers.CharField(required=False)


class EventOut(serializers.Serializer[Any]):
    type = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    digest = serializers.CharField(allow_null=True)
    log_index = serializers.IntegerField(allow_null=True)


class AccessOut(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    caller = serializers.DictField()
    query = serializers.DictField()
    decision = serializers.CharField()
    consent = serializers.CharField(allow_null=True)


class KeyOut(serializers.Serializer[Any]):
    kid = serializers.CharField()
    public_jwk = serializers.DictField()
    retired_at = serializers.DateTimeField(allow_null=True)


class VouchOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    organization = serializers.CharField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class RepresentativeOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    user = serializers.CharField()
    role = serializers.CharField()
    powers = serializers.ListField(child=serializers.ChoiceField(choices=POWERS))


class RepresentativeInvitationOut(serializers.Serializer[Any]):
    status = serializers.CharField(help_text="Always invited: the invitee accepts before any authority starts.")
    id = serializers.CharField()
    subject = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.CharField()
    powers = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField()


class DisputeOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    status = serializers.CharField()


class AcknowledgementOut(serializers.Serializer[Any]):
    event = serializers.CharField()
    event_type = serializers.CharField()
    organization = serializers.CharField()
    organization_name = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()


class ErasureOut(serializers.Serializer[Any]):
    erased = serializers.DictField()
    revoked = serializers.IntegerField()
    representations_ended = serializers.IntegerField()
    subjects = serializers.ListField(child=serializers.CharField())
    kept = serializers.DictField()


# --- What answers carry for the log and for media (docs/api.md "Witnessed log", "Provenance") ----------

LOG_PROOF_HELP = (
    "C2SP tlog-proof (c2sp.org/tlog-proof@v1) of the cited consent's consent.signed leaf: its canonical "
    "bytes in the extra line, the index, the inclusion proof and the newest witnessed checkpoint with "
    "its cosignatures (the newest signed one when the registry has no witness policy). Null when the "
    "answer cites no consent or no such checkpoint covers the leaf yet. Not covered by a bulk batch "
    "digest nor by a release's report digest: it changes as the log is witnessed further."
)


def log_proof_field() -> serializers.CharField:
    return serializers.CharField(allow_null=True, help_text=LOG_PROOF_HELP)


# Built with ``inline_serializer`` because a declared field named ``data`` would hide the
# serializer's own ``data``; made once, so the schema has one component of that name.
C2paAssertionOut = type(
    inline_serializer(
        "C2paAssertion",
        {
            "label": choice([("org.restu.consent", ""), ("cawg.training-mining", "")]),
            "data": serializers.DictField(
                help_text=(
                    'org.restu.consent: {"receipt", "consent", "subject", "log_proof"}; cawg.training-mining: '
                    '{"entries": {"cawg.ai_training" | "cawg.ai_generative_training" | "cawg.data_mining" | '
                    '"cawg.ai_inference": {"use": "allowed" | "notAllowed"}}}'
                )
            ),
        },
    )
)


def c2pa_assertions_field(when: str) -> Any:
    """A list of ready-to-embed C2PA assertions (``consent.c2pa``), or null."""
    return C2paAssertionOut(
        many=True, allow_null=True, help_text=f"The C2PA assertions to embed in the media ({when}); null otherwise."
    )


class ReleaseAppearanceOut(serializers.Serializer[Any]):
    """One appearance (subject and medium) of a release's clearance report."""

    subject = serializers.CharField()
    medium = serializers.CharField()
    purpose = serializers.CharField()
    decision = serializers.ChoiceField(choices=["permitted", "denied", "unknown"])
    consent = serializers.CharField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    flags = serializers.ListField(child=serializers.CharField())
    territories = serializers.DictField(child=serializers.CharField(), help_text="The decision in each territory.")
    log_proof = log_proof_field()
    c2pa_assertions = c2pa_assertions_field("every appearance of a cleared release, under the release's receipt")
