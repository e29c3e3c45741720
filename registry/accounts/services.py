"""Every write to accounts, organizations, memberships, invitations and API keys."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.accounts.models import ROLE_RANK, ApiKey, Invitation, Membership, Organization, User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import canonical_json
from registry.transparency.services import log_append

logger = logging.getLogger(__name__)

API_KEY_SCHEME = "restu"
# A prefix is 32 random bits: a collision is rare, several in a row mean something is wrong.
API_KEY_PREFIX_ATTEMPTS = 5
INVITATION_LIFETIME = timedelta(days=14)


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


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _verification_digest(organization: Organization, status: str, at: datetime) -> str:
    # Ids, the declared kind and the moment only: an organization's name may be a person's
    # (an estate), and the staff member is nobody's business (docs/design.md invariant 3).
    statement = {"organization": organization.public_id, "kind": organization.kind, "status": status, "at": _utc(at)}
    return "sha256:" + hashlib.sha256(canonical_json(statement)).hexdigest()


def _require_staff(staff_user: User) -> None:
    if not (staff_user and staff_user.is_active and staff_user.is_staff):
        raise NotAllowed("Only registry staff verify organizations.")


def organization_verify(*, organization: Organization, staff_user: User) -> Organization:
    """Registry staff confirm an organization is what it declares; logged and announced. Idempotent."""
    return _verification_set(organization=organization, staff_user=staff_user, verified=True)


def organization_verification_withdraw(*, organization: Organization, staff_user: User) -> Organization:
    """Registry staff withdraw a verification; logged and announced (``organization.verification_withdrawn``:
    the consent app re-derives the assurance of every subject it vouched for). Idempotent."""
    return _verification_set(organization=organization, staff_user=staff_user, verified=False)


def _verification_set(*, organization: Organization, staff_user: User, verified: bool) -> Organization:
    """Verify or withdraw: one transaction with the row, its leaf and its event; nothing when unchanged."""
    _require_staff(staff_user)
    kind, status = (
        ("organization.verified", "verified") if verified else ("organization.verification_withdrawn", "withdrawn")
    )
    with transaction.atomic():
        locked = Organization.objects.select_for_update().get(pk=organization.pk)
        if (locked.verified_at is not None) != verified:
            now = timezone.now()
            locked.verified_at = now if verified else None
            locked.updated = now
            locked.save(update_fields=["verified_at", "updated"])
            event_record(
                type=kind,
                payload={"organization": locked.public_id, "kind": locked.kind, "at": _utc(now)},
                audience=[locked.public_id],
            )
            log_append(type=kind, ref=locked.public_id, digest=_verification_digest(locked, status, now), at=now)
            logger.info("organization %s %s by staff user %s", locked.public_id, status, staff_user.pk)
    organization.verified_at, organization.updated = locked.verified_at, locked.updated
    return locked


def membership_add(
    *, organization: Organization, actor_role: str, user: User, role: str, presence: Presence | None = None
) -> Membership:
    """Add a member directly (staff tools, fixtures). People are added through ``member_invite``:
    nobody gets authority over an organization without accepting. Only owners add owners, with
    a fresh proof of presence."""
    _require_rank(actor_role, Membership.Role.ADMIN)
    if role == Membership.Role.OWNER:
        if actor_role != Membership.Role.OWNER:
            raise NotAllowed("Only an owner can add another owner.")
        require_presence(presence, action="add an owner")
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


# --- invitations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationKind:
    """What accepting an invitation of one kind grants, and how the email describes it."""

    accept: Callable[[Invitation, User], Any]
    describe: Callable[[Invitation], str] | None = None


_INVITATION_KINDS: dict[str, InvitationKind] = {}


def invitation_kind_register(
    kind: str, *, accept: Callable[[Invitation, User], Any], describe: Callable[[Invitation], str] | None = None
) -> None:
    """Declare an invitation kind (from an AppConfig.ready(); core never imports the apps).

    ``accept(invitation, user)`` runs inside the accepting transaction, with the invitation row
    locked and the invitee checked; it grants what the invitation offers, or raises a DomainError
    (nothing is then accepted). ``describe(invitation)`` is the email's "… invites you <to …>".
    """
    _INVITATION_KINDS[kind] = InvitationKind(accept=accept, describe=describe)


def invitation_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_create(
    *,
    kind: str,
    email: str,
    created_by: User,
    target: str,
    payload: dict[str, Any] | None = None,
    base_url: str = "",
) -> Invitation:
    """Invite ``email``; the link goes out by email once this commits.

    The same work whoever the address belongs to, and no account is looked up: the answer and
    its timing tell nothing about who has an account. An earlier pending invitation of the same
    kind to the same address and target is cancelled (the newest link is the one that works).
    """
    if kind not in _INVITATION_KINDS:
        raise ValidationFailed("Unknown invitation kind.", errors={"kind": [f"Unknown kind {kind!r}."]})
    address = email.strip().lower()
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            kind=kind, target=target, email=address, accepted_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now)
        invitation = Invitation.objects.create(
            kind=kind,
            email=address,
            target=target,
            payload=payload or {},
            token_hash=invitation_token_digest(token),
            created_by=created_by,
            created=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        # The token lives in this closure and in the email only, never in a row or a task queue.
        transaction.on_commit(lambda: _invitation_email(invitation, token, base_url))
    return invitation


def invitation_describe(invitation: Invitation) -> str:
    kind = _INVITATION_KINDS.get(invitation.kind)
    return kind.describe(invitation) if kind and kind.describe else invitation.kind


def _invitation_email(invitation: Invitation, token: str, base_url: str) -> None:
    link = f"{base_url.rstrip('/')}/invitations/{token}/"
    what = invitation_describe(invitation)
    until = invitation.expires_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # In both of the registry's languages: we do not know which one the invitee reads. After commit:
    # a mail outage is logged, the invitation stands, and the sender can invite again.
    try:
        _send_invitation(invitation, what, link, until)
    except Exception:
        logger.exception("the invitation email for %s could not be sent", invitation.public_id)


def _send_invitation(invitation: Invitation, what: str, link: str, until: str) -> None:
    send_mail(
        subject="Restu: you are invited / Anda diundang",
        message=(
            f"You are invited {what}.\n\nTo accept, sign in to Restu with this email address (or sign up "
            f"with it) and open:\n{link}\n\nThe invitation is valid until {until}. If you did not expect it, "
            "ignore this message: nothing happens unless you accept.\n\n"
            f"Anda diundang {what}.\n\nUntuk menerima, masuk ke Restu dengan alamat email ini (atau daftar "
            f"dengan alamat ini) lalu buka:\n{link}\n\nUndangan berlaku sampai {until}. Jika Anda tidak "
            "mengharapkannya, abaikan pesan ini: tidak ada yang terjadi kecuali Anda menerimanya."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


def _addresses_of(user: User, *, verified_only: bool) -> set[str]:
    from allauth.account.models import EmailAddress

    rows = EmailAddress.objects.filter(user=user)
    if verified_only:
        rows = rows.filter(verified=True)
    found = {address.lower() for address in rows.values_list("email", flat=True)}
    if not verified_only:
        found.add(user.email.lower())
    return found


def invitee_addresses(user: User) -> set[str]:
    """Every address of the account, verified or not (with the emailed token, either will do)."""
    return _addresses_of(user, verified_only=False)


def _check_invitee(invitation: Invitation, user: User, token: str | None) -> None:
    """The invitee is the person who controls the invited address: a signed-in account with that
    address verified, or with that address and the emailed link. Anyone else: 404 (no oracle)."""
    if token is not None:
        if not secrets.compare_digest(invitation_token_digest(token), invitation.token_hash):
            raise NotFound("No such invitation.")
        if invitation.email not in _addresses_of(user, verified_only=False):
            raise NotFound("No such invitation.")
        return
    if invitation.email in _addresses_of(user, verified_only=True):
        return
    if invitation.email in _addresses_of(user, verified_only=False):
        raise NotAllowed("Verify your email address first (or open the link in the invitation email).")
    raise NotFound("No such invitation.")


def invitation_accept(*, invitation: Invitation, user: User, token: str | None = None) -> Invitation:
    """Accept an invitation addressed to ``user``: only now does its authority start."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotAllowed("Sign in to accept an invitation.")
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _check_invitee(locked, user, token)
        status = locked.status
        if status != Invitation.Status.PENDING:
            raise Conflict(f"This invitation is {status}; ask for a new one.")
        kind = _INVITATION_KINDS.get(locked.kind)
        if kind is None:
            raise Conflict("This invitation can no longer be accepted.")
        kind.accept(locked, user)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
    return locked


