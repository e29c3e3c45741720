"""End to end on the real broker and worker: a revoked consent blocks a release, and the studio's
webhook receives a correctly signed ``release.status_changed``."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from consent import services as consent_services
from consent.models import Release
from consent.services.releases import release_create
from registry.accounts import services as accounts
from registry.accounts.models import User
from registry.events import services as events

from ..consent.conftest import as_service_terms, witness
from ..registry.events.conftest import Receiver
from .conftest import wait_for

pytestmark = pytest.mark.integration

WORKER_ENV = {"REGISTRY_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8", "REGISTRY_OUTBOUND_ALLOW_HTTP": "1"}


def test_revocation_blocks_the_release_and_a_signed_webhook_arrives(settings, make_worker):
    settings.REGISTRY_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.REGISTRY_OUTBOUND_ALLOW_HTTP = True
    with Receiver() as receiver:
        owner = User.objects.create_user("studio@example.org", "x" * 12)
        studio = accounts.organization_create(creator=owner, name="Studio", slug="studio", kind="studio")
        hook = events.webhook_create(
            organization=studio, actor_role="owner", url=receiver.url, events=["release.status_changed"]
        )
        performer = User.objects.create_user("performer@example.org", "x" * 12)
        subject = consent_services.subject_create(creator=performer, display_name="Sari", status="living")
        today = timezone.now().date()
        draft = consent_services.consent_create(
            subject=subject,
            actor=performer,
            terms=as_service_terms(
                {
                    "subject": subject.public_id,
                    "effect": "permit",
                    "grantee": "*",
                    "production": "Layar Lebar",
                    "media": ["face"],
                    "activities": ["generate"],
                    "purposes": ["film_tv"],
                    "intended_use": "New scenes for a feature film",
                    "territories": ["ID"],
                    "valid_from": today.isoformat(),
                    "valid_until": (today + timedelta(days=365)).isoformat(),
                    "conditions": {},
                    "revocation": {"policy": "anytime"},
                    "representation": "union",
                    "court_approval_ref": None,
                    "guideline": None,
                }
            ),
        )
        consent = consent_services.consent_sign(consent=draft, actor=performer, method="witnessed", witness=witness())
        release = release_create(
            organization=studio,
            title="Layar Lebar",
            release_date=today + timedelta(days=30),
            territories=["ID"],
            appearances=[{"subject": subject.public_id, "media": ["face"], "purpose": "film_tv"}],
            tools=[],
        )
        assert release.status == "cleared"

        worker = make_worker(**WORKER_ENV)
        consent_services.consent_revoke(consent=consent, actor=performer, reason="changed my mind", witness=witness())

        def arrived():
            return any(b'"release.status_changed"' in r["body"] for r in receiver.requests)

        assert wait_for(arrived, timeout=60), worker.log()[-4000:]
        release.refresh_from_db()
        assert release.status == "blocked"
        request = next(r for r in receiver.requests if b'"release.status_changed"' in r["body"])
        headers = {k.lower(): v for k, v in request["headers"].items()}
        payload = Webhook(hook.secret).verify(request["body"], headers)
        assert payload["data"] == {"release": release.public_id, "previous": "cleared", "status": "blocked"}
        assert Release.objects.get(pk=release.pk).report["appearances"][0]["reasons"] == ["revoked"]
