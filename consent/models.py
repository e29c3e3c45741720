"""Subjects, their representatives, keys and vouches; consents and their history; the access log.

Personal data (names, notes, free-text statements) lives in ``SubjectProfile`` and in the few
text fields named as personal below, never in anything the registry logs or signs, so that it
can be erased while every log leaf and receipt keeps verifying.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.accounts.models import ApiKey, Organization
from registry.models import PublicIdModel


class Subject(PublicIdModel):
    """A person whose likeness is at stake: living, a minor until ``adult_on``, or deceased."""

    PREFIX = "sub"

    class Status(models.TextChoices):
        LIVING = "living", _("living")
        MINOR = "minor", _("minor")
        DECEASED = "deceased", _("deceased")

    class Assurance(models.TextChoices):
        SELF_ASSERTED = "self_asserted", _("self-asserted")
        EMAIL_VERIFIED = "email_verified", _("email verified")
        VOUCHED = "vouched", _("vouched")

    status = models.CharField(max_length=10, choices=Status.choices)
    adult_on = models.DateField(null=True, blank=True)
    deceased_on = models.DateField(null=True, blank=True)
    # Kept up to date by the services that change it (vouches, representatives), so a
    # verification reads it from this row instead of recomputing it.
    assurance = models.CharField(max_length=16, choices=Assurance.choices, default=Assurance.SELF_ASSERTED)
    # True while a dispute is open: every permit of the subject is frozen (read on the hot path).
    disputed = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)

    def is_minor_on(self, day: date) -> bool:
        """A minor stays a minor until (not including) ``adult_on``."""
        return self.status == self.Status.MINOR and self.adult_on is not None and day < self.adult_on

    def effective_status(self, day: date) -> str:
        """``living`` for a former minor who has come of age, else the stored status."""
        if self.status == self.Status.MINOR and not self.is_minor_on(day):
            return self.Status.LIVING
        return self.status


ASSURANCE_RANK = {
    Subject.Assurance.SELF_ASSERTED: 0,
    Subject.Assurance.EMAIL_VERIFIED: 1,
    Subject.Assurance.VOUCHED: 2,
}


class SubjectProfile(models.Model):
    """Personal data about a subject (erasable): a name, a short public bio, private notes."""

    subject = models.OneToOneField(Subject, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=150)
    is_public = models.BooleanField(default=False)
    bio = models.TextField(blank=True, max_length=2000)
    notes = models.TextField(blank=True, max_length=4000)
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"profile of {self.subject.public_id}"


# What a representative may do (docs/api.md v1.1). Self, guardian and estate hold all of them; an agent
# holds what the person delegated, by default signing and revoking.
POWERS = ("sign", "revoke", "manage_keys", "manage_representatives", "edit_profile", "read_access_log", "erase")
AGENT_DEFAULT_POWERS = ("sign", "revoke")


class Representative(PublicIdModel):
    """A user who acts for a subject: themselves, a guardian, the estate, or a delegated agent."""

    PREFIX = "rep"

    class Role(models.TextChoices):
        SELF = "self", _("self")
        GUARDIAN = "guardian", _("guardian")
        ESTATE = "estate", _("estate")
        AGENT = "agent", _("agent")

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="representatives")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="representations")
    role = models.CharField(max_length=10, choices=Role.choices)
    # For agents: who appointed them, what they may do, and until when.
    delegated_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="agents")
    scope = models.JSONField(default=dict, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    # An agent's delegated powers (a subset of POWERS); self, guardian and estate hold all of them.
    powers = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "subject"], name="rep_user_subject")]

    @property
    def effective_powers(self) -> list[str]:
        """What this representative may do, in the order of POWERS."""
        if self.role != self.Role.AGENT:
            return list(POWERS)
        held = set(self.powers or ())
        return [p for p in POWERS if p in held]

    def is_active_on(self, day: date) -> bool:
        if self.ended_at is not None:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        if self.delegated_by is not None:
            return self.delegated_by.is_active_on(day)
        return True


class SubjectKey(PublicIdModel):
    """An Ed25519 public key the subject signs consents with; retired, never deleted."""

    PREFIX = "sjk"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="keys")
    kid = models.CharField(max_length=64)
    public_jwk = models.JSONField()
    added_by = models.ForeignKey(Representative, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "kid"], name="one_kid_per_subject")]

    @property
    def is_active(self) -> bool:
        return self.retired_at is None


class Vouch(PublicIdModel):
    """A guild or agency's statement that the subject is who their representative says."""

    PREFIX = "vch"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="vouches")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="vouches")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    given_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "organization"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_vouch_per_org",
            )
        ]


