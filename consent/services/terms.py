"""Consent terms: validating what a consent covers; the documents a subject signs (terms, revocation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from consent import vocabulary as v
from consent.models import Consent, Subject
from registry.accounts.models import Organization
from registry.errors import NotFound, ValidationFailed
from registry.lib.canonical import b64url_encode, canonical_json

from . import _common

CONSENT_TERMS_TYPE = "restu.consent/v1"
REVOCATION_TYPE = "restu.consent-revocation/v1"
GUIDELINE_REF = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}@(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
MAX_NOTICE_DAYS = 365
# A permit for a minor never covers these (docs/api.md v1.1, "Minors"); a deny may name them.
MINOR_FORBIDDEN_PURPOSES = ("sexual_content", "political")


def _check_media(media: Any, field: str = "media") -> dict[str, list[str]]:
    if not isinstance(media, list) or not media:
        return {field: [_("Name at least one of face, voice, body — or likeness for all of them.")]}
    unknown = [m for m in media if m not in (*v.MEDIA_KEYS, v.LIKENESS)]
    return {field: [_("Unknown medium: %(medium)s.") % {"medium": m} for m in unknown]} if unknown else {}


def _check_activities(activities: Any, field: str = "activities") -> dict[str, list[str]]:
    if not isinstance(activities, list) or not activities:
        return {field: [_("Name at least one activity.")]}
    unknown = [a for a in activities if a not in v.ACTIVITY_KEYS]
    return {field: [_("Unknown activity: %(activity)s.") % {"activity": a} for a in unknown]} if unknown else {}


def _check_purposes(purposes: Any, field: str = "purposes") -> dict[str, list[str]]:
    if not isinstance(purposes, list) or not purposes:
        return {field: [_("Name at least one purpose, or * for every purpose that is not sensitive.")]}
    problems = []
    for p in purposes:
        if not isinstance(p, str):
            problems.append(_("Each purpose is a word from the vocabulary."))
        elif "*" in p and p != v.ANY:
            # "sexual_*", "*sensitive" and the like: a wildcard must never reach a sensitive purpose.
            problems.append(
                _(
                    "%(purpose)s: a wildcard cannot cover sensitive purposes; "
                    "name political or sexual_content one by one."
                )
                % {"purpose": p}
            )
        elif p != v.ANY and p not in v.PURPOSE_KEYS:
            problems.append(_("Unknown purpose: %(purpose)s.") % {"purpose": p})
    return {field: problems} if problems else {}


def _check_minor_purposes(purposes: Any) -> dict[str, list[str]]:
    """A permit for a minor never covers a sexual or political purpose (a deny may name them)."""
    named = [p for p in MINOR_FORBIDDEN_PURPOSES if isinstance(purposes, (list, tuple)) and p in purposes]
    if not named:
        return {}
    return {"purposes": [_("A permit for a minor can never include %(purpose)s.") % {"purpose": p} for p in named]}


def _minor_permit_forbidden(consent: Consent) -> dict[str, list[str]]:
    """The same rule on a stored consent: its purposes and its purpose mask."""
    if consent.effect != Consent.Effect.PERMIT or consent.subject.status != Subject.Status.MINOR:
        return {}
    named = set(consent.purposes or []) | {
        p for p in MINOR_FORBIDDEN_PURPOSES if consent.purpose_mask & v.bit(v.PURPOSE_KEYS, p)
    }
    return _check_minor_purposes(sorted(named))


def _check_territories(territories: Any) -> dict[str, list[str]]:
    import pycountry

    if not isinstance(territories, list) or not territories:
        return {"territories": [_("Name at least one country (ISO 3166-1 alpha-2), or * for everywhere.")]}
    if v.ANY in territories:
        return {} if territories == [v.ANY] else {"territories": ["* means everywhere: use it alone."]}
    unknown = [
        t
        for t in territories
        if not isinstance(t, str) or len(t) != 2 or not t.isupper() or pycountry.countries.get(alpha_2=t) is None
    ]
    return {"territories": [_("Unknown country code: %(code)s.") % {"code": t} for t in unknown]} if unknown else {}


@dataclass
class Terms:
    """A consent's terms after validation, ready to be stored and canonicalized."""

    effect: str
    grantee: str
    grantee_org: Organization | None
    production: str | None
    media: list[str]
    activities: list[str]
    purposes: list[str]
    territories: list[str]
    valid_from: date
    valid_until: date | None
    intended_use: str
    conditions: dict[str, Any]
    revocation_policy: str
    revocation_notice_days: int
    representation: str
    court_approval_ref: str | None
    guideline_ref: str | None
    guideline_digest: str | None


