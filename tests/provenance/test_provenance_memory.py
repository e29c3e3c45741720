"""Memory stays bounded for the largest allowed upload, measured in a fresh process (so the test
suite's own peak does not hide it).

Receiving streams to disk in chunks: flat. Reading is c2pa-rs's: for a JPEG it holds the file in
memory (measured 128-229 MiB of growth for 100 MiB), so a check's peak is about twice the file;
large files go to Celery workers, whose concurrency bounds the total."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The limits we state, for the largest allowed file (100 MiB): receiving it grows the process by
# less than the first; receiving and reading it, by less than the second.
UPLOAD_GROWTH_LIMIT_MIB = 16
RSS_GROWTH_LIMIT_MIB = 300

SCRIPT = r"""
import io, json, os, resource, sys
import django
from django.conf import settings
settings.configure(REGISTRY_PROVENANCE_TEMP_DIR=sys.argv[1], REGISTRY_C2PA_TRUST_ANCHORS="")
django.setup()
from PIL import Image
from provenance import manifests, uploads

def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

buffer = io.BytesIO()
Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, "JPEG")
image = buffer.getvalue()
comment = b"\xff\xfe\xff\xff" + b"\0" * 65533  # a JPEG comment segment of 64 KiB
limit = 100 * 1024 * 1024
count = (limit - len(image)) // len(comment)
manifests.reader_context()  # c2pa-rs loaded before the baseline
before = rss_mib()
handler = uploads.CheckUploadHandler(limit=limit)
handler.new_file("file", "big.jpg", "image/jpeg", None)
handler.receive_data_chunk(image[:2], 0)
for _ in range(count):
    handler.receive_data_chunk(comment, 0)
handler.receive_data_chunk(image[2:], 0)
received = handler.file_complete(0)
after_upload = rss_mib() - before
try:
    read = manifests.manifest_read(received.path)
finally:
    handler.cleanup()
print(json.dumps({"size": received.size, "present": read.present, "unreadable": read.unreadable,
                  "growth_mib": rss_mib() - before, "upload_mib": after_upload, "left": os.listdir(sys.argv[1])}))
"""


def test_checking_the_largest_allowed_file_keeps_memory_bounded(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["size"] > 99 * 1024 * 1024
    assert result["unreadable"] is None, result  # a valid JPEG, read through to its end
    assert result["present"] is False
    assert result["left"] == []
    assert result["upload_mib"] < UPLOAD_GROWTH_LIMIT_MIB, result
    assert result["growth_mib"] < RSS_GROWTH_LIMIT_MIB, result
