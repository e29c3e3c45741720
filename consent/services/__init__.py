"""Every write to subjects, representatives, keys, vouches, consents, disputes and the access log.

Each state change that matters happens here, in one transaction with its transparency-log leaf
(appended last — it holds the log's lock until commit — save the history row that records its
index) and its outbox event. Emails to the subject's representatives are queued with
``transaction.on_commit`` and carry ids only.

One module per concept (representatives, subjects, appointments, keys, vouches, terms, consents,
revocation, disputes, access_log, erasure; shared helpers in _common); every name other code
uses is re-exported here.
"""

from ._common import today
from .access_log import access_log_read, access_log_record
from .appointments import (
    REPRESENTATIVE_INVITATION,
    representative_add,
    representative_end,
    representative_invitation_accept,
    representative_invitation_describe,
    representative_invite,
    subject_hand_over_invite,
)
from .consents import WITNESS_TYP, consent_create, consent_discard, consent_sign, consent_update
from .disputes import RELIANCE_DAYS, dispute_open, dispute_resolve, organizations_relying_on
from .erasure import Erasure, person_erase, subject_erase
from .keys import (
    subject_key_add,
    subject_key_add_statement,
    subject_key_retire,
    subject_key_retire_statement,
    subject_key_statement,
)
from .representatives import (
    AUTHORITY,
    POWER_WORDS,
    authority_check,
    representation_in_force,
    representative_of,
    require_power,
)
from .revocation import consent_expire, consent_revoke, consents_expire_due
from .subjects import (
    assurance_refresh_for_organization,
    former_guardian_of,
    guardianships_end_due,
    guardianships_end_for,
    subject_assurance_refresh,
    subject_create,
    subject_profile_update,
)
from .terms import (
    CONDITION_DEFAULTS,
    CONSENT_TERMS_TYPE,
    GUIDELINE_REF,
    MAX_NOTICE_DAYS,
    MINOR_FORBIDDEN_PURPOSES,
    REVOCATION_TYPE,
    Terms,
    consent_signing_input,
    consent_terms_document,
    revocation_signing_input,
    revocation_statement,
)
from .vouches import vouch_give, vouch_revoke, vouch_statement

__all__ = [
    "AUTHORITY",
    "CONDITION_DEFAULTS",
    "CONSENT_TERMS_TYPE",
    "GUIDELINE_REF",
    "MAX_NOTICE_DAYS",
    "MINOR_FORBIDDEN_PURPOSES",
    "POWER_WORDS",
    "RELIANCE_DAYS",
    "REPRESENTATIVE_INVITATION",
    "REVOCATION_TYPE",
    "WITNESS_TYP",
    "Erasure",
    "Terms",
    "access_log_read",
    "access_log_record",
    "assurance_refresh_for_organization",
    "authority_check",
    "consent_create",
    "consent_discard",
    "consent_expire",
    "consent_revoke",
    "consent_sign",
    "consent_signing_input",
    "consent_terms_document",
    "consent_update",
    "consents_expire_due",
    "dispute_open",
    "dispute_resolve",
    "former_guardian_of",
    "guardianships_end_due",
    "guardianships_end_for",
    "organizations_relying_on",
    "person_erase",
    "representation_in_force",
    "representative_add",
    "representative_end",
    "representative_invitation_accept",
    "representative_invitation_describe",
    "representative_invite",
    "representative_of",
    "require_power",
    "revocation_signing_input",
    "revocation_statement",
    "subject_assurance_refresh",
    "subject_create",
    "subject_erase",
    "subject_hand_over_invite",
    "subject_key_add",
    "subject_key_add_statement",
    "subject_key_retire",
    "subject_key_retire_statement",
    "subject_key_statement",
    "subject_profile_update",
    "today",
    "vouch_give",
    "vouch_revoke",
    "vouch_statement",
]
