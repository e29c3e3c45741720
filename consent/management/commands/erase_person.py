"""``manage.py erase_person --email …``: delete a person's personal data (a right-to-erasure request)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.services import person_erase
from registry.accounts.models import User


class Command(BaseCommand):
    help = (
        "Delete a person's personal data: their subjects' profiles, dispute statements, email addresses, "
        "and close the account. Log leaves and receipts hold no personal data and keep verifying."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True, help="the account's email address")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError("No account with that email address.")
        erased = person_erase(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased {user.public_id}: {erased.profiles} profile(s), {erased.statements} statement(s), "
                f"{erased.representations} representation(s) ended."
            )
        )
