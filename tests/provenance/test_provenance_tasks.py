"""The worker's side: it deletes what it checks, refuses paths outside the upload folder, and the
sweep removes uploads a lost worker never got to."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from provenance import selectors, services, tasks

from .conftest import jpeg


def _upload(uploads_dir, name="check-abc", data=b""):
    uploads_dir.mkdir(exist_ok=True)
    path = uploads_dir / name
    path.write_bytes(data)
    return path


@pytest.mark.django_db
def test_the_worker_checks_then_deletes_the_file(uploads_dir):
    data = jpeg()
    path = _upload(uploads_dir, data=data)
    digest = hashlib.sha256(data).hexdigest()
    check_id = services.provenance_check_queue(sha256=digest)
    assert selectors.check_status(check_id=check_id)["status"] == "pending"
    tasks.provenance_check_file(check_id, str(path), digest)
    assert not path.exists()
    done = selectors.check_status(check_id=check_id)
    assert (done["status"], done["result"]["verdict"]) == ("done", "no_manifest")


@pytest.mark.django_db
def test_the_worker_deletes_nothing_outside_the_upload_folder(tmp_path, uploads_dir):
    outside = tmp_path / "check-precious"
    outside.write_bytes(b"keep me")
    check_id = services.provenance_check_queue(sha256="0" * 64)
    tasks.provenance_check_file(check_id, str(outside), "0" * 64)
    assert outside.read_bytes() == b"keep me"
    assert selectors.check_status(check_id=check_id)["status"] == "failed"


def test_the_sweep_removes_abandoned_uploads_only(uploads_dir):
    old, fresh, other = _upload(uploads_dir, "check-old"), _upload(uploads_dir, "check-new"), _upload(uploads_dir, "x")
    hour_ago = time.time() - 2 * tasks.ABANDONED_AFTER_SECONDS
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert tasks.sweep_uploads() == 1
    assert (old.exists(), fresh.exists(), other.exists()) == (False, True, True)
