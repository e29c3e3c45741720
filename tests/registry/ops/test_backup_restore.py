"""A backup restores into a database where the whole log still verifies (``verify_log``)."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from registry.lib.canonical import sha256_digest
from registry.transparency.services import checkpoint_publish, log_append

ROOT = Path(__file__).resolve().parents[3]


def _verify_log_against(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "manage.py", "verify_log", "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_still_verifies(tmp_path):
    for n in range(40):
        with transaction.atomic():
            log_append(type="consent.signed", ref=f"con_{n:026d}", digest=sha256_digest(str(n).encode()))
    checkpoint_publish()
    backup = tmp_path / "restu.backup"
    call_command("backup", str(backup))
    assert backup.stat().st_size > 0
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        restored = tmp_path / "restored.sqlite3"
        restored.write_bytes(backup.read_bytes())
        url = f"sqlite:///{restored}"
    else:
        name = f"{db['NAME']}_restored"
        admin = [
            "psql",
            f"--host={db.get('HOST') or 'localhost'}",
            f"--port={db.get('PORT') or 5432}",
            f"--username={db.get('USER') or 'postgres'}",
            "--dbname=postgres",
            "-q",
            "-c",
        ]
        subprocess.run([*admin, f'DROP DATABASE IF EXISTS "{name}"'], check=True, capture_output=True)
        subprocess.run([*admin, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                f"--host={db.get('HOST') or 'localhost'}",
                f"--port={db.get('PORT') or 5432}",
                f"--username={db.get('USER') or 'postgres'}",
                f"--dbname={name}",
                str(backup),
            ],
            check=True,
            capture_output=True,
        )
        auth = quote(db.get("USER") or "postgres")
        url = f"postgres://{auth}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{name}"
    result = _verify_log_against(url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The log verifies: 40 leaves" in result.stdout
