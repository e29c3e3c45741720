"""``manage.py backup FILE``: a consistent copy of the database, online.

SQLite: the SQLite online-backup API (a consistent snapshot while the app runs).
PostgreSQL: ``pg_dump --format=custom`` (restore with ``pg_restore``; see README "Backups").
The registry key file is NOT in the database: back it up separately and keep it secret.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Write a consistent backup of the database to FILE (SQLite file, or pg_dump custom format)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="where to write the backup")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["file"]).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            source = sqlite3.connect(str(db["NAME"]))
            copy = sqlite3.connect(str(target))
            try:
                source.backup(copy, pages=1024, progress=self._progress)
            finally:
                copy.close()
                source.close()
        elif connection.vendor == "postgresql":
            env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
            command = [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                f"--file={target}",
                f"--dbname={db['NAME']}",
                f"--host={db.get('HOST') or 'localhost'}",
                f"--port={db.get('PORT') or 5432}",
            ]
            if db.get("USER"):
                command.append(f"--username={db['USER']}")
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"No backup method for the {connection.vendor} database.")
        self.stdout.write(self.style.SUCCESS(f"Backup written to {target} ({target.stat().st_size:,} bytes)."))

    def _progress(self, status: int, remaining: int, total: int) -> None:
        self.stderr.write(f"\r  copied {total - remaining:,} of {total:,} pages", ending="")
        if remaining == 0:
            self.stderr.write("")