def invitations_erase_for(*, user: User) -> int:
    """Erasure: every invitation addressed to one of the person's addresses, and every pending one
    they sent, goes (an address is personal data; their authority to invite ends with them).
    Accepted ones sent by them stay as the record of a grant, without their name on them."""
    addresses = _addresses_of(user, verified_only=False)
    received, _ = Invitation.objects.filter(email__in=addresses).delete()
    sent, _ = Invitation.objects.filter(created_by=user, accepted_at__isnull=True).delete()
    Invitation.objects.filter(created_by=user).update(created_by=None)
    return received + sent


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.filter(token_hash=invitation_token_digest(token)).first()


def member_invite(
    *,
    organization: Organization,
    actor: User,
    actor_role: str,
    email: str,
    role: str,
    presence: Presence | None,
    base_url: str = "",
) -> Invitation:
    """Invite someone to the organization: admins invite members and admins; owners invite owners,
    with a fresh proof of presence (an owner can hand the organization over)."""
    _require_rank(actor_role, Membership.Role.ADMIN)
    if role not in Membership.Role.values:
        raise ValidationFailed("Unknown role.", errors={"role": [f"Unknown role {role!r}."]})
    if role == Membership.Role.OWNER:
        if actor_role != Membership.Role.OWNER:
            raise NotAllowed("Only an owner can add another owner.")
        require_presence(presence, action="add an owner")
    return invitation_create(
        kind="member",
        email=email,
        created_by=actor,
        target=organization.public_id,
        payload={"role": role},
        base_url=base_url,
    )


