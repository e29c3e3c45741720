"""``manage.py erase_person --email …``: delete a person's personal data (a right-to-erasure request)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consent.services import person_erase
from registry.accounts.models import User


class Command(BaseCommand):
    help = (
        "Erase a person: revoke their subjects' active permits, delete profiles, subject dates, intended uses, "
        "notes, conditions' text, summaries, court references, dispute statements and email addresses, and close "
        "the account. Ids, statuses, digests and log leaves stay, so receipts and log proofs keep verifying."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True, help="the account's email address")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError("No account with that email address.")
        # Run by registry staff on a verified erasure request: the operator stands in for the
        # person's proof of presence.
        erased = person_erase(user=user, operator=True)
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased {user.public_id}: {erased.profiles} profile(s), {erased.statements} statement(s), "
                f"{erased.representations} representation(s) ended, {erased.revoked} permit(s) revoked, "
                f"{erased.consents_scrubbed} consent(s) cleared of personal text."
            )
        )
        kept = erased.document()["kept"]
        self.stdout.write(f"Kept: {kept['what']} — {kept['why']}.")
