"""``manage.py registry_keys init|rotate|list``: the registry's own signing keys."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry import keys
from registry.key_rotation import registry_key_rotate


class Command(BaseCommand):
    help = "Create the registry key file, rotate a key (receipt or checkpoint), or list the keys."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="create the key file if it does not exist")
        rotate = sub.add_parser("rotate", help="retire the active key for a purpose and start a new one")
        rotate.add_argument("purpose", choices=keys.ROTATABLE)
        sub.add_parser("list", help="list every key with its purpose and validity")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        path = settings.REGISTRY_SIGNING_KEY_FILE
        if action == "init":
            ring = keys.keyring() if path.exists() else keys.key_file_create(path)
            self.stdout.write(f"Key file {path}: {len(ring.keys)} keys.")
        elif action == "rotate":
            before, new = registry_key_rotate(purpose=options["purpose"])
            self.stdout.write(self.style.SUCCESS(f"New {new.purpose} key {new.kid}; {before.kid} is retired."))
        elif action == "list":
            for key in keys.keyring().keys:
                state = f"retired {key.retired:%Y-%m-%d %H:%M}" if key.retired else "active"
                self.stdout.write(f"{key.purpose:<10} {key.kid}  from {key.created:%Y-%m-%d %H:%M}  {state}")
        else:  # argparse already refuses anything else
            raise CommandError(f"unknown action {action}")
