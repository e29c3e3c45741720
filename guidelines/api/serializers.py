"""Input shapes (strict) and output dicts for guidelines, keys, proofs and attestations."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from guidelines.models import Adoption, Attestation, ControlProof, Guideline, GuidelineVersion, ProjectKey
from guidelines.rendering import render_markdown
from guidelines.selectors import version_in_language
from guidelines.vocabulary import SAFEGUARDS
from registry.api.serializers import StrictSerializer


class GuidelineIn(StrictSerializer):
    # An API key acts for its own organization and may leave this out; a person names one.
    organization = serializers.CharField(max_length=40, required=False)
    slug = serializers.SlugField(max_length=80)
    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class VersionIn(StrictSerializer):
    """A draft's content; the service checks semver, clause keys and translations."""

    version = serializers.CharField(max_length=100)
    language = serializers.CharField(max_length=8, default="en")
    body = serializers.CharField(max_length=100_000)
    # Kept as raw JSON so the service can name the offending clause or translation exactly.
    clauses = serializers.JSONField()
    translations = serializers.JSONField(required=False, default=dict)
    supersedes = serializers.CharField(max_length=100, required=False, allow_null=True, default=None)
    translations_reviewed = serializers.JSONField(
        required=False,
        default=None,
        help_text='Translations still correct although their original changed: {"id": ["clause-key", "body"]}.',
    )


class VersionPatchIn(StrictSerializer):
    language = serializers.CharField(max_length=8, required=False)
    body = serializers.CharField(max_length=100_000, required=False)
    clauses = serializers.JSONField(required=False)
    translations = serializers.JSONField(required=False)
    supersedes = serializers.CharField(max_length=100, required=False, allow_null=True)
    translations_reviewed = serializers.JSONField(
        required=False,
        help_text='Translations still correct although their original changed: {"id": ["clause-key", "body"]}.',
    )


class AdoptionIn(StrictSerializer):
    # An API key acts for its own organization and may leave this out; a person names one.
    organization = serializers.CharField(max_length=40, required=False)


class ProjectKeyIn(StrictSerializer):
    public_jwk = serializers.JSONField()


class ProofIn(StrictSerializer):
    kind = serializers.CharField(max_length=12, help_text="domain or repository")
    target = serializers.CharField(max_length=500)


class AttestationIn(StrictSerializer):
    envelope = serializers.JSONField()
    project = serializers.CharField(max_length=40, required=False)


