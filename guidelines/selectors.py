"""Reads for guidelines and attestations, including the look-ups the consent app relies on."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from guidelines.content import VersionContent, content_in
from guidelines.models import Adoption, Attestation, ControlProof, Guideline, GuidelineVersion, ProjectKey
from registry.accounts.models import Organization
from registry.errors import NotFound, ValidationFailed

_REF = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]{0,79})@([0-9A-Za-z.+-]{1,100})$", re.ASCII)
PUBLIC_STATUSES = (GuidelineVersion.Status.PUBLISHED, GuidelineVersion.Status.RETIRED)


def version_document(version: GuidelineVersion) -> dict[str, Any]:
    """Exactly what a published version's digest covers (hashed as RFC 8785 canonical JSON)."""
    return {
        "type": "https://restu.example/guideline-version/v1",
        "guideline": version.guideline.public_id,
        "slug": version.guideline.slug,
        "organization": version.guideline.organization.public_id,
        "version": version.version,
        "language": version.language,
        "body": version.body,
        "clauses": version.clauses,
        "translations": version.translations,
        "supersedes": version.supersedes.version if version.supersedes is not None else None,
    }


def guidelines_public() -> QuerySet[Guideline]:
    """Guidelines with at least one published (or retired) version: the public catalogue."""
    public = GuidelineVersion.objects.filter(guideline=OuterRef("pk"), status__in=PUBLIC_STATUSES)
    return Guideline.objects.filter(Exists(public)).select_related("organization")


def guideline_get(*, slug: str, member: bool) -> Guideline:
    """A guideline by slug; one without any published version exists only for its organization's members."""
    guideline = Guideline.objects.select_related("organization").filter(slug=slug).first()
    if guideline is None or not (member or guideline.versions.filter(status__in=PUBLIC_STATUSES).exists()):
        raise NotFound("No such guideline.")
    return guideline


def versions_visible(*, guideline: Guideline, member: bool) -> list[GuidelineVersion]:
    """The versions the caller may see, newest (by semver precedence) first; drafts for members only."""
    versions = guideline.versions.select_related("supersedes").order_by("-sort_key")
    if not member:
        versions = versions.filter(status__in=PUBLIC_STATUSES)
    return list(versions)


def version_get(*, guideline: Guideline, version: str, member: bool) -> GuidelineVersion:
    """One version; a draft is a 404 for anyone outside the guideline's organization."""
    found = (
        GuidelineVersion.objects.select_related("guideline__organization", "supersedes")
        .filter(guideline=guideline, version=version)
        .first()
    )
    if found is None or not (member or found.is_public):
        raise NotFound("No such version.")
    return found


def version_latest_public(*, guideline: Guideline) -> GuidelineVersion | None:
    """The highest published version, else the highest retired one."""
    versions = guideline.versions.filter(status__in=PUBLIC_STATUSES).order_by("-sort_key")
    return versions.filter(status=GuidelineVersion.Status.PUBLISHED).first() or versions.first()


def guideline_version_get_published(*, ref: str) -> GuidelineVersion:
    """The published version named ``slug@version``; ValidationFailed for anything else (drafts, retired)."""
    match = _REF.match(ref) if isinstance(ref, str) else None
    version = None
    if match:
        version = (
            GuidelineVersion.objects.select_related("guideline__organization")
            .filter(guideline__slug=match.group(1), version=match.group(2), status=GuidelineVersion.Status.PUBLISHED)
            .first()
        )
    if version is None:
        raise ValidationFailed(
            f"{ref!r} is not a published guideline version.",
            errors={"guideline": ['Name a published guideline version as "slug@version".']},
        )
    return version


def version_content(version: GuidelineVersion) -> VersionContent:
    return VersionContent(version.language, version.body, version.clauses, version.translations)


