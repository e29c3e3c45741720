"""Consents: creating and updating a draft, and signing it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import vocabulary as v
from consent.models import Consent, ConsentEvent, Subject
from consent.rules.statements import LANGUAGES, consent_summary
from registry import keys
from registry.accounts.models import User
from registry.accounts.presence import Presence, require_presence
from registry.errors import Conflict, NotAllowed, ValidationFailed
from registry.events.services import event_record
from registry.lib.canonical import canonical_json, sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.signing import sign_compact
from registry.transparency.services import log_append

from . import _common
from ._common import _stamp
from .keys import _verify_subject_signature
from .representatives import _require_representative, authority_check, require_power
from .terms import Terms, _minor_permit_forbidden, _validate_terms, consent_terms_document

WITNESS_TYP = "restu-consent-witness+jws"


def _apply_terms(consent: Consent, terms: Terms) -> None:
    for field, value in terms.__dict__.items():
        setattr(consent, field, value)
    consent.media_mask = v.media_mask(terms.media)
    consent.activity_mask = v.activity_mask(terms.activities)
    consent.purpose_mask = v.purpose_mask(terms.purposes)
    consent.territory_codes = v.ANY if terms.territories == [v.ANY] else "|" + "|".join(terms.territories) + "|"
    consent.terms = consent_terms_document(consent)
    consent.digest = sha256_digest(canonical_json(consent.terms))


def consent_create(*, subject: Subject, actor: User, terms: dict[str, Any]) -> Consent:
    """Write a draft consent (permit or deny) for a subject the actor represents."""
    rep = _require_representative(actor, subject)
    require_power(rep, "sign")
    validated = _validate_terms(subject, terms)
    consent = Consent(subject=subject, created_by=rep, public_id=new_public_id(Consent.PREFIX))
    _apply_terms(consent, validated)
    with transaction.atomic():
        consent.save()
        ConsentEvent.objects.create(consent=consent, type=ConsentEvent.Type.CREATED, actor=rep, digest=consent.digest)
    return consent


def consent_update(*, consent: Consent, actor: User, changes: dict[str, Any]) -> Consent:
    """Change a draft's terms; a signed consent never changes (409): make a new one instead."""
    rep = _require_representative(actor, consent.subject)
    require_power(rep, "sign")
    if consent.status != Consent.Status.DRAFT:
        raise Conflict(_("A signed consent cannot be changed; revoke it and create a new one."))
    current = {
        "effect": consent.effect,
        "grantee": consent.grantee,
        "production": consent.production,
        "media": consent.media,
        "activities": consent.activities,
        "purposes": consent.purposes,
        "territories": consent.territories,
        "valid_from": consent.valid_from,
        "valid_until": consent.valid_until,
        "intended_use": consent.intended_use,
        "conditions": consent.conditions,
        "revocation": {"policy": consent.revocation_policy, "notice_days": consent.revocation_notice_days},
        "representation": consent.representation,
        "court_approval_ref": consent.court_approval_ref,
        "guideline": consent.guideline_ref,
    }
    validated = _validate_terms(consent.subject, {**current, **changes})
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != Consent.Status.DRAFT:
            raise Conflict(_("A signed consent cannot be changed; revoke it and create a new one."))
        _apply_terms(consent, validated)
        consent.updated = timezone.now()
        consent.save()
        ConsentEvent.objects.create(consent=consent, type=ConsentEvent.Type.UPDATED, actor=rep, digest=consent.digest)
    return consent


# --- Signing ----------------------------------------------------------------------------------


