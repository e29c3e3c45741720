"""Guidelines and their versions, adoptions; projects' signing keys, control proofs and attestations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.accounts.models import Organization
from registry.models import PublicIdModel


class Guideline(PublicIdModel):
    """A usage policy a project organization maintains; its content lives in versions."""

    PREFIX = "gdl"
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="guidelines")
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True, max_length=2000)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.slug


class GuidelineVersion(PublicIdModel):
    """One semver version of a guideline: editable as a draft, frozen (with a digest) once published.

    ``clauses`` is a list of ``{"key", "kind", "text", "evidence": [safeguard, …]}``;
    ``translations`` maps a language to ``{"body", "clauses": {key: text}}``;
    ``translations_outdated`` maps a language to the keys (and ``"body"``) needing a new translation.
    """

    PREFIX = "gdv"

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        RETIRED = "retired", _("retired")

    guideline = models.ForeignKey(Guideline, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=100)
    # Sort key for semver precedence (major, minor, patch as zero-padded text); derived, never edited.
    sort_key = models.CharField(max_length=160, editable=False, default="")
    language = models.CharField(max_length=8, default="en")
    body = models.TextField(blank=True)
    clauses = models.JSONField(default=list)
    translations = models.JSONField(default=dict, blank=True)
    # Editorial state of a draft, not part of its content or digest: per language, the clause keys
    # (and "body") whose original text changed after the translation was written. Publishing
    # refuses while any is listed; editing the translated text, or confirming it, clears the mark.
    translations_outdated = models.JSONField(default=dict, blank=True)
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    digest = models.CharField(max_length=80, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["guideline", "-sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "version"], name="one_row_per_guideline_version"),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        """``slug@version``, the way attestations and consents name this version."""
        return f"{self.guideline.slug}@{self.version}"

    @property
    def is_public(self) -> bool:
        return self.status != self.Status.DRAFT


class Adoption(PublicIdModel):
    """An organization stating that it follows a published guideline version."""

    PREFIX = "adp"
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="adoptions")
    version = models.ForeignKey(GuidelineVersion, on_delete=models.PROTECT, related_name="adoptions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["organization", "version"], name="one_adoption_per_version")]

    def __str__(self) -> str:
        return f"{self.organization} adopts {self.version}"


class ProjectKey(PublicIdModel):
    """A project's Ed25519 public key for signing attestations; retired, never deleted."""

    PREFIX = "pky"
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="project_keys")
    kid = models.CharField(max_length=64)  # RFC 7638 thumbprint
    public_jwk = models.JSONField()  # {"crv", "kty", "x"} only
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["organization", "kid"], name="one_row_per_project_key")]

    def __str__(self) -> str:
        return f"{self.kid} ({self.organization})"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class ControlProof(PublicIdModel):
    """A challenge: the project publishes ``token`` on its domain or in its repository; we fetch it."""

    PREFIX = "prf"

    class Kind(models.TextChoices):
        DOMAIN = "domain", _("domain")
        REPOSITORY = "repository", _("repository file")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for the token")
        VERIFIED = "verified", _("verified")
        FAILED = "failed", _("check failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="control_proofs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    target = models.CharField(max_length=500)  # a domain name, or the https URL of a file
    url = models.URLField(max_length=600)  # where the registry fetches the token
    token = models.CharField(max_length=80)  # published by design, so not a secret
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    last_error = models.CharField(max_length=200, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.kind} proof {self.target}"


class Attestation(PublicIdModel):
    """A project's signed statement that a release follows a guideline version (DSSE + in-toto).

    ``results`` is the registry's reading of each clause: evidenced, asserted, not_met or
    not_applicable. The envelope is kept verbatim so anyone can verify it again.
    """

    PREFIX = "att"
    project = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="attestations")
    key = models.ForeignKey(ProjectKey, on_delete=models.PROTECT, related_name="attestations")
    guideline_version = models.ForeignKey(GuidelineVersion, on_delete=models.PROTECT, related_name="attestations")
    envelope = models.JSONField()
    payload_digest = models.CharField(max_length=80)
    statement = models.JSONField()
    claims = models.JSONField()
    safeguards = models.JSONField(default=list)
    results = models.JSONField()
    release_version = models.CharField(max_length=100)
    release_url = models.URLField(max_length=500, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.project} {self.release_version}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AttestationSubject(models.Model):
    """One release artefact an attestation covers, by digest (indexed for release clearance)."""

    attestation = models.ForeignKey(Attestation, on_delete=models.CASCADE, related_name="subjects")
    name = models.CharField(max_length=300)
    digest = models.CharField(max_length=80, db_index=True)  # "sha256:<hex>"

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} {self.digest}"
