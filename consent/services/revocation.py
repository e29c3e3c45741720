"""Revocation and expiry of signed consents."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import AccessLogEntry, Consent, ConsentEvent, Representative, Subject
from registry.accounts.models import User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import canonical_json
from registry.transparency.services import log_append

from . import _common
from ._common import _stamp, _statement_digest
from .keys import _verify_subject_signature
from .representatives import _require_representative, authority_check, require_power
from .subjects import guardianships_end_due
from .terms import revocation_statement


def _relying_organizations(consent: Consent) -> list[str]:
    """The named grantee and every organization that got a ``permitted`` answer relying on it."""
    checked = AccessLogEntry.objects.filter(consent=consent, decision="permitted", caller_org__isnull=False)
    orgs = set(checked.values_list("caller_org__public_id", flat=True))
    if consent.grantee_org is not None:
        orgs.add(consent.grantee_org.public_id)
    return sorted(orgs)


def consent_revoke(
    *,
    consent: Consent,
    actor: User,
    reason: str = "",
    method: str = Consent.Method.WITNESSED,
    signature: str | None = None,
    witness: Presence | None = None,
) -> Consent:
    """Revoke an active consent: at once (policy ``anytime``) or after the notice period.

    Authenticated as strictly as signing: a fresh re-authentication, or a subject-key JWS over
    the revocation statement. Logged (``consent.revoked``) and evented for the grantee.
    """
    subject = consent.subject
    rep = _require_representative(actor, subject)
    if consent.status != Consent.Status.ACTIVE:
        raise Conflict(_("Only an active consent can be revoked; this one is %(status)s.") % {"status": consent.status})
    require_power(rep, "revoke")
    authority_check(rep=rep, subject=subject, consent=consent)
    revocation_signature = ""
    if method == Consent.Method.SUBJECT_KEY:
        _verify_subject_signature(subject, signature, canonical_json(revocation_statement(consent)))
        revocation_signature = str(signature)
    elif method == Consent.Method.WITNESSED:
        require_presence(witness, action=_("revoke this consent"))
    else:
        raise ValidationFailed(_("Unknown method."), errors={"method": [_("subject_key or witnessed.")]})
    now = timezone.now()
    effective = now
    if consent.effect == Consent.Effect.PERMIT and consent.revocation_policy == Consent.RevocationPolicy.NOTICE:
        effective = now + timedelta(days=consent.revocation_notice_days)
    return _revoke(consent, rep, reason=reason, revocation_signature=revocation_signature, now=now, effective=effective)


def _revoke(
    consent: Consent,
    rep: Representative,
    *,
    reason: str,
    revocation_signature: str,
    now: datetime,
    effective: datetime,
) -> Consent:
    """The revocation itself, once who and how were checked: logged and evented for the grantee."""
    subject = consent.subject
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != Consent.Status.ACTIVE:
            raise Conflict(_("This consent was revoked or expired meanwhile."))
        consent.status = Consent.Status.REVOKED
        consent.revoked_at, consent.revocation_effective_at, consent.revoked_by = now, effective, rep
        consent.revocation_reason, consent.revocation_signature = reason, revocation_signature
        consent.updated = now
        consent.save()
        digest = _statement_digest(
            {**revocation_statement(consent), "revoked_at": _stamp(now), "effective_at": _stamp(effective)}
        )
        event_record(
            type="consent.revoked",
            payload={
                "consent": consent.public_id,
                "subject": subject.public_id,
                "digest": consent.digest,
                "effective_at": _stamp(effective),
            },
            audience=_relying_organizations(consent),
        )
        entry = log_append(type="consent.revoked", ref=consent.public_id, digest=digest, at=now)
        ConsentEvent.objects.create(
            consent=consent, type=ConsentEvent.Type.REVOKED, at=now, actor=rep, digest=digest, log_index=entry.index
        )
    return consent


def consent_expire(*, consent: Consent, on: date | None = None) -> Consent | None:
    """Mark an active consent expired if its end date (or the minor's coming of age) has passed."""
    day = on or _common.today()
    with transaction.atomic():
        locked = Consent.objects.select_for_update().select_related("subject").filter(pk=consent.pk).first()
        if locked is None or locked.status != Consent.Status.ACTIVE:
            return None
        ended_by_date = locked.valid_until is not None and locked.valid_until < day
        subject = locked.subject
        ended_by_age = (
            subject.adult_on is not None and subject.status == Subject.Status.MINOR and day >= subject.adult_on
        )
        if not (ended_by_date or ended_by_age):
            return None
        now = timezone.now()
        locked.status, locked.expired_at, locked.updated = Consent.Status.EXPIRED, now, now
        locked.save(update_fields=["status", "expired_at", "updated"])
        digest = _statement_digest(
            {
                "type": "restu.consent-expiry/v1",
                "consent": locked.public_id,
                "digest": locked.digest,
                "expired_on": day.isoformat(),
            }
        )
        event_record(
            type="consent.expired",
            payload={"consent": locked.public_id, "subject": subject.public_id, "digest": locked.digest},
            audience=_relying_organizations(locked),
        )
        entry = log_append(type="consent.expired", ref=locked.public_id, digest=digest, at=now)
        ConsentEvent.objects.create(
            consent=locked, type=ConsentEvent.Type.EXPIRED, at=now, digest=digest, log_index=entry.index
        )
    return locked


def consents_expire_due(*, on: date | None = None) -> int:
    """The beat sweep: expire every active consent past its end date or its minor's coming of age."""
    day = on or _common.today()
    due = Consent.objects.filter(status=Consent.Status.ACTIVE).filter(
        Q(valid_until__lt=day) | Q(subject__status=Subject.Status.MINOR, subject__adult_on__lte=day)
    )
    # One transaction per consent: each holds the log lock only for its own leaf.
    expired = sum(1 for consent in due.only("pk") if consent_expire(consent=consent, on=day) is not None)
    # The same day ends the guardianships of everyone who came of age (their access had already
    # ended by date: representative_of checks it on every request).
    guardianships_end_due(on=day)
    return expired
