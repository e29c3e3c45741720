"""Reads for accounts: who belongs where, in which role, and key look-ups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from registry.accounts.models import ApiKey, Invitation, Membership, Organization, User
from registry.accounts.services import api_key_digest
from registry.errors import NotFound


def role_in(*, user: User, organization: Organization) -> str | None:
    """The user's role in the organization, or None for a stranger."""
    return Membership.objects.filter(organization=organization, user=user).values_list("role", flat=True).first()


def organizations_for(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).distinct()


def organization_visible(*, public_id: str, user: User) -> tuple[Organization, str]:
    """The organization and the caller's role; 404 (not 403) for non-members, so ids don't leak."""
    membership = (
        Membership.objects.select_related("organization").filter(organization__public_id=public_id, user=user).first()
    )
    if membership is None:
        raise NotFound("No such organization.")
    return membership.organization, membership.role


def api_key_by_secret(secret: str) -> ApiKey | None:
    """The active key with this secret, with its organization and creator, or None."""
    return (
        ApiKey.objects.select_related("organization", "created_by")
        .filter(digest=api_key_digest(secret), revoked_at__isnull=True)
        .first()
    )


def invitations_for(*, user: User) -> QuerySet[Invitation]:
    """Pending invitations addressed to one of the user's verified email addresses, newest first."""
    from allauth.account.models import EmailAddress

    addresses = [
        address.lower()
        for address in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ]
    return Invitation.objects.filter(
        email__in=addresses, accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created")


def organization_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """The organization's pending member invitations, newest first."""
    return Invitation.objects.filter(
        kind="member",
        target=organization.public_id,
        accepted_at__isnull=True,
        cancelled_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-created")