CONDITION_DEFAULTS: dict[str, Any] = {
    "attribution_required": False,
    "approval_required": False,
    "disclosure_label_required": False,
    "compensation_ref": "",
    "notes": "",
}


def _guideline_digest(ref: str) -> str:
    """The digest of a published guideline version; ValidationFailed for anything else."""
    try:
        from guidelines.selectors import guideline_version_get_published
    except ImportError:
        # Without the guidelines app we cannot confirm the version is published: refuse.
        raise ValidationFailed(
            _("Guidelines cannot be checked right now."),
            errors={"guideline": [_("Not a published guideline version.")]},
        ) from None
    try:
        version = guideline_version_get_published(ref=ref)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.detail, errors={"guideline": (exc.errors or {}).get("guideline", [exc.detail])}
        ) from None
    except NotFound as exc:
        raise ValidationFailed(exc.detail, errors={"guideline": [_("Not a published guideline version.")]}) from None
    return str(version.digest)


def _validate_terms(subject: Subject, data: dict[str, Any]) -> Terms:
    errors: dict[str, list[str]] = {}
    effect = data.get("effect")
    if effect not in Consent.Effect.values:
        errors["effect"] = [_("Must be permit or deny.")]
    grantee = data.get("grantee")
    grantee_org = None
    if grantee != v.ANY:
        grantee_org = Organization.objects.filter(public_id=grantee).first() if isinstance(grantee, str) else None
        if grantee_org is None:
            errors["grantee"] = [_("An organization id (org_…) or * for anyone.")]
    # Raw request values, of any type until the _check_* below accept them (lists of words).
    media: Any = data.get("media")
    activities: Any = data.get("activities") or list(v.DEFAULT_ACTIVITIES)
    purposes: Any = data.get("purposes")
    territories: Any = data.get("territories")
    errors.update(_check_media(media))
    errors.update(_check_activities(activities))
    errors.update(_check_purposes(purposes))
    if effect == Consent.Effect.PERMIT and subject.status == Subject.Status.MINOR:
        errors.update(_check_minor_purposes(purposes))
    errors.update(_check_territories(territories))
    valid_from = data.get("valid_from") or _common.today()
    valid_until = data.get("valid_until")
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = [_("Must not be before valid_from.")]
    if subject.status == Subject.Status.MINOR and subject.adult_on is not None:
        # A consent for a minor ends no later than the day they come of age.
        if valid_until is None:
            valid_until = subject.adult_on
        elif valid_until > subject.adult_on:
            errors["valid_until"] = [
                _("A consent for a minor ends by the day they come of age (%(day)s).")
                % {"day": formats.date_format(subject.adult_on, "j F Y")}
            ]
        if valid_from >= subject.adult_on:
            errors["valid_from"] = [_("The person is an adult by then; they decide for themselves.")]
    conditions = {**CONDITION_DEFAULTS, **(data.get("conditions") or {})}
    unknown_conditions = set(conditions) - set(CONDITION_DEFAULTS)
    if unknown_conditions:
        errors["conditions"] = [
            _("Unknown condition: %(condition)s.") % {"condition": c} for c in sorted(unknown_conditions)
        ]
    revocation = data.get("revocation") or {"policy": "anytime"}
    policy = revocation.get("policy", "anytime")
    notice_days = revocation.get("notice_days", 0) if policy == "notice" else 0
    if policy not in Consent.RevocationPolicy.values:
        errors["revocation.policy"] = [_("Must be anytime or notice.")]
    elif policy == "notice" and not (
        isinstance(notice_days, int) and not isinstance(notice_days, bool) and 1 <= notice_days <= MAX_NOTICE_DAYS
    ):
        errors["revocation.notice_days"] = [
            _("Between 1 and %(days)s days for a notice policy.") % {"days": MAX_NOTICE_DAYS}
        ]
    representation = data.get("representation") or Consent.Representation.NONE
    if representation not in Consent.Representation.values:
        errors["representation"] = [_("Must be counsel, union or none.")]
    intended_use = (data.get("intended_use") or "").strip()
    if effect == Consent.Effect.PERMIT and len(intended_use) < 10:
        errors["intended_use"] = [_("Describe the intended use in a few words (at least 10 characters).")]
    guideline_ref = data.get("guideline")
    guideline_digest = None
    if guideline_ref is not None and not (isinstance(guideline_ref, str) and GUIDELINE_REF.match(guideline_ref)):
        errors["guideline"] = [_("A guideline reference looks like slug@1.2.0.")]
    if errors:
        raise ValidationFailed(_("The consent's terms are not valid."), errors=errors)
    if guideline_ref is not None:
        guideline_digest = _guideline_digest(guideline_ref)
    return Terms(
        effect=str(effect),
        grantee=str(grantee),
        grantee_org=grantee_org,
        production=data.get("production") or None,
        media=sorted(set(media)),
        activities=sorted(set(activities)),
        purposes=sorted(set(purposes)),
        territories=sorted(set(territories)),
        valid_from=valid_from,
        valid_until=valid_until,
        intended_use=intended_use,
        conditions=conditions,
        revocation_policy=policy,
        revocation_notice_days=notice_days,
        representation=representation,
        court_approval_ref=data.get("court_approval_ref") or None,
        guideline_ref=guideline_ref,
        guideline_digest=guideline_digest,
    )


