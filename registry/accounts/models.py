"""Users (email login), organizations with member roles, and API keys."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import PublicIdModel


class UserManager(BaseUserManager["User"]):
    """Creates users keyed by email address."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(PublicIdModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address; no username."""

    PREFIX = "usr"
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("name"), max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email


class Organization(PublicIdModel):
    """A studio, an open-source project, a guild or an agency; acts through its members and keys."""

    class Kind(models.TextChoices):
        STUDIO = "studio", _("studio")
        PROJECT = "project", _("open-source project")
        GUILD = "guild", _("guild")
        AGENCY = "agency", _("agency")

    PREFIX = "org"
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    repository_url = models.URLField(_("repository URL"), blank=True)
    homepage = models.URLField(_("homepage"), blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)
    # Set only by registry staff (admin action, logged); a declared kind proves nothing by itself.
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def may_vouch(self) -> bool:
        """Only a guild or agency that registry staff verified may vouch for a person."""
        return self.kind in (self.Kind.GUILD, self.Kind.AGENCY) and self.is_verified


class Membership(models.Model):
    """A user's role in an organization."""

    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        ADMIN = "admin", _("admin")
        MEMBER = "member", _("member")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.organization}"


ROLE_RANK: dict[str, int] = {Membership.Role.MEMBER: 1, Membership.Role.ADMIN: 2, Membership.Role.OWNER: 3}


def revoke_keys_of_ended_membership(collector: Any, field: Any, sub_objs: Any, using: str) -> None:
    """``on_delete`` for ApiKey.membership: when the membership a key was made under ends, the key
    is revoked for good (and the link cleared), whoever deletes the row and however.

    A key acts as its creator within their role; matching the creator's *current* membership let
    a key revive when they were added again. Tying the key to the membership row it was made under,
    and revoking it when that row goes, makes "the creator left" final. Instances, not querysets,
    so the two updates run by primary key and in either order.
    """
    keys = list(sub_objs)
    collector.add_field_update(field, None, keys)
    live = [key for key in ApiKey.objects.using(using).filter(pk__in=[k.pk for k in keys], revoked_at__isnull=True)]
    if live:
        collector.add_field_update(ApiKey._meta.get_field("revoked_at"), timezone.now(), live)


class ApiKey(PublicIdModel):
    """A machine credential for one organization; only a SHA-256 digest of the secret is kept."""

    PREFIX = "key"
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    # The membership the key was made under; when it ends the key is revoked (see the function).
    membership = models.ForeignKey(
        Membership,
        null=True,
        blank=True,
        editable=False,
        on_delete=revoke_keys_of_ended_membership,
        related_name="api_keys",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(PublicIdModel):
    """An offer of authority (membership of an organization, representing a person) to an email.

    Nothing is granted until the person who controls that email accepts: the kind's registered
    ``accept`` callable (``services.invitation_kind_register``) grants it then. ``target`` is the
    public id of what the invitation is to (``org_…``, ``sub_…``); ``payload`` holds the kind's
    terms (a role, powers, a scope). Only a SHA-256 digest of the emailed link's token is kept.
    """

    PREFIX = "inv"

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    kind = models.CharField(max_length=32)
    email = models.EmailField()
    target = models.CharField(max_length=40, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email", "kind"], name="invitation_email_kind")]

    def __str__(self) -> str:
        return f"{self.kind} invitation {self.public_id}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.cancelled_at is not None:
            return self.Status.CANCELLED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING
