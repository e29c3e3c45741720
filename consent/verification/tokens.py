"""Consent tokens: a short-lived signed statement that one use is permitted, for offline checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from consent.models import AccessLogEntry
from consent.rules.decision import (
    PERMITTED,
)
from consent.verification.access_log import _log_access
from consent.verification.checks import Check, _jti_of
from consent.verification.single import verification_decide
from registry.accounts.models import ApiKey, Organization, User
from registry.errors import NotAllowed
from registry.lib.timestamps import rfc3339
from registry.receipts import receipt_sign
from registry.witness.selectors import log_position, log_proofs

TOKEN_TYPE = "restu-consent-token+jws"  # noqa: S105 — a JWS "typ", not a secret
TOKEN_LIFETIME = timedelta(minutes=10)


def consent_token_issue(
    *, check: Check, audience: str, organization: Organization | None, user: User | None, api_key: ApiKey | None
) -> dict[str, Any]:
    """A short-lived signed token saying this use is permitted, for a tool to check offline.

    ``audience`` is the organization that will use the likeness (the caller when it is a
    grantee; chosen by a representative otherwise). Refused (403) unless the answer is permitted.
    """
    # Without an organization the caller is one of the person's representatives (the view checks).
    [answer] = verification_decide(caller=audience, checks=[check], to_representative=organization is None)
    if answer.decision.decision != PERMITTED:
        _log_access(
            [answer],
            kind=AccessLogEntry.Kind.TOKEN,
            organization=organization,
            user=user,
            api_key=api_key,
            receipt_ids=[""],
        )
        raise NotAllowed("No consent covers this use, so no token can be issued: " + ", ".join(answer.decision.reasons))
    now = timezone.now()
    consent = answer.decision.consent
    assert consent is not None
    position = log_position()
    proofs = log_proofs([answer.log_index], position)
    token = receipt_sign(
        claims={
            "sub": check.subject,
            "aud": audience,
            "nbf": int(now.timestamp()),
            "exp": int((now + TOKEN_LIFETIME).timestamp()),
            "use": check.as_dict(),
            "consent": consent.public_id,
            "consent_digest": consent.digest,
        },
        log_index=answer.log_index,
        typ=TOKEN_TYPE,
        head=position.head,
    )
    _log_access(
        [answer],
        kind=AccessLogEntry.Kind.TOKEN,
        organization=organization,
        user=user,
        api_key=api_key,
        receipt_ids=[_jti_of(token)],
    )
    return {
        "token": token,
        "expires_at": rfc3339(now + TOKEN_LIFETIME),
        "consent": consent.public_id,
        # The tlog-proof of the consent's consent.signed leaf (null until a witnessed checkpoint
        # covers it): with it a tool checks the token's consent against the log with no network.
        "log_proof": proofs.get(answer.log_index) if answer.log_index is not None else None,
    }
