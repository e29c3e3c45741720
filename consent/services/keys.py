"""Subject keys: the statements a subject signs to add or retire a key, and verifying a subject's signature."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import Subject, SubjectKey
from registry.accounts.models import User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import canonical_json
from registry.lib.signing import VerificationError, jwk_thumbprint, normalize_public_jwk, verify_compact
from registry.transparency.services import log_append

from ._common import _stamp, _statement_digest
from .representatives import _require_representative, authority_check, require_power


def subject_key_statement(key: SubjectKey) -> dict[str, Any]:
    return {
        "type": "restu.subject-key/v1",
        "id": key.public_id,
        "subject": key.subject.public_id,
        "kid": key.kid,
        "jwk": key.public_jwk,
    }


def subject_key_add_statement(subject: Subject, kid: str) -> dict[str, Any]:
    """What one of the subject's active keys signs (compact JWS) to add another key without a
    re-authentication: the proof of presence a key holder carries."""
    return {
        "type": "restu.subject-key-add/v1",
        "registry": settings.REGISTRY_ISSUER,
        "subject": subject.public_id,
        "kid": kid,
    }


def subject_key_retire_statement(key: SubjectKey) -> dict[str, Any]:
    """What one of the subject's active keys signs to retire ``key`` without a re-authentication."""
    return {
        "type": "restu.subject-key-retire/v1",
        "registry": settings.REGISTRY_ISSUER,
        "subject": key.subject.public_id,
        "kid": key.kid,
    }


def subject_key_add(
    *,
    subject: Subject,
    actor: User,
    public_jwk: Any,
    presence: Presence | None = None,
    signature: str | None = None,
) -> SubjectKey:
    """Register an Ed25519 public key the subject signs with; its kid is the RFC 7638 thumbprint.

    A key signs and revokes consents, so adding one needs ``manage_keys`` and a proof of presence:
    a fresh re-authentication, or ``signature``, a JWS by one of the subject's active keys over
    ``subject_key_add_statement``. A key added without one can never exist."""
    rep = _require_representative(actor, subject)
    require_power(rep, "manage_keys")
    authority_check(rep=rep, subject=subject)
    if signature is None:
        require_presence(presence, action=_("add a signing key"))
    try:
        jwk = normalize_public_jwk(public_jwk)
    except ValueError as exc:
        raise ValidationFailed(_("That is not an Ed25519 public JWK."), errors={"public_jwk": [str(exc)]}) from None
    if signature is not None:
        statement = subject_key_add_statement(subject, jwk_thumbprint(jwk))
        _verify_subject_signature(subject, signature, canonical_json(statement))
    kid = jwk_thumbprint(jwk)
    with transaction.atomic():
        if SubjectKey.objects.filter(subject=subject, kid=kid).exists():
            raise Conflict(_("This key is already registered for the subject (keys are never reused)."))
        key = SubjectKey.objects.create(subject=subject, kid=kid, public_jwk={**jwk, "kid": kid}, added_by=rep)
        digest = _statement_digest(subject_key_statement(key))
        event_record(type="subject_key.added", payload={"subject": subject.public_id, "kid": kid, "digest": digest})
        log_append(type="subject_key.added", ref=key.public_id, digest=digest)
    return key


def subject_key_retire(
    *, key: SubjectKey, actor: User, presence: Presence | None = None, signature: str | None = None
) -> SubjectKey:
    """Retire a key: it signs nothing new, and signatures it made stay verifiable (``manage_keys``;
    a fresh re-authentication, or a JWS by an active key over ``subject_key_retire_statement``)."""
    rep = _require_representative(actor, key.subject)
    require_power(rep, "manage_keys")
    authority_check(rep=rep, subject=key.subject)
    if signature is None:
        require_presence(presence, action=_("retire a signing key"))
    else:
        _verify_subject_signature(key.subject, signature, canonical_json(subject_key_retire_statement(key)))
    # Locked and read again: a concurrent retirement, or a failed attempt that changed only the
    # caller's copy, must neither log twice nor skip the log.
    with transaction.atomic():
        locked = SubjectKey.objects.select_for_update(of=("self",)).select_related("subject").get(pk=key.pk)
        if locked.retired_at is not None:
            return locked
        locked.retired_at = timezone.now()
        locked.save(update_fields=["retired_at"])
        digest = _statement_digest({**subject_key_statement(locked), "retired_at": _stamp(locked.retired_at)})
        event_record(
            type="subject_key.retired",
            payload={"subject": locked.subject.public_id, "kid": locked.kid, "digest": digest},
        )
        log_append(type="subject_key.retired", ref=locked.public_id, digest=digest)
    return locked


def _subject_jwks(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [dict(k.public_jwk) for k in SubjectKey.objects.filter(subject=subject, retired_at__isnull=True)]}


def _verify_subject_signature(subject: Subject, signature: str | None, expected: bytes) -> str:
    if not signature:
        raise ValidationFailed(_("A signature is required."), errors={"signature": [_("A compact JWS.")]})
    try:
        verified = verify_compact(signature, _subject_jwks(subject))
    except VerificationError as exc:
        raise ValidationFailed(
            _("The signature does not verify against the subject's active keys."),
            errors={"signature": [exc.reason]},
        ) from None
    if verified.payload != expected:
        raise ValidationFailed(
            _("The signature is over other bytes than this record's signing input."),
            errors={"signature": ["payload differs from the signing input"]},
        )
    return verified.kid
