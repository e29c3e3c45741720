"""A check and its answer: what a studio asks, what the registry answers, and the answer's receipt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consent.rules.decision import (
    PERMITTED,
    Decision,
    UseQuery,
)
from registry.receipts import receipt_sign
from registry.transparency.services import TreeHead


@dataclass(frozen=True)
class Check:
    """A validated verification query."""

    subject: str
    use: UseQuery

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "medium": self.use.medium,
            "activity": self.use.activity,
            "purpose": self.use.purpose,
            "territory": self.use.territory,
            "date": self.use.on.isoformat(),
            "production": self.use.production,
            "min_assurance": self.use.min_assurance,
        }


@dataclass(frozen=True)
class Answer:
    check: Check
    decision: Decision
    subject_pk: int | None
    consent_pk: int | None
    log_index: int | None
    # The subject's assurance at this moment; None for an ``unknown`` answer, which must read the
    # same for a subject that exists but is hidden from the caller as for one that does not exist.
    assurance: str | None = None

    def body(self) -> dict[str, Any]:
        consent = self.decision.consent
        return {
            "decision": self.decision.decision,
            "reasons": list(self.decision.reasons),
            "assurance": self.assurance,
            "consent": consent.public_id if consent else None,
            "consent_digest": consent.digest if consent else None,
            "conditions": consent.conditions if consent and self.decision.decision == PERMITTED else {},
        }


def check_from(data: dict[str, Any]) -> Check:
    """A Check from serializer-validated data."""
    return Check(
        subject=data["subject"],
        use=UseQuery(
            medium=data["medium"],
            activity=data.get("activity") or "generate",
            purpose=data["purpose"],
            territory=data["territory"],
            on=data["date"],
            production=data.get("production") or None,
            min_assurance=data.get("min_assurance") or None,
        ),
    )


def _receipt(answer: Answer, audience: str, head: TreeHead | None = None) -> tuple[str, str]:
    claims = {"sub": answer.check.subject, "aud": audience, "query": answer.check.as_dict(), **answer.body()}
    claims.pop("conditions")
    token = receipt_sign(claims=claims, log_index=answer.log_index, head=head)
    return token, _jti_of(token)


def _jti_of(token: str) -> str:
    import base64
    import json

    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])
