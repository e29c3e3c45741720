"""Erasure deletes a person's personal data; the log and every past receipt still verify. Plus the demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from consent import services
from consent.models import Consent, Dispute, Representative, SubjectProfile
from registry.accounts.models import User
from registry.accounts.presence import Presence
from registry.receipts import receipt_sign, receipt_verify
from registry.transparency.models import LogEntry

pytestmark = pytest.mark.django_db


def fresh() -> Presence:
    return Presence(authenticated_at=timezone.now(), second_factor=True, method="mfa")


def _sign(subject, actor):
    today = timezone.now().date()
    consent = services.consent_create(
        subject=subject,
        actor=actor,
        terms={
            "effect": "permit",
            "grantee": "*",
            "media": ["face"],
            "purposes": ["art"],
            "intended_use": "A gallery installation about Sari Pemeran",
            "territories": ["ID"],
            "valid_from": today,
            "valid_until": today + timedelta(days=10),
        },
    )
    return services.consent_sign(consent=consent, actor=actor, method="witnessed", witness=fresh())


def test_log_leaves_carry_ids_and_digests_only(make_subject, make_user, make_org):
    subject, person = make_subject(name="Sari Pemeran")
    consent = _sign(subject, person)
    services.consent_revoke(consent=consent, actor=person, reason="Sari wants it gone", witness=fresh())
    guild = make_org(make_user(), kind="guild")
    services.vouch_give(subject=subject, organization=guild, actor_role="owner", user=person)
    leaves = b"".join(bytes(e.leaf) for e in LogEntry.objects.all())
    assert LogEntry.objects.count() == 3
    for secret in (b"Sari", person.email.encode(), b"gallery", b"gone"):
        assert secret not in leaves


def test_erasure_deletes_personal_data_and_the_log_and_receipts_still_verify(make_subject, make_user, capsys):
    subject, person = make_subject(name="Sari Pemeran")
    consent = _sign(subject, person)
    entry = LogEntry.objects.get(type="consent.signed", ref=consent.public_id)
    receipt = receipt_sign(
        claims={
            "sub": subject.public_id,
            "decision": "permitted",
            "consent": consent.public_id,
            "consent_digest": consent.digest,
        },
        log_index=entry.index,
    )
    services.dispute_open(subject=subject, opened_by=person, kind="impersonation", statement="My name is Sari")
    email = person.email

    call_command("erase_person", "--email", email)

    assert not SubjectProfile.objects.filter(subject=subject).exists()
    assert Dispute.objects.get().statement == ""
    erased = User.objects.get(pk=person.pk)
    assert not erased.is_active
    assert erased.email != email
    assert not erased.has_usable_password()
    assert not Representative.objects.filter(user=erased, ended_at__isnull=True).exists()
    call_command("verify_log")
    assert "verif" in capsys.readouterr().out.lower()
    check = receipt_verify(receipt)
    assert check.valid, check.reason
    assert check.payload["consent_digest"] == Consent.objects.get(pk=consent.pk).digest


def test_erase_person_refuses_an_unknown_email():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("erase_person", "--email", "nobody@example.org")


def test_demo_consents_is_idempotent():
    call_command("demo_consents")
    performer = User.objects.get(email="performer@demo.restu.example")
    counts = (Consent.objects.count(), LogEntry.objects.count())
    assert counts[0] == 3
    assert set(Consent.objects.values_list("effect", flat=True)) == {"permit", "deny"}
    assert Representative.objects.get(user=performer).role == "self"
    call_command("demo_consents")
    assert (Consent.objects.count(), LogEntry.objects.count()) == counts
