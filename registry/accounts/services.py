"""Every write to accounts, organizations, memberships and API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.accounts.models import ROLE_RANK, ApiKey, Membership, Organization, User
from registry.errors import Conflict, NotAllowed, ValidationFailed

API_KEY_SCHEME = "restu"


def organization_create(
    *, creator: User, name: str, slug: str, kind: str, repository_url: str = "", homepage: str = ""
) -> Organization:
    """Create an organization; its creator becomes its first owner."""
    if kind != Organization.Kind.PROJECT and (repository_url or homepage):
        raise ValidationFailed(
            "Only project organizations have a repository and homepage.",
            errors={"repository_url": ["Only for kind 'project'."]},
        )
    try:
        with transaction.atomic():
            org = Organization.objects.create(
                name=name, slug=slug, kind=kind, repository_url=repository_url, homepage=homepage
            )
            Membership.objects.create(organization=org, user=creator, role=Membership.Role.OWNER)
    except IntegrityError:
        raise Conflict("That slug is taken.", errors={"slug": ["An organization with this slug exists."]}) from None
    return org


def organization_update(*, organization: Organization, actor_role: str, **changes: str) -> Organization:
    """Rename an organization or change its links (admins and owners)."""
    _require_rank(actor_role, Membership.Role.ADMIN)
    for field, value in changes.items():
        setattr(organization, field, value)
    organization.updated = timezone.now()
    organization.save(update_fields=[*changes, "updated"])
    return organization


def membership_add(*, organization: Organization, actor_role: str, user: User, role: str) -> Membership:
    """Add a member; admins add members and admins, only owners add owners."""
    _require_rank(actor_role, Membership.Role.ADMIN)
    if role == Membership.Role.OWNER and actor_role != Membership.Role.OWNER:
        raise NotAllowed("Only an owner can add another owner.")
    try:
        with transaction.atomic():
            return Membership.objects.create(organization=organization, user=user, role=role)
    except IntegrityError:
        raise Conflict("This person is already a member.") from None


def membership_remove(*, membership: Membership, actor: User, actor_role: str) -> None:
    """Remove a member (or leave). The last owner can neither leave nor be removed."""
    leaving = membership.user_id == actor.pk
    if not leaving:
        _require_rank(actor_role, Membership.Role.ADMIN)
        if membership.role == Membership.Role.OWNER and actor_role != Membership.Role.OWNER:
            raise NotAllowed("Only an owner can remove an owner.")
    with transaction.atomic():
        owners = (
            Membership.objects.select_for_update()
            .filter(organization_id=membership.organization_id, role=Membership.Role.OWNER)
            .count()
        )
        if membership.role == Membership.Role.OWNER and owners <= 1:
            raise Conflict("The last owner cannot leave; make someone else an owner first.")
        membership.delete()


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key: ``secret`` is shown once and never stored."""

    api_key: ApiKey
    secret: str


def api_key_digest(secret: str) -> str:
    # A fast digest is right here: the key has 256 bits of entropy, so it cannot be guessed,
    # and a slow password hash would cost ~100 ms on every API call.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_key_create(*, organization: Organization, creator: User, actor_role: str, name: str) -> IssuedApiKey:
    """Issue a key that acts for ``organization`` within its creator's role (admins and owners)."""
    _require_rank(actor_role, Membership.Role.ADMIN)
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        organization=organization, created_by=creator, name=name, prefix=prefix, digest=api_key_digest(secret)
    )
    return IssuedApiKey(api_key=key, secret=secret)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice is harmless."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey, resolution_seconds: int) -> None:
    """Record use, at most once per ``resolution_seconds`` so the hot path rarely writes."""
    now = timezone.now()
    if api_key.last_used_at and (now - api_key.last_used_at).total_seconds() < resolution_seconds:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


def _require_rank(actor_role: str, needed: str) -> None:
    if ROLE_RANK.get(actor_role, 0) < ROLE_RANK[needed]:  # type: ignore[index]
        raise NotAllowed(f"This needs the {needed} role in the organization.")
