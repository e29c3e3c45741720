"""Studios and tools checking a use: the hot path, bulk checks, receipts and consent tokens.

- ``checks``: a check, its answer and the answer's receipt;
- ``facts``: reading a subject's facts and signed consents (plain SQL, constant queries);
- ``single``: one check (``verification_decide``, ``verification_run``);
- ``bulk``: up to 1,000 checks under one receipt, the misses computed by the database;
- ``tokens``: short-lived consent tokens for offline checks;
- ``access_log``: the one-statement write of every check into the access log.

The decision itself is the pure function in ``consent.rules.decision``.
"""

from consent.verification.bulk import collector_paused, verification_decide_bulk, verification_run_bulk
from consent.verification.checks import Answer, Check, check_from
from consent.verification.single import verification_decide, verification_run
from consent.verification.tokens import TOKEN_LIFETIME, TOKEN_TYPE, consent_token_issue

__all__ = [
    "TOKEN_LIFETIME",
    "TOKEN_TYPE",
    "Answer",
    "Check",
    "check_from",
    "collector_paused",
    "consent_token_issue",
    "verification_decide",
    "verification_decide_bulk",
    "verification_run",
    "verification_run_bulk",
]
