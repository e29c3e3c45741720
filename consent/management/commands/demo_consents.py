"""``manage.py demo_consents``: a demo performer with a few consents and a refusal (safe to run again)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from consent import services
from consent.models import Consent, Representative
from registry.accounts.models import Organization, User
from registry.accounts.presence import Presence

PERFORMER = "performer@demo.restu.example"


class Command(BaseCommand):
    help = "Add a demo performer subject with consents and a refusal (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if (
            not User.objects.filter(email=PERFORMER).exists()
            or not Organization.objects.filter(slug="studio-layar-lebar").exists()
        ):
            call_command("demo", stdout=self.stdout)
        performer = User.objects.get(email=PERFORMER)
        if Representative.objects.filter(user=performer, role=Representative.Role.SELF).exists():
            self.stdout.write("Demo consents are already there.")
            return
        studio = Organization.objects.get(slug="studio-layar-lebar")
        subject = services.subject_create(
            creator=performer,
            display_name="Sari Pemeran",
            status="living",
            bio="Actor and voice artist, Jakarta.",
            is_public=True,
        )
        today = timezone.now().date()
        # The demo stands in for a person who just re-authenticated to sign each record.
        witness = Presence(authenticated_at=timezone.now(), second_factor=False, method="password")
        records: list[dict[str, Any]] = [
            {
                "effect": "permit",
                "grantee": studio.public_id,
                "production": "Sang Penari 2",
                "media": ["face", "voice"],
                "activities": ["generate", "alter"],
                "purposes": ["film_tv"],
                "intended_use": "De-ageing and additional dialogue for the sequel, shot in Jakarta",
                "territories": ["ID", "MY", "SG"],
                "valid_from": today,
                "valid_until": today + timedelta(days=730),
                "conditions": {"attribution_required": True, "approval_required": True},
            },
            {
                "effect": "permit",
                "grantee": "*",
                "media": ["voice"],
                "activities": ["generate"],
                "purposes": ["education"],
                "intended_use": "Narration for free school lessons",
                "territories": ["ID"],
                "valid_from": today,
                "valid_until": None,
                "revocation": {"policy": "notice", "notice_days": 30},
            },
            {
                "effect": "deny",
                "grantee": "*",
                "media": ["likeness"],
                "activities": ["create_replica", "train_model", "generate", "alter"],
                "purposes": ["political", "sexual_content"],
                "territories": ["*"],
                "valid_from": today,
            },
        ]
        for terms in records:
            consent = services.consent_create(subject=subject, actor=performer, terms=terms)
            services.consent_sign(consent=consent, actor=performer, method=Consent.Method.WITNESSED, witness=witness)
        self.stdout.write(self.style.SUCCESS(f"Demo performer {subject.public_id} with {len(records)} signed records."))