def consent_terms_document(consent: Consent) -> dict[str, Any]:
    """The canonical terms: exactly what gets signed. No names or other personal data."""
    return {
        "type": CONSENT_TERMS_TYPE,
        "registry": settings.REGISTRY_ISSUER,
        "id": consent.public_id,
        "subject": consent.subject.public_id,
        "effect": consent.effect,
        "grantee": consent.grantee,
        "production": consent.production,
        "media": consent.media,
        "activities": consent.activities,
        "purposes": consent.purposes,
        "territories": consent.territories,
        "valid_from": consent.valid_from.isoformat(),
        "valid_until": consent.valid_until.isoformat() if consent.valid_until else None,
        "intended_use": consent.intended_use,
        "conditions": consent.conditions,
        "revocation": {"policy": consent.revocation_policy, "notice_days": consent.revocation_notice_days},
        "representation": consent.representation,
        "court_approval_ref": consent.court_approval_ref,
        "guideline": (
            {"ref": consent.guideline_ref, "digest": consent.guideline_digest} if consent.guideline_ref else None
        ),
    }


def consent_signing_input(consent: Consent) -> str:
    """base64url of the canonical terms: the exact bytes a subject key signs."""
    return b64url_encode(canonical_json(consent.terms))


def revocation_statement(consent: Consent) -> dict[str, Any]:
    """What a subject key signs to revoke: the consent and the digest of its terms."""
    return {
        "type": REVOCATION_TYPE,
        "registry": settings.REGISTRY_ISSUER,
        "consent": consent.public_id,
        "digest": consent.digest,
    }


def revocation_signing_input(consent: Consent) -> str:
    return b64url_encode(canonical_json(revocation_statement(consent)))
