"""Studios and tools checking a use: the hot path, bulk checks, receipts and consent tokens.

A single verification costs a constant number of SQL queries whatever the subject's number of
consents: one for the subject and its signed consents together (plain SQL, plain rows), one insert
into the access log (plus the tree head the receipt cites). A bulk request of up to 1,000 checks
costs the same whatever its size: one read of every (check, consent) pair with the pair's misses
computed by the database (``consent.rules.decision_sql``), one of the cited consents, the tree head, and
ONE multi-row insert into the access log, written once the answer has gone. A subject hidden from
the caller and an id that names nobody cost the same statements, rows and steps (no existence
oracle). The decision itself is the pure function in ``consent.rules.decision``: ``decide`` on the
single path, its second half ``weigh`` on the bulk path. Every answer carries the subject's
``assurance`` at that moment (null when ``unknown``), inside its receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from consent import c2pa
from consent.models import AccessLogEntry
from consent.rules.decision import (
    PERMITTED,
    UNKNOWN,
    ConsentFacts,
    decide,
)
from consent.verification.access_log import _log_access
from consent.verification.checks import Answer, Check, _receipt
from consent.verification.facts import _load
from registry.accounts.models import ApiKey, Organization, User
from registry.witness.selectors import log_position, log_proofs


def verification_decide(
    *, caller: str, checks: Sequence[Check], now: datetime | None = None, to_representative: bool = False
) -> list[Answer]:
    """Decide every check for the caller (an organization's public id) with ``decide``; reads only.

    ``to_representative``: the answers go to one of the subjects' representatives (a consent token
    they ask for on behalf of an organization), who may hear ``wrong_grantee``."""
    moment = now or timezone.now()
    known = _load((check.subject for check in checks), grantee=None if to_representative else caller)
    facts_of: dict[str, list[ConsentFacts]] = {}
    answers = []
    for check in checks:
        subject = known.get(check.subject)
        if subject is None:
            unknown = decide(query=check.use, caller=caller, subject=None, consents=(), now=moment)
            answers.append(Answer(check, unknown, None, None, None))
            continue
        facts = facts_of.get(check.subject)
        if facts is None:
            facts = facts_of[check.subject] = [item[0] for item in subject.consents]
        decision = decide(
            query=check.use,
            caller=caller,
            subject=subject.facts,
            consents=facts,
            now=moment,
            to_representative=to_representative,
        )
        chosen = decision.consent
        # ``decide`` returns one of the facts it was given: find its row by identity.
        row = None if chosen is None else next(item for item in subject.consents if item[0] is chosen)
        answers.append(
            Answer(
                check,
                decision,
                subject.pk,
                row[1] if row else None,
                row[2] if row else None,
                None if decision.decision == UNKNOWN else subject.facts.assurance,
            ),
        )
    return answers


def verification_run(
    *, organization: Organization, check: Check, user: User | None = None, api_key: ApiKey | None = None
) -> dict[str, Any]:
    """Answer one check with a signed receipt, and note it in the subject's access log.

    The answer carries ``log_proof`` (the cited consent's tlog-proof, or null) and, when permitted,
    ``c2pa_assertions``. The CAWG uses those assertions state are decided in the same read as the
    check itself, whatever the answer, so the assertions cost no query and every subject the same."""
    caller = organization.public_id
    training = c2pa.training_checks([check])
    [answer, *uses] = verification_decide(caller=caller, checks=[check, *training])
    # The tree head and the checkpoint are read whatever the answer cites (an answer citing nothing
    # costs the same), together in one statement.
    position = log_position()
    receipt, jti = _receipt(answer, caller, head=position.head)
    proofs = log_proofs([answer.log_index], position)
    proof = proofs.get(answer.log_index) if answer.log_index is not None else None
    _log_access(
        [answer],
        kind=AccessLogEntry.Kind.VERIFICATION,
        organization=organization,
        user=user,
        api_key=api_key,
        receipt_ids=[jti],
    )
    assertions = None
    consent = answer.decision.consent
    if answer.decision.decision == PERMITTED and consent is not None:
        assertions = c2pa.c2pa_assertions(
            caller=caller,
            checks=[check],
            receipt=receipt,
            consent=consent.public_id,
            log_proof=proof,
            entries=c2pa.training_mining_from(uses),
        )
    return {**answer.body(), "receipt": receipt, "log_proof": proof, "c2pa_assertions": assertions}