def member_invitation_cancel(*, organization: Organization, actor_role: str, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation to the organization (admins; an owner invitation, owners only).
    Idempotent; an accepted invitation is history and stays as it is (409)."""
    _require_rank(actor_role, Membership.Role.ADMIN)
    if invitation.kind != "member" or invitation.target != organization.public_id:
        raise NotFound("No such invitation.")
    if invitation.payload.get("role") == Membership.Role.OWNER and actor_role != Membership.Role.OWNER:
        raise NotAllowed("Only an owner can withdraw an invitation to become an owner.")
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise Conflict("This invitation was accepted; remove the member instead.")
        if locked.cancelled_at is None:
            locked.cancelled_at = timezone.now()
            locked.save(update_fields=["cancelled_at"])
    return locked


def _member_accept(invitation: Invitation, user: User) -> Membership:
    organization = Organization.objects.filter(public_id=invitation.target).first()
    if organization is None:
        raise Conflict("The organization no longer exists.")
    role = str(invitation.payload.get("role", Membership.Role.MEMBER))
    # The inviter's authority is checked again now: an invitation dies with it.
    inviter = invitation.created_by_id
    inviter_role = (
        Membership.objects.filter(organization=organization, user_id=inviter).values_list("role", flat=True).first()
        if inviter is not None
        else None
    )
    allowed = _rank(inviter_role) >= _rank(Membership.Role.ADMIN)
    if role == Membership.Role.OWNER:
        allowed = inviter_role == Membership.Role.OWNER
    if not allowed:
        raise Conflict("The person who invited you can no longer add members; ask for a new invitation.")
    try:
        with transaction.atomic():
            return Membership.objects.create(organization=organization, user=user, role=role)
    except IntegrityError:
        raise Conflict("You are already a member of this organization.") from None


def _member_describe(invitation: Invitation) -> str:
    organization = Organization.objects.filter(public_id=invitation.target).first()
    name = organization.name if organization else "an organization"
    return f"to join {name} as {invitation.payload.get('role', 'member')}"


invitation_kind_register("member", accept=_member_accept, describe=_member_describe)


# --- API keys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key: ``secret`` is shown once and never stored."""

    api_key: ApiKey
    secret: str


def api_key_digest(secret: str) -> str:
    # A fast digest is right here: the key has 256 bits of entropy, so it cannot be guessed,
    # and a slow password hash would cost ~100 ms on every API call.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_key_create(
    *, organization: Organization, creator: User, actor_role: str, name: str, presence: Presence | None
) -> IssuedApiKey:
    """Issue a key that acts for ``organization`` within its creator's role (admins and owners).

    A sensitive action: the creator must have proved presence moments ago (``presence``, from
    ``presence_from_request``). The key is tied to the creator's membership: it dies with it.
    """
    _require_rank(actor_role, Membership.Role.ADMIN)
    require_presence(presence, action="create an API key")
    membership = Membership.objects.filter(organization=organization, user=creator).first()
    if membership is None or _rank(membership.role) < _rank(Membership.Role.ADMIN):
        raise NotAllowed("This needs the admin role in the organization.")
    for _ in range(API_KEY_PREFIX_ATTEMPTS):
        prefix = secrets.token_hex(4)
        secret = f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    organization=organization,
                    created_by=creator,
                    membership=membership,
                    name=name,
                    prefix=prefix,
                    digest=api_key_digest(secret),
                )
        except IntegrityError:
            # The lookup prefix is unique; another key has this one. Draw again.
            continue
        return IssuedApiKey(api_key=key, secret=secret)
    raise Conflict("Could not issue a key with a unique prefix; please try again.")


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


def _rank(role: str | None) -> int:
    return next((rank for name, rank in ROLE_RANK.items() if name == role), 0)


def require_admin(actor_role: str) -> None:
    """403 unless ``actor_role`` is admin or owner."""
    _require_rank(actor_role, Membership.Role.ADMIN)


def _require_rank(actor_role: str, needed: str) -> None:
    if _rank(actor_role) < _rank(needed):
        raise NotAllowed(f"This needs the {needed} role in the organization.")