class Consent(PublicIdModel):
    """A signed permit or deny record for a subject's likeness; its terms never change once signed."""

    PREFIX = "con"

    class Effect(models.TextChoices):
        PERMIT = "permit", _("consent")
        DENY = "deny", _("refusal")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        REVOKED = "revoked", _("revoked")
        EXPIRED = "expired", _("expired")

    class RevocationPolicy(models.TextChoices):
        ANYTIME = "anytime", _("any time")
        NOTICE = "notice", _("with notice")

    class Representation(models.TextChoices):
        COUNSEL = "counsel", _("a lawyer")
        UNION = "union", _("a union")
        NONE = "none", _("nobody")

    class Method(models.TextChoices):
        SUBJECT_KEY = "subject_key", _("subject's own key")
        WITNESSED = "witnessed", _("witnessed by the registry")

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="consents")
    effect = models.CharField(max_length=6, choices=Effect.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    # The terms, as columns for queries; ``terms`` below is their frozen canonical form.
    grantee = models.CharField(max_length=40)  # "org_…" or "*"
    grantee_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="granted_consents"
    )
    production = models.CharField(max_length=200, null=True, blank=True)
    media = models.JSONField()
    activities = models.JSONField()
    purposes = models.JSONField()
    territories = models.JSONField()
    # Bit masks of the lists above (consent.vocabulary) and "|ID|US|" or "*": matchable in SQL.
    media_mask = models.PositiveIntegerField()
    activity_mask = models.PositiveIntegerField()
    purpose_mask = models.PositiveIntegerField()
    territory_codes = models.CharField(max_length=1200)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    intended_use = models.TextField(max_length=2000)
    conditions = models.JSONField(default=dict)
    revocation_policy = models.CharField(max_length=8, choices=RevocationPolicy.choices)
    revocation_notice_days = models.PositiveSmallIntegerField(default=0)
    representation = models.CharField(max_length=8, choices=Representation.choices)
    court_approval_ref = models.CharField(max_length=200, null=True, blank=True)
    guideline_ref = models.CharField(max_length=120, null=True, blank=True)
    guideline_digest = models.CharField(max_length=80, null=True, blank=True)

    terms = models.JSONField()
    digest = models.CharField(max_length=80)
    created_by = models.ForeignKey(Representative, on_delete=models.PROTECT, related_name="+")
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)

    # Signing.
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(Representative, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=Method.choices, blank=True)
    signature = models.TextField(blank=True)  # the subject's JWS, or the registry's countersignature
    signer_kid = models.CharField(max_length=64, blank=True)
    second_factor = models.BooleanField(null=True, blank=True)
    notice_summary = models.TextField(blank=True)
    notice_language = models.CharField(max_length=8, blank=True)
    notice_digest = models.CharField(max_length=80, blank=True)

    # Revocation and expiry.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_effective_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Representative, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revocation_reason = models.TextField(blank=True, max_length=2000)
    revocation_signature = models.TextField(blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    # Set when the person was erased: the free text in the terms (intended use, conditions' text,
    # court reference), the summary shown and a subject key's signed payload were removed. The
    # digest, the ids and the status stay, so receipts and log proofs still verify.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The verification read: a subject's consents in a status, then matched by masks.
            models.Index(fields=["subject", "status"], name="consent_subject_status"),
            models.Index(fields=["grantee_org", "status"], name="consent_grantee_status"),
            models.Index(fields=["status", "valid_until"], name="consent_status_until"),
        ]

    @property
    def revocation_effective_now(self) -> bool:
        return self.revocation_effective_at is not None and timezone.now() >= self.revocation_effective_at

    @property
    def revocation_pending(self) -> bool:
        return self.status == self.Status.REVOKED and not self.revocation_effective_now

    def revocation_effective_on(self) -> date | None:
        at: datetime | None = self.revocation_effective_at
        return at.date() if at else None


