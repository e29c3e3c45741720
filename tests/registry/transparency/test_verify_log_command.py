"""``manage.py verify_log`` passes on a good log and fails loudly on every kind of tampering."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from registry.lib.canonical import sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.merkle import root_from_leaf_hashes
from registry.transparency.models import Checkpoint, LogEntry, LogNode, LogState
from registry.transparency.services import checkpoint_publish, log_append


def build(count: int, checkpoint_every: int = 0) -> None:
    for n in range(1, count + 1):
        with transaction.atomic():
            log_append(type="consent.signed", ref=new_public_id("con"), digest=sha256_digest(os.urandom(8)))
        if checkpoint_every and n % checkpoint_every == 0:
            checkpoint_publish()


def verify() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_log", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails() -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_log", "--quiet", stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    return err.getvalue()


@pytest.fixture
def good_log(db: None) -> None:
    build(23, checkpoint_every=5)
    checkpoint_publish()


def test_a_good_log_verifies_and_reports_its_root(good_log):
    out, _ = verify()
    hashes = [bytes(h) for h in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]
    assert "23 leaves" in out
    assert root_from_leaf_hashes(hashes).hex() in out
    assert f"{Checkpoint.objects.count()} checkpoints" in out


@pytest.mark.django_db
def test_an_empty_log_verifies():
    out, _ = verify()
    assert "0 leaves" in out


@pytest.mark.django_db
def test_an_empty_log_without_its_sequencer_row_verifies():
    LogState.objects.all().delete()
    out, _ = verify()
    assert "0 leaves" in out


def test_tampered_leaf_bytes_fail(good_log):
    raw = bytes(LogEntry.objects.get(index=7).leaf)
    LogEntry.objects.filter(index=7).update(leaf=raw.replace(b"consent.signed", b"consent.revoked"))
    assert "leaf 7" in fails()


def test_a_tampered_leaf_hash_fails(good_log):
    LogEntry.objects.filter(index=3).update(leaf_hash=bytes(32))
    assert "leaf 3" in fails()


def test_a_tampered_stored_node_fails(good_log):
    LogNode.objects.filter(level=2, index=1).update(hash=bytes(32))
    assert "node 2/1" in fails()


def test_a_tampered_leaf_level_node_fails(good_log):
    LogNode.objects.filter(level=0, index=22).update(hash=bytes(32))
    assert "node 0/22" in fails()


def test_a_missing_node_fails(good_log):
    LogNode.objects.filter(level=4, index=0).delete()
    assert "node 4/0" in fails()


def test_a_tampered_checkpoint_root_fails(good_log):
    Checkpoint.objects.filter(size=10).update(root=bytes(32))
    assert "checkpoint at 10" in fails()


def test_a_checkpoint_with_a_forged_signature_fails(good_log):
    checkpoint = Checkpoint.objects.get(size=15)
    Checkpoint.objects.filter(size=15).update(note=checkpoint.note.replace("\n15\n", "\n16\n"))
    assert "checkpoint at 15" in fails()


def test_a_deleted_leaf_fails(good_log):
    LogEntry.objects.filter(index=11).delete()
    assert "gap" in fails()


def test_a_sequencer_that_disagrees_with_the_leaves_fails(good_log):
    LogState.objects.filter(pk=1).update(size=22)
    assert "sequencer" in fails()


def test_a_corrupted_frontier_fails(good_log):
    state = LogState.objects.get(pk=1)
    LogState.objects.filter(pk=1).update(frontier=bytes(len(bytes(state.frontier))))
    assert "frontier" in fails()


def test_a_checkpoint_beyond_the_end_fails(good_log):
    checkpoint = Checkpoint.objects.order_by("-size").first()
    Checkpoint.objects.create(size=99, root=bytes(checkpoint.root), note=checkpoint.note, kid=checkpoint.kid)
    assert "beyond" in fails()


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_as_a_process(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    build(5)
    LogEntry.objects.filter(index=2).update(leaf_hash=bytes(32))
    if connection.vendor == "sqlite":
        url = f"sqlite:///{Path(connection.settings_dict['NAME']).resolve()}"
    else:
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        if db.get("PASSWORD"):
            pytest.skip("password-protected test database")
    done = subprocess.run(
        [sys.executable, "manage.py", "verify_log", "--quiet"],
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "leaf 2" in done.stderr