class AttestationRevokeIn(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def guideline_out(guideline: Guideline, versions: list[GuidelineVersion] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": guideline.public_id,
        "organization": guideline.organization.public_id,
        "slug": guideline.slug,
        "title": guideline.title,
        "summary": guideline.summary,
        "created": guideline.created,
    }
    if versions is not None:
        body["versions"] = [
            {"version": v.version, "status": v.status, "digest": v.digest or None, "published_at": v.published_at}
            for v in versions
        ]
    return body


def version_out(version: GuidelineVersion, language: str | None = None) -> dict[str, Any]:
    """The version in its original language with its translations, or (``language``) as translated."""
    out: dict[str, Any] = {
        "id": version.public_id,
        "guideline": version.guideline.slug,
        "version": version.version,
        "ref": version.ref,
        "status": version.status,
        "digest": version.digest or None,
        "supersedes": version.supersedes.version if version.supersedes is not None else None,
        "published_at": version.published_at,
        "retired_at": version.retired_at,
        "created": version.created,
        "updated": version.updated,
        "languages": [version.language, *version.translations],
        "translations_outdated": version.translations_outdated,
    }
    if language is None:
        out.update(language=version.language, body=version.body, clauses=version.clauses)
        out["translations"] = version.translations
    else:
        shown, body, clauses = version_in_language(version, language)
        out.update(language=shown, original_language=version.language, body=body, clauses=clauses)
    out["body_html"] = str(render_markdown(out["body"]))
    return out


def adoption_out(adoption: Adoption) -> dict[str, Any]:
    return {
        "id": adoption.public_id,
        "organization": adoption.organization.public_id,
        "organization_name": adoption.organization.name,
        "guideline": adoption.version.ref,
        "created": adoption.created,
    }


def project_key_out(key: ProjectKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "id": key.public_id,
        "public_jwk": {**key.public_jwk, "kid": key.kid},
        "status": "active" if key.is_active else "retired",
        "created": key.created,
        "retired_at": key.retired_at,
    }


def proof_out(proof: ControlProof) -> dict[str, Any]:
    return {
        "id": proof.public_id,
        "kind": proof.kind,
        "target": proof.target,
        "token": proof.token,
        "publish_at": proof.url,
        "instructions": (
            f"Publish a text file at {proof.url} containing this line: {proof.token}"
            if proof.kind == ControlProof.Kind.DOMAIN
            else f"Commit a file reachable at {proof.url} containing this line: {proof.token}"
        ),
        "status": proof.status,
        "last_error": proof.last_error or None,
        "checked_at": proof.checked_at,
        "verified_at": proof.verified_at,
        "created": proof.created,
    }


def attestation_out(attestation: Attestation) -> dict[str, Any]:
    return {
        "id": attestation.public_id,
        "project": attestation.project.public_id,
        "status": "revoked" if attestation.is_revoked else "active",
        "key": attestation.key.kid,
        "guideline": attestation.guideline_version.ref,
        "guideline_digest": attestation.guideline_version.digest,
        "subjects": [{"name": s.name, "digest": s.digest} for s in attestation.subjects.all()],
        "release": {"version": attestation.release_version, "url": attestation.release_url or None},
        "safeguards": attestation.safeguards,
        "clauses": attestation.results,
        "claims": attestation.claims,
        "payload_digest": attestation.payload_digest,
        "envelope": attestation.envelope,
        "created": attestation.created,
        "revoked_at": attestation.revoked_at,
        "revoked_reason": attestation.revoked_reason or None,
    }


def safeguards_out() -> list[dict[str, Any]]:
    return [{"key": key, "label": labels} for key, labels in SAFEGUARDS.items()]


# --- Schema-only descriptions of the outputs above ------------------------------------------------


class VersionSummaryOut(serializers.Serializer[Any]):
    version = serializers.CharField()
    status = serializers.CharField(help_text="As the version's own status (draft, published, retired).")
    digest = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class GuidelineOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    organization = serializers.CharField()
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
    versions = VersionSummaryOut(many=True, required=False, help_text="In a guideline's own answer, not in lists.")


class VersionOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    guideline = serializers.CharField(help_text="The guideline's slug.")
    version = serializers.CharField()
    ref = serializers.CharField(help_text="slug@version")
    status = serializers.ChoiceField(choices=GuidelineVersion.Status.choices)
    digest = serializers.CharField(allow_null=True)
    supersedes = serializers.CharField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    retired_at = serializers.DateTimeField(allow_null=True)
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    languages = serializers.ListField(child=serializers.CharField())
    translations_outdated = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='By language: clause keys (and "body") whose original changed after translation. '
        "Publishing refuses (400) until each is translated again or confirmed with translations_reviewed.",
    )
    language = serializers.CharField()
    original_language = serializers.CharField(required=False, help_text="With ?lang= only.")
    body = serializers.CharField(allow_blank=True)
    body_html = serializers.CharField(allow_blank=True)
    clauses = serializers.ListField(child=serializers.DictField())
    translations = serializers.DictField(required=False, help_text="Without ?lang= only.")


class DiffOut(serializers.Serializer[Any]):
    guideline = serializers.CharField()
    # "from" is a Python keyword: declared below.
    to = serializers.CharField()
    clauses = serializers.DictField(child=serializers.ListField(child=serializers.DictField()))
    body_diff = serializers.CharField(allow_blank=True)
    body_translation_outdated = serializers.BooleanField(
        help_text="The original body changed but this language's text did not."
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        return {"guideline": fields.pop("guideline"), "from": serializers.CharField(), **fields}


class AdoptionOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    organization = serializers.CharField()
    organization_name = serializers.CharField()
    guideline = serializers.CharField(help_text="slug@version")
    created = serializers.DateTimeField()


class ProjectKeyOut(serializers.Serializer[Any]):
    kid = serializers.CharField()
    id = serializers.CharField()
    public_jwk = serializers.DictField()
    status = serializers.ChoiceField(choices=["active", "retired"])
    created = serializers.DateTimeField()
    retired_at = serializers.DateTimeField(allow_null=True)


class ProofOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    kind = serializers.CharField(help_text="domain or repository")
    target = serializers.CharField()
    token = serializers.CharField()
    publish_at = serializers.CharField()
    instructions = serializers.CharField()
    status = serializers.ChoiceField(choices=ControlProof.Status.choices)
    last_error = serializers.CharField(allow_null=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    created = serializers.DateTimeField()


class AttestationOut(serializers.Serializer[Any]):
    id = serializers.CharField()
    project = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "revoked"])
    key = serializers.CharField()
    guideline = serializers.CharField(help_text="slug@version")
    guideline_digest = serializers.CharField()
    subjects = serializers.ListField(child=serializers.DictField())
    release = serializers.DictField()
    safeguards = serializers.ListField(child=serializers.CharField())
    clauses = serializers.DictField()
    claims = serializers.DictField()
    payload_digest = serializers.CharField()
    envelope = serializers.DictField()
    created = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField(allow_null=True)


class SafeguardOut(serializers.Serializer[Any]):
    key = serializers.CharField()
    # The metaclass takes declared fields off the class: this field does not replace Field.label.
    label = serializers.DictField(child=serializers.CharField(), help_text="By language.")  # type: ignore[assignment]  # see above