class ConsentEvent(models.Model):
    """One step in a consent's history (created, edited, signed, revoked, expired)."""

    class Type(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("edited")
        SIGNED = "signed", _("signed")
        REVOKED = "revoked", _("revoked")
        EXPIRED = "expired", _("expired")

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=10, choices=Type.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(Representative, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    digest = models.CharField(max_length=80, blank=True)
    log_index = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.consent.public_id} {self.type}"


class Dispute(PublicIdModel):
    """Someone says "this is me and I did not consent" (or "not who they claim"); staff resolve it."""

    PREFIX = "dsp"

    class Kind(models.TextChoices):
        NOT_ME = "not_me", _("this is me, and I did not give this consent")
        IMPERSONATION = "impersonation", _("this person is not who they claim to be")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="disputes")
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="disputes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    statement = models.TextField(max_length=4000, blank=True)  # personal data: erased with the person
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created = models.DateTimeField(default=timezone.now, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True, max_length=4000)

    class Meta:
        indexes = [models.Index(fields=["subject", "status"], name="dispute_subject_status")]


class AccessLogEntry(models.Model):
    """One check (verification, consent token, release): who, when, what, answer, and whom it named."""

    class Kind(models.TextChoices):
        VERIFICATION = "verification", _("verification")
        TOKEN = "token", _("consent token")
        RELEASE = "release", _("release check")

    # No index of its own: ``access_subject_created`` below starts with the subject, and a second,
    # redundant index cost a fifth of a bulk check's insert (1,000 rows at random places).
    # Empty for a check that named nobody: logged all the same, so that checking a hidden person
    # and a made-up id cost the same work (no timing oracle), and kept a while to spot enumeration.
    subject = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.CASCADE, related_name="access_log", db_index=False
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.VERIFICATION)
    # The caller's three columns carry no database constraint: a bulk check writes the same caller on
    # up to 1,000 rows, and PostgreSQL checked (and row-locked) the caller's rows once per row, a
    # third of the insert's time. Organizations, keys and users are never deleted by the registry
    # (keys are revoked, people erased in place); a deletion through the ORM still empties these
    # columns (SET_NULL), and every reader joins them with LEFT JOIN, so an id that points nowhere
    # reads as "no caller", never as an error.
    caller_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    caller_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    caller_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    created = models.DateTimeField(default=timezone.now)
    query = models.JSONField()
    decision = models.CharField(max_length=12)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    receipt_id = models.CharField(max_length=40, blank=True)

    class Meta:
        # On PostgreSQL the table is partitioned by month of ``created`` (migration 0008; primary key
        # ``(id, created)`` there, ``id`` alone to Django) and this index exists in every month;
        # consent.services.access_log prepares the months and applies the retention.
        indexes = [models.Index(fields=["subject", "-created"], name="access_subject_created")]

    def __str__(self) -> str:
        named = self.subject.public_id if self.subject is not None else "(nobody)"  # a check naming nobody
        return f"{named} {self.decision} at {self.created:%Y-%m-%d %H:%M}"


class Release(PublicIdModel):
    """A film, series or game a studio checks before it ships; its latest clearance report is stored."""

    PREFIX = "rel"

    class Status(models.TextChoices):
        CLEARED = "cleared", _("cleared")
        BLOCKED = "blocked", _("blocked")
        NEEDS_REVIEW = "needs_review", _("needs review")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="releases")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=300)
    release_date = models.DateField()
    territories = models.JSONField()
    appearances = models.JSONField()
    tools = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=Status.choices)
    report = models.JSONField(default=dict)
    receipt = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created"], name="release_org_created")]


class ReleaseReliance(models.Model):
    """A consent, attestation or subject a release's report relies on: re-checked when it changes."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="reliances")
    ref = models.CharField(max_length=40, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["release", "ref"], name="one_reliance_per_ref")]

    def __str__(self) -> str:
        return f"{self.release.public_id} relies on {self.ref}"
