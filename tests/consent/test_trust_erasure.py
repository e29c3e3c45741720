"""Erasure as docs/api.md v1.1 says: permits revoked first (logged, grantees told), then every piece of
personal free text gone from every table, while every receipt and log proof still verifies."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from consent import services
from consent.models import Consent, Subject
from registry.events.models import OutboxEvent
from registry.receipts import receipt_sign, receipt_verify
from registry.transparency.models import LogEntry
from tests.consent.conftest import witness

pytestmark = pytest.mark.django_db

NAME = "Sari Wulandari Pemeran"
CHILD = "Adik Kecil Wulandari"
SENTENCES = [
    "Sari grew up in Bandung and dances jaipong",  # bio
    "Call my manager Budi before anything",  # notes
    "A gallery installation about my grandmother's village",  # intended use
    "Pay into the Wulandari family account",  # condition notes
    "PN Bandung 123/Pdt.P/2026",  # court reference
    "I no longer want this shown anywhere",  # revocation reason
    "Somebody pretends to be me on the market",  # dispute statement
    "Staff confirmed Wulandari's identity by phone",  # dispute resolution about her
]


def _text_hits(needles: list[str]) -> list[str]:
    """Every (table.column) of every model whose text holds one of ``needles``."""
    hits = []
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField, models.BinaryField))
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*[f.attname for f in fields]):
            for field, value in zip(fields, row, strict=True):
                if value is None:
                    continue
                if isinstance(value, (bytes, memoryview)):
                    text = bytes(value).decode("utf-8", "replace")
                elif isinstance(value, str):
                    text = value
                else:
                    text = json.dumps(value, ensure_ascii=False, default=str)
                for needle in needles:
                    if needle.lower() in text.lower():
                        hits.append(f"{model._meta.db_table}.{field.attname}: {needle}")
    return hits


def test_a_permit_revoked_with_notice_ends_at_erasure(make_subject):
    from django.utils import timezone

    subject, person = make_subject()
    body = {
        "effect": "permit",
        "grantee": "*",
        "media": ["face"],
        "purposes": ["art"],
        "intended_use": "A gallery installation",
        "territories": ["ID"],
        "revocation": {"policy": "notice", "notice_days": 30},
    }
    draft = services.consent_create(subject=subject, actor=person, terms=body)
    consent = services.consent_sign(consent=draft, actor=person, method="witnessed", witness=witness())
    services.consent_revoke(consent=consent, actor=person, witness=witness())
    assert Consent.objects.get(pk=consent.pk).revocation_effective_at > timezone.now()

    services.person_erase(user=person, presence=witness())

    assert Consent.objects.get(pk=consent.pk).revocation_effective_at <= timezone.now()


def test_erasure_revokes_permits_first_then_leaves_no_personal_text_anywhere(
    make_subject, make_user, make_org, fresh_client, terms
):
    subject, person = make_subject(name=NAME)
    person.display_name = NAME
    person.save()
    email = person.email
    grantee = make_org(make_user())
    services.subject_profile_update(
        subject=subject, actor=person, bio=SENTENCES[0], notes=SENTENCES[1], presence=witness()
    )
    api = fresh_client(person)
    body = terms(
        subject,
        grantee=grantee.public_id,
        purposes=["art"],
        intended_use=SENTENCES[2],
        conditions={"notes": SENTENCES[3], "compensation_ref": "Wulandari fee"},
        court_approval_ref=SENTENCES[4],
    )
    draft = api.post("/api/v1/consents", body, format="json", HTTP_IDEMPOTENCY_KEY="erase-me-1").json()
    signed = api.post(f"/api/v1/consents/{draft['id']}/sign", {"method": "witnessed"}, format="json")
    assert signed.status_code == 200, signed.content
    active = Consent.objects.get(public_id=draft["id"])
    # One revoked with a reason, one still in force at the moment of erasure.
    other = api.post("/api/v1/consents", terms(subject, intended_use=SENTENCES[2] + " again"), format="json").json()
    api.post(f"/api/v1/consents/{other['id']}/sign", {"method": "witnessed"}, format="json")
    api.post(f"/api/v1/consents/{other['id']}/revoke", {"reason": SENTENCES[5]}, format="json")
    dispute = services.dispute_open(subject=subject, opened_by=person, kind="impersonation", statement=SENTENCES[6])
    staff = make_user()
    staff.is_staff = True
    staff.save()
    services.dispute_resolve(dispute=dispute, staff_user=staff, resolution=SENTENCES[7])
    child, _ = make_subject("minor", user=person, name=CHILD)
    entry = LogEntry.objects.get(type="consent.signed", ref=active.public_id)
    receipt = receipt_sign(
        claims={
            "sub": subject.public_id,
            "decision": "permitted",
            "consent": active.public_id,
            "consent_digest": active.digest,
        },
        log_index=entry.index,
    )
    assert _text_hits([NAME, email, *SENTENCES]), "the scan finds the data before erasure"

    result = services.person_erase(user=person, presence=witness())

    revoked = Consent.objects.get(pk=active.pk)
    assert revoked.status == "revoked"
    assert LogEntry.objects.filter(type="consent.revoked", ref=active.public_id).exists()
    assert (
        grantee.public_id in OutboxEvent.objects.get(type="consent.revoked", payload__consent=active.public_id).audience
    )
    assert _text_hits([NAME, CHILD, email, *SENTENCES]) == []
    assert Subject.objects.get(pk=child.pk).adult_on is None
    # What stays: ids, statuses, digests; the receipt and the log still verify.
    assert revoked.digest == active.digest
    assert revoked.public_id == active.public_id
    check = receipt_verify(receipt)
    assert check.valid, check.reason
    call_command("verify_log")
    assert result.revoked == 1


def test_the_erasure_api_needs_presence_and_says_what_was_erased_and_kept(make_subject, fresh_client, key_client):
    from rest_framework.test import APIClient

    from consent.models import SubjectProfile

    subject, person = make_subject(name=NAME)
    stale = APIClient()
    stale.force_login(person)
    refused = stale.post("/api/v1/me/erasure", {"confirm": "erase"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/problems/reauthentication-required")
    key, _ = key_client()
    assert key.post("/api/v1/me/erasure", {"confirm": "erase"}, format="json").status_code == 403
    api = fresh_client(person)
    assert api.post("/api/v1/me/erasure", {}, format="json").status_code == 400
    assert SubjectProfile.objects.filter(subject=subject).exists()

    done = api.post("/api/v1/me/erasure", {"confirm": "erase"}, format="json")

    assert done.status_code == 200, done.content
    body = done.json()
    assert body["subjects"] == [subject.public_id]
    assert "digests" in body["kept"]["what"]
    assert not SubjectProfile.objects.filter(subject=subject).exists()