def consent_sign(
    *,
    consent: Consent,
    actor: User,
    method: str,
    signature: str | None = None,
    witness: Presence | None = None,
    language: str = "en",
    notice_digest: str | None = None,
) -> Consent:
    """Sign a draft: by a subject key (a JWS over the signing input) or witnessed by the registry.

    Freezes the terms, stores the plain-language summary the signer was shown and its digest,
    appends ``consent.signed`` to the log and records the event, all in one transaction.
    """
    subject = consent.subject
    rep = _require_representative(actor, subject)
    if consent.status != Consent.Status.DRAFT:
        raise Conflict(_("This consent is already signed."))
    require_power(rep, "sign")
    authority_check(rep=rep, subject=subject, consent=consent)
    forbidden = _minor_permit_forbidden(consent)
    if forbidden:
        raise ValidationFailed(_("This permit cannot be signed for a minor."), errors=forbidden)
    if consent.effect == Consent.Effect.PERMIT and subject.disputed:
        raise Conflict(_("A dispute about this person is open; new permits wait until staff resolve it."))
    if consent.valid_until is not None and consent.valid_until < _common.today():
        raise Conflict(_("This consent would already have ended; change its dates first."))
    if subject.status == Subject.Status.MINOR and not subject.is_minor_on(_common.today()):
        raise NotAllowed(_("The person has come of age; only they can give consent now."))
    language = language if language in LANGUAGES else "en"
    summary = consent_summary(consent, language)
    shown_digest = sha256_digest(summary.encode("utf-8"))
    if notice_digest is not None and notice_digest != shown_digest:
        raise Conflict(_("The summary you saw is out of date; read it again before signing."))
    now = timezone.now()
    second_factor: bool | None = None
    if method == Consent.Method.SUBJECT_KEY:
        kid = _verify_subject_signature(subject, signature, canonical_json(consent.terms))
        stored_signature = str(signature)
    elif method == Consent.Method.WITNESSED:
        evidence = require_presence(witness, action=_("sign this consent"))
        second_factor = evidence.second_factor
        registry_key = keys.keyring().active(keys.RECEIPT)
        kid = registry_key.kid
        countersignature = {
            "type": "restu.consent-witness/v1",
            "iss": settings.REGISTRY_ISSUER,
            "consent": consent.public_id,
            "subject": subject.public_id,
            "digest": consent.digest,
            "notice_digest": shown_digest,
            "signer": rep.public_id,
            "role": rep.role,
            "authenticated_at": _stamp(evidence.authenticated_at),
            "second_factor": evidence.second_factor,
            "signed_at": _stamp(now),
        }
        stored_signature = sign_compact(
            canonical_json(countersignature), registry_key.private_key, registry_key.kid, typ=WITNESS_TYP
        )
    else:
        raise ValidationFailed(_("Unknown signing method."), errors={"method": ["subject_key or witnessed."]})
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.status != Consent.Status.DRAFT or locked.digest != consent.digest:
            raise Conflict(_("This consent changed or was signed meanwhile."))
        consent.status = Consent.Status.ACTIVE
        consent.signed_at, consent.signed_by, consent.method = now, rep, method
        consent.signature, consent.signer_kid, consent.second_factor = stored_signature, kid, second_factor
        consent.notice_summary, consent.notice_language, consent.notice_digest = summary, language, shown_digest
        consent.updated = now
        consent.save()
        event_record(
            type="consent.signed",
            payload={"consent": consent.public_id, "subject": subject.public_id, "digest": consent.digest},
            audience=[consent.grantee_org.public_id] if consent.grantee_org else None,
        )
        entry = log_append(type="consent.signed", ref=consent.public_id, digest=consent.digest, at=now)
        # The one write after the leaf: the history row records the leaf's index, which exists only
        # now. A single small insert, so the log's lock is held barely longer.
        ConsentEvent.objects.create(
            consent=consent,
            type=ConsentEvent.Type.SIGNED,
            at=now,
            actor=rep,
            digest=consent.digest,
            log_index=entry.index,
        )
    return consent


def consent_discard(*, consent: Consent, actor: User) -> None:
    """Delete a draft that was never signed, with its history.

    Only signing appends to the transparency log, so a draft has no leaf there and nothing public
    refers to it: deleting it keeps no personal data without a reason. A signed consent stays for
    good (409): it is revoked instead, and its leaf and history remain."""
    rep = _require_representative(actor, consent.subject)
    require_power(rep, "sign")
    with transaction.atomic():
        locked = Consent.objects.select_for_update().filter(pk=consent.pk).first()
        if locked is None:
            return
        if locked.status != Consent.Status.DRAFT or locked.signed_at is not None:
            raise Conflict(_("A signed consent cannot be discarded; revoke it instead."))
        locked.delete()
