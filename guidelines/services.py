"""Every write to guidelines, adoptions, project keys, control proofs and attestations.

State changes that matter (a version published or retired, a key added or retired, an
attestation stored or revoked) happen here, each in one transaction with its outbox event and
its log leaf, the leaf last (it takes the log's lock until commit).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from guidelines import content as c
from guidelines.fetch import FetchError, proof_fetcher, url_refusal
from guidelines.models import (
    Adoption,
    Attestation,
    AttestationSubject,
    ControlProof,
    Guideline,
    GuidelineVersion,
    ProjectKey,
)
from guidelines.selectors import guideline_version_get_published, version_content, version_document
from guidelines.statements import MAX_ENVELOPE_BYTES, PAYLOAD_TYPE, clause_results, statement_parse
from registry.accounts.models import ROLE_RANK, Membership, Organization, User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, NotAllowed, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import canonical_json, sha256_digest
from registry.lib.signing import DSSEError, dsse_verify, jwk_thumbprint, normalize_public_jwk
from registry.transparency.services import log_append

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", re.ASCII
)


class PayloadTooLarge(ValidationFailed):
    """The envelope is larger than an attestation may be."""

    status = 413
    title = "Request body too large"


def _require_admin(actor_role: str | None) -> None:
    if actor_role is None or ROLE_RANK.get(actor_role, 0) < ROLE_RANK[Membership.Role.ADMIN]:
        raise NotAllowed(_("This needs the owner or admin role in the organization."))


def _require_project(organization: Organization, field: str = "organization") -> None:
    if organization.kind != Organization.Kind.PROJECT:
        raise ValidationFailed(
            _("Only project organizations publish guidelines, keys and attestations."),
            errors={field: [_("Must be an organization of kind 'project'.")]},
        )


# --- guidelines and versions --------------------------------------------------------------


def guideline_create(
    *, organization: Organization, actor_role: str | None, slug: str, title: str, summary: str = ""
) -> Guideline:
    """Create a guideline for a project organization (owners and admins); it has no versions yet."""
    _require_admin(actor_role)
    _require_project(organization)
    try:
        with transaction.atomic():
            return Guideline.objects.create(organization=organization, slug=slug, title=title, summary=summary)
    except IntegrityError:
        raise ValidationFailed(
            _("That short name is taken."), errors={"slug": [_("A guideline with this short name exists.")]}
        ) from None


def guideline_start(
    *,
    organization: Organization,
    actor_role: str | None,
    actor: User | None,
    slug: str,
    title: str,
    summary: str = "",
    **version: Any,
) -> GuidelineVersion:
    """A new guideline and its first draft, together or not at all (the editor's "new guideline")."""
    with transaction.atomic():
        guideline = guideline_create(
            organization=organization, actor_role=actor_role, slug=slug, title=title, summary=summary
        )
        return guideline_version_create(guideline=guideline, actor_role=actor_role, actor=actor, **version)


def _supersedes(guideline: Guideline, version: str | None, sort_key: str) -> GuidelineVersion | None:
    if not version:
        return None
    older = guideline.versions.filter(version=version).exclude(status=GuidelineVersion.Status.DRAFT).first()
    if older is None or older.sort_key >= sort_key:
        raise ValidationFailed(
            _("A version supersedes an earlier published version of the same guideline."),
            errors={"supersedes": [_("No earlier published version with this number.")]},
        )
    return older


def guideline_version_create(
    *,
    guideline: Guideline,
    actor_role: str | None,
    actor: User | None,
    version: str,
    body: Any,
    clauses: Any,
    language: Any = "en",
    translations: Any = None,
    supersedes: str | None = None,
    translations_reviewed: Any = None,
) -> GuidelineVersion:
    """Write a draft version; it stays editable until it is published.

    A translation carried over from the version it starts from (the closest earlier one) while its
    original text changed is marked outdated, so that publishing asks for it.
    """
    _require_admin(actor_role)
    sort_key = c.semver_sort_key(version)
    content = c.content_validate(language=language, body=body, clauses=clauses, translations=translations)
    reviewed = c.reviewed_validate(translations_reviewed)
    duplicate = ValidationFailed(
        _("Version %(number)s of this guideline already exists.") % {"number": version},
        errors={"version": [_("This version exists already.")]},
    )
    if guideline.versions.filter(version=version).exists():
        raise duplicate
    older = _supersedes(guideline, supersedes, sort_key)
    basis = guideline.versions.filter(sort_key__lt=sort_key).order_by("-sort_key").first()
    outdated = c.translations_outdated(
        before=version_content(basis) if basis else None,
        after=content,
        marked=basis.translations_outdated if basis else None,
        reviewed=reviewed,
    )
    try:
        with transaction.atomic():
            return GuidelineVersion.objects.create(
                guideline=guideline,
                version=version,
                sort_key=sort_key,
                language=content.language,
                body=content.body,
                clauses=content.clauses,
                translations=content.translations,
                translations_outdated=outdated,
                supersedes=older,
                created_by=actor,
            )
    except IntegrityError:  # created by a concurrent request since the check above
        raise duplicate from None


def guideline_version_update(
    *, version: GuidelineVersion, actor_role: str | None, translations_reviewed: Any = None, **changes: Any
) -> GuidelineVersion:
    """Edit a draft. A published or retired version never changes (409).

    Where an original text changes and its translation does not, the translation is marked
    outdated; ``translations_reviewed`` (``{language: [key or "body", …]}``) confirms some as still right.
    """
    _require_admin(actor_role)
    reviewed = c.reviewed_validate(translations_reviewed)
    with transaction.atomic():
        locked = GuidelineVersion.objects.select_for_update().select_related("guideline").get(pk=version.pk)
        if locked.status != GuidelineVersion.Status.DRAFT:
            raise Conflict(_("This version is published; its content can no longer change. Write a new version."))
        content = c.content_validate(
            language=changes.get("language", locked.language),
            body=changes.get("body", locked.body),
            clauses=changes.get("clauses", locked.clauses),
            translations=changes.get("translations", locked.translations),
        )
        if "supersedes" in changes:
            locked.supersedes = _supersedes(locked.guideline, changes["supersedes"], locked.sort_key)
        locked.translations_outdated = c.translations_outdated(
            before=version_content(locked), after=content, marked=locked.translations_outdated, reviewed=reviewed
        )
        locked.language, locked.body = content.language, content.body
        locked.clauses, locked.translations = content.clauses, content.translations
        locked.updated = timezone.now()
        locked.save()
    return locked


def guideline_version_publish(*, version: GuidelineVersion, actor_role: str | None) -> GuidelineVersion:
    """Publish a draft: validate, freeze, digest its canonical JSON, log it. Never twice (409)."""
    _require_admin(actor_role)
    with transaction.atomic():
        locked = (
            GuidelineVersion.objects.select_for_update().select_related("guideline__organization").get(pk=version.pk)
        )
        if locked.status != GuidelineVersion.Status.DRAFT:
            raise Conflict(_("This version is already published; a published version never changes."))
        c.content_validate(
            language=locked.language, body=locked.body, clauses=locked.clauses, translations=locked.translations
        )
        _require_current_translations(locked)
        now = timezone.now()
        locked.status = GuidelineVersion.Status.PUBLISHED
        locked.published_at = now
        locked.digest = sha256_digest(canonical_json(version_document(locked)))
        locked.updated = now
        locked.save()
        event_record(
            type="guideline.published",
            payload={
                "guideline": locked.guideline.public_id,
                "version": locked.version,
                "ref": locked.ref,
                "digest": locked.digest,
            },
        )
        log_append(type="guideline.published", ref=locked.public_id, digest=locked.digest, at=now)
    return locked


def _require_current_translations(version: GuidelineVersion) -> None:
    """Refuse to publish while a translation still says what the original said before it changed."""
    outdated = {lang: keys for lang, keys in version.translations_outdated.items() if keys}
    if not outdated:
        return
    errors: dict[str, list[str]] = {}
    for lang, keys in outdated.items():
        for key in keys:
            field = f"translations.{lang}.body" if key == c.BODY else f"translations.{lang}.clauses.{key}"
            errors[field] = [_("The original text changed; update this translation or confirm it is still correct.")]
    names = ", ".join(key if key != c.BODY else _("main text") for keys in outdated.values() for key in keys)
    raise ValidationFailed(
        _(
            "Some translations are out of date: the English text changed after they were written (%(names)s). "
            "Update each translation, or confirm it is still correct, before you publish."
        )
        % {"names": names},
        errors=errors,
    )


def guideline_version_retire(*, version: GuidelineVersion, actor_role: str | None) -> GuidelineVersion:
    """Retire a published version: it stays readable, but nobody can newly adopt or attest to it."""
    _require_admin(actor_role)
    with transaction.atomic():
        locked = GuidelineVersion.objects.select_for_update().select_related("guideline").get(pk=version.pk)
        if locked.status != GuidelineVersion.Status.PUBLISHED:
            raise Conflict("Only a published version can be retired.")
        now = timezone.now()
        locked.status = GuidelineVersion.Status.RETIRED
        locked.retired_at = now
        locked.updated = now
        locked.save()
        event_record(
            type="guideline.retired",
            payload={"guideline": locked.guideline.public_id, "version": locked.version, "digest": locked.digest},
        )
        log_append(type="guideline.retired", ref=locked.public_id, digest=locked.digest, at=now)
    return locked


def adoption_create(
    *, version: GuidelineVersion, organization: Organization, actor_role: str | None, actor: User | None
) -> Adoption:
    """An organization states that it follows a published version (owners and admins)."""
    _require_admin(actor_role)
    if version.status != GuidelineVersion.Status.PUBLISHED:
        raise Conflict("Only a published (not retired) version can be adopted.")
    try:
        with transaction.atomic():
            adoption = Adoption.objects.create(organization=organization, version=version, created_by=actor)
            event_record(
                type="guideline.adopted",
                payload={"adoption": adoption.public_id, "organization": organization.public_id, "ref": version.ref},
            )
    except IntegrityError:
        raise Conflict("This organization already adopted this version.") from None
    return adoption


# --- project keys -------------------------------------------------------------------------


def project_key_add(
    *,
    organization: Organization,
    actor_role: str | None,
    actor: User | None,
    public_jwk: Any,
    presence: Presence | None,
) -> ProjectKey:
    """Register an Ed25519 public key for signing attestations; its kid is the RFC 7638 thumbprint.

    A signing key lets its holder attest on the project's behalf, so only a person (never an API
    key: callers check ``require_person``) who proved just now that they are at the keyboard may
    register one.
    """
    _require_admin(actor_role)
    require_presence(presence, action="register a signing key")
    _require_project(organization)
    if isinstance(public_jwk, dict) and "d" in public_jwk:
        raise ValidationFailed(
            "That is a private key. Never send it anywhere; send only the public part.",
            errors={"public_jwk": ["Contains a private key (d)."]},
        )
    try:
        jwk = normalize_public_jwk(public_jwk)
        kid = jwk_thumbprint(jwk)
    except ValueError as exc:
        raise ValidationFailed(f"Not an Ed25519 public key: {exc}.", errors={"public_jwk": [str(exc)]}) from None
    claimed = public_jwk.get("kid")
    if claimed is not None and claimed != kid:
        raise ValidationFailed(
            "The kid must be the key's RFC 7638 thumbprint (or left out).", errors={"public_jwk.kid": [f"Use {kid}."]}
        )
    if ProjectKey.objects.filter(organization=organization, kid=kid).exists():
        raise Conflict("This key is already registered for the project (keys are retired, never re-added).")
    with transaction.atomic():
        key = ProjectKey.objects.create(organization=organization, kid=kid, public_jwk=jwk, created_by=actor)
        digest = sha256_digest(canonical_json(jwk))
        event_record(
            type="project_key.added",
            payload={"project": organization.public_id, "key": key.public_id, "kid": kid, "digest": digest},
        )
        log_append(type="project_key.added", ref=key.public_id, digest=digest, at=key.created)
    return key


def project_key_retire(*, key: ProjectKey, actor_role: str | None, presence: Presence | None) -> ProjectKey:
    """Retire a key: it signs nothing new; attestations it signed before stay valid. Idempotent.

    People only, with a fresh proof of presence, like registering (retiring the project's real key
    would let a forged one be the only active key left).
    """
    _require_admin(actor_role)
    require_presence(presence, action="retire a signing key")
    with transaction.atomic():
        locked = ProjectKey.objects.select_for_update().select_related("organization").get(pk=key.pk)
        if locked.retired_at is not None:
            return locked
        locked.retired_at = timezone.now()
        locked.save(update_fields=["retired_at"])
        digest = sha256_digest(canonical_json(locked.public_jwk))
        event_record(
            type="project_key.retired",
            payload={"project": locked.organization.public_id, "key": locked.public_id, "kid": locked.kid},
        )
        log_append(type="project_key.retired", ref=locked.public_id, digest=digest, at=locked.retired_at)
    return locked


# --- proofs of control ----------------------------------------------------------------------


def control_proof_create(*, organization: Organization, actor_role: str | None, kind: str, target: str) -> ControlProof:
    """Issue a token for the project to publish on its domain or in its repository."""
    _require_admin(actor_role)
    _require_project(organization)
    if kind == ControlProof.Kind.DOMAIN:
        domain = target.strip().lower().rstrip(".")
        if not _DOMAIN.match(domain) or domain == "localhost" or domain.endswith((".localhost", ".local")):
            raise ValidationFailed(
                _("Give a public domain name such as example.org."), errors={"target": [_("Not a domain.")]}
            )
        target, url = domain, f"https://{domain}/.well-known/restu.txt"
    elif kind == ControlProof.Kind.REPOSITORY:
        repository = organization.repository_url.rstrip("/")
        if not repository:
            raise ValidationFailed(
                _("Set the project's repository URL first."),
                errors={"target": [_("The project has no repository URL.")]},
            )
        if not target.startswith(repository + "/"):
            raise ValidationFailed(
                _("The file must be in the project's repository."),
                errors={"target": [_("A URL under %(url)s/ (for example its raw file link).") % {"url": repository}]},
            )
        url = target
    else:
        raise ValidationFailed(_("Unknown proof kind."), errors={"kind": [_("domain or repository.")]})
    refusal = url_refusal(url)
    if refusal:
        raise ValidationFailed(
            _("The registry will not fetch this: %(reason)s.") % {"reason": refusal}, errors={"target": [refusal]}
        )
    return ControlProof.objects.create(
        organization=organization, kind=kind, target=target, url=url, token=f"restu-proof-{secrets.token_urlsafe(24)}"
    )


def control_proof_check(*, proof: ControlProof, actor_role: str | None) -> ControlProof:
    """Fetch the published token (outside any transaction: it is network I/O) and record the outcome."""
    _require_admin(actor_role)
    error = ""
    try:
        text = proof_fetcher()(proof.url).decode("utf-8", errors="replace")
    except FetchError as exc:
        error = exc.reason
    else:
        if not any(constant_time_compare(line.strip(), proof.token) for line in text.splitlines()):
            error = "the token was not found in the file"
    now = timezone.now()
    proof.checked_at = now
    proof.status = ControlProof.Status.FAILED if error else ControlProof.Status.VERIFIED
    proof.last_error = error[:200]
    if not error:
        proof.verified_at = now
    proof.save(update_fields=["checked_at", "status", "last_error", "verified_at"])
    return proof


# --- attestations ---------------------------------------------------------------------------


def attestation_store(*, project: Organization, actor_role: str | None, envelope: Any) -> Attestation:
    """Verify a DSSE-signed conformance statement against the project's active keys, and record it."""
    _require_admin(actor_role)
    _require_project(project, field="project")
    if not isinstance(envelope, dict):
        raise ValidationFailed("The envelope is a DSSE JSON object.", errors={"envelope": ["Not an object."]})
    if len(json.dumps(envelope, separators=(",", ":"))) > MAX_ENVELOPE_BYTES:
        raise PayloadTooLarge("The envelope is larger than 256 KiB.")
    keys = {key.kid: key for key in ProjectKey.objects.filter(organization=project, retired_at__isnull=True)}
    try:
        verified = dsse_verify(envelope, [{**key.public_jwk, "kid": kid} for kid, key in keys.items()])
    except DSSEError as exc:
        raise ValidationFailed(
            f"The envelope did not verify against the project's active keys: {exc.reason}.",
            errors={"envelope": [exc.reason]},
        ) from None
    if verified.payload_type != PAYLOAD_TYPE:
        raise ValidationFailed(
            "The envelope does not carry an in-toto statement.",
            errors={"envelope.payloadType": [f"Use {PAYLOAD_TYPE}."]},
        )
    statement = statement_parse(verified.payload)
    version = guideline_version_get_published(ref=statement.guideline)
    keys_in_version = {clause["key"] for clause in version.clauses}
    unknown = sorted(set(statement.claims) - keys_in_version)
    if unknown:
        raise ValidationFailed(
            f"The guideline version has no clause {', '.join(unknown)}.",
            errors={f"predicate.clauses.{key}": ["No such clause in this version."] for key in unknown},
        )
    payload_digest = sha256_digest(verified.payload)
    if Attestation.objects.filter(project=project, payload_digest=payload_digest, revoked_at__isnull=True).exists():
        raise Conflict("This statement is already on record for the project.")
    with transaction.atomic():
        attestation = Attestation.objects.create(
            project=project,
            key=keys[verified.keyid],
            guideline_version=version,
            envelope=envelope,
            payload_digest=payload_digest,
            statement=statement.document,
            claims=statement.claims,
            safeguards=statement.safeguards,
            results=clause_results(version.clauses, statement.claims, statement.safeguards),
            release_version=statement.release_version,
            release_url=statement.release_url,
        )
        AttestationSubject.objects.bulk_create(
            AttestationSubject(attestation=attestation, name=name, digest=digest) for name, digest in statement.subjects
        )
        event_record(
            type="attestation.stored",
            payload={
                "attestation": attestation.public_id,
                "project": project.public_id,
                "guideline": version.ref,
                "digest": payload_digest,
                "subjects": [digest for _, digest in statement.subjects],
            },
        )
        log_append(type="attestation.stored", ref=attestation.public_id, digest=payload_digest, at=attestation.created)
    return attestation


def attestation_revoke(*, attestation: Attestation, actor_role: str | None, reason: str = "") -> Attestation:
    """Withdraw an attestation (the project found its release does not conform after all)."""
    _require_admin(actor_role)
    with transaction.atomic():
        locked = Attestation.objects.select_for_update().select_related("project").get(pk=attestation.pk)
        if locked.revoked_at is not None:
            raise Conflict("This attestation is already revoked.")
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason[:500]
        locked.save(update_fields=["revoked_at", "revoked_reason"])
        event_record(
            type="attestation.revoked",
            payload={
                "attestation": locked.public_id,
                "project": locked.project.public_id,
                "digest": locked.payload_digest,
                "subjects": list(locked.subjects.values_list("digest", flat=True)),
            },
        )
        log_append(type="attestation.revoked", ref=locked.public_id, digest=locked.payload_digest, at=locked.revoked_at)
    return locked
