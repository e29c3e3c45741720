"""Reads for accounts: who belongs where, in which role, and key look-ups."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from registry.accounts.models import Invitation, Membership, Organization, User


def role_in(*, user: User, organization: Organization) -> str | None:
    """The user's role in the organization, or None for a stranger."""
    return Membership.objects.filter(organization=organization, user=user).values_list("role", flat=True).first()


def organizations_for(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).distinct()


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
