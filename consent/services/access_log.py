"""The access log: recording who checked a subject, and the subject reading it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from consent.models import AccessLogEntry, Consent, Subject
from registry.accounts.models import ApiKey, Organization, User

from .representatives import _require_representative, require_power


def access_log_record(
    *,
    subject: Subject,
    query: dict[str, Any],
    decision: str,
    kind: str = AccessLogEntry.Kind.VERIFICATION,
    caller_org: Organization | None = None,
    caller_user: User | None = None,
    caller_key: ApiKey | None = None,
    consent: Consent | None = None,
    receipt_id: str = "",
) -> AccessLogEntry:
    """Note that someone checked the subject (for the verification, token and release services)."""
    return AccessLogEntry.objects.create(
        subject=subject,
        kind=kind,
        caller_org=caller_org,
        caller_user=caller_user if caller_user and caller_user.is_authenticated else None,
        caller_key=caller_key,
        query=query,
        decision=decision,
        consent=consent,
        receipt_id=receipt_id,
    )


def access_log_read(*, subject: Subject, actor: User) -> QuerySet[AccessLogEntry]:
    """Who checked the subject (``read_access_log``): the entries, newest last."""
    rep = _require_representative(actor, subject)
    require_power(rep, "read_access_log")
    return AccessLogEntry.objects.filter(subject=subject).select_related(
        "caller_org", "consent", "caller_key", "caller_user"
    )