def version_in_language(version: GuidelineVersion, language: str | None) -> tuple[str, str, list[dict[str, Any]]]:
    """(language shown, body, clauses): the translation if there is one, else the original."""
    base = version_content(version)
    shown = language if language is not None and language in version.translations else version.language
    body, clauses = content_in(language=shown, base=base)
    return shown, body, clauses


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions: clauses by key, and the body as a unified diff.

    In a translation, a change is found in the original text too: a clause whose original changed
    while its translation did not is listed as changed, with ``translation_outdated`` set, so a
    reader of the translation is never told that nothing changed.
    """

    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    body_diff: str
    body_translation_outdated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "clauses": {"added": self.added, "removed": self.removed, "changed": self.changed},
            "body_diff": self.body_diff,
            "body_translation_outdated": self.body_translation_outdated,
        }


def versions_diff(*, old: GuidelineVersion, new: GuidelineVersion, language: str | None = None) -> VersionDiff:
    """Compare two versions in one language (each falls back to its original where untranslated)."""
    _, old_body, old_clauses = version_in_language(old, language)
    _, new_body, new_clauses = version_in_language(new, language)
    before = {clause["key"]: clause for clause in old_clauses}
    after = {clause["key"]: clause for clause in new_clauses}
    originals_before = {clause["key"]: clause for clause in old.clauses}
    originals_after = {clause["key"]: clause for clause in new.clauses}
    changed = []
    for key in after:
        if key not in before:
            continue
        fields = sorted(
            field
            for field in ("kind", "text", "evidence")
            if before[key][field] != after[key][field] or originals_before[key][field] != originals_after[key][field]
        )
        if not fields:
            continue
        original_text_changed = originals_before[key]["text"] != originals_after[key]["text"]
        changed.append(
            {
                "key": key,
                "changes": fields,
                "from": before[key],
                "to": after[key],
                "translation_outdated": original_text_changed and before[key]["text"] == after[key]["text"],
            }
        )
    body_diff = "".join(
        difflib.unified_diff(
            old_body.splitlines(keepends=True),
            new_body.splitlines(keepends=True),
            fromfile=old.version,
            tofile=new.version,
        )
    )
    return VersionDiff(
        added=[after[key] for key in after if key not in before],
        removed=[before[key] for key in before if key not in after],
        changed=changed,
        body_diff=body_diff,
        body_translation_outdated=not body_diff and old.body != new.body,
    )


def adoptions_of(*, version: GuidelineVersion) -> QuerySet[Adoption]:
    return version.adoptions.select_related("organization").order_by("-created")


def adopters_of(*, guideline: Guideline) -> QuerySet[Adoption]:
    return Adoption.objects.filter(version__guideline=guideline).select_related("organization", "version")


def project_keys(*, organization: Organization) -> QuerySet[ProjectKey]:
    return organization.project_keys.order_by("-created")


def project_key_get(*, organization: Organization, kid: str) -> ProjectKey:
    key = organization.project_keys.filter(kid=kid).first()
    if key is None:
        raise NotFound("No such key.")
    return key


def control_proofs(*, organization: Organization) -> QuerySet[ControlProof]:
    return organization.control_proofs.order_by("-created")


def control_proof_get(*, organization: Organization, public_id: str) -> ControlProof:
    proof = organization.control_proofs.filter(public_id=public_id).first()
    if proof is None:
        raise NotFound("No such proof.")
    return proof


def attestations_public() -> QuerySet[Attestation]:
    """Every attestation, revoked ones included (the list shows their state): they are public."""
    return Attestation.objects.select_related("project", "key", "guideline_version__guideline").prefetch_related(
        "subjects"
    )


def attestation_get(*, public_id: str) -> Attestation:
    attestation = attestations_public().filter(public_id=public_id).first()
    if attestation is None:
        raise NotFound("No such attestation.")
    return attestation


def attestation_for_release(*, project_public_id: str, digest: str) -> Attestation | None:
    """The newest unrevoked attestation by the project covering an artefact with this digest."""
    return (
        attestations_public()
        .filter(project__public_id=project_public_id, subjects__digest=digest, revoked_at__isnull=True)
        .order_by("-created", "-id")
        .first()
    )
