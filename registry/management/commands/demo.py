"""``manage.py demo``: demo people and organizations for a first look (safe to run again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from registry.accounts import services
from registry.accounts.models import Membership, Organization, User

DEMO_PASSWORD = "restu-demo-password"  # noqa: S105 — a published demo password, for local use only
PEOPLE = [
    ("maintainer@demo.restu.example", "Dewi Maintainer"),
    ("performer@demo.restu.example", "Sari Pemeran"),
    ("studio@demo.restu.example", "Budi Studio"),
    ("guild@demo.restu.example", "Guild Officer"),
]
DEMO_STAFF = "staff@demo.restu.example"
ORGANIZATIONS = [
    (
        "Open FaceSwap Project",
        "open-faceswap",
        Organization.Kind.PROJECT,
        "maintainer@demo.restu.example",
        "https://git.example.org/open-faceswap",
        "https://open-faceswap.example.org",
    ),
    ("Studio Layar Lebar", "studio-layar-lebar", Organization.Kind.STUDIO, "studio@demo.restu.example", "", ""),
    (
        "Performers' Guild of Jakarta",
        "performers-guild-jakarta",
        Organization.Kind.GUILD,
        "guild@demo.restu.example",
        "",
        "",
    ),
]


class Command(BaseCommand):
    help = "Load demo people and organizations (idempotent: running it twice changes nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            people = {}
            for email, name in PEOPLE:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(email, DEMO_PASSWORD, display_name=name)
                    self._verified(user)
                    self.stdout.write(f"  person: {email}")
                people[email] = user
            for name, slug, kind, owner, repo, homepage in ORGANIZATIONS:
                if Organization.objects.filter(slug=slug).exists():
                    continue
                services.organization_create(
                    creator=people[owner], name=name, slug=slug, kind=kind, repository_url=repo, homepage=homepage
                )
                self.stdout.write(f"  organization: {name}")
            studio = Organization.objects.get(slug="studio-layar-lebar")
            Membership.objects.get_or_create(
                organization=studio, user=people["performer@demo.restu.example"], defaults={"role": "member"}
            )
            # The demo guild is verified, as registry staff would after checking it, so that its
            # vouches count. The staff account cannot sign in: it has no password at all.
            staff = User.objects.filter(email=DEMO_STAFF).first()
            if staff is None:
                staff = User.objects.create_user(DEMO_STAFF, None, display_name="Restu staff (demo)")
                staff.is_staff = True
                staff.save(update_fields=["is_staff"])
            services.organization_verify(
                organization=Organization.objects.get(slug="performers-guild-jakarta"), staff_user=staff
            )
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Every demo account's password is {DEMO_PASSWORD!r}."))

    def _verified(self, user: User) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
