"""Streaming an upload to a private temporary file, hashing it on the way, refusing it past the limit.

Django's own handlers keep small files in memory and large ones in FILE_UPLOAD_TEMP_DIR until the
request ends; this one writes every ``file`` part straight to ``REGISTRY_PROVENANCE_TEMP_DIR``
(mode 0600), counts and hashes each chunk as it arrives, and stops reading at the size limit. Its
owner deletes what it wrote with ``cleanup()`` in a ``finally``: nothing outlives the request
unless ``hand_over()`` passed it to a worker, which deletes it in its own ``finally``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload

FIELD = "file"


class CheckedFile(UploadedFile):  # type: ignore[type-arg]  # generic only in django-stubs: UploadedFile[...] fails at run time
    """A received upload: where it is on disk, its size and SHA-256 (hex); never opened by Django."""

    def __init__(self, *, path: str, size: int, sha256: str, name: str) -> None:
        super().__init__(file=None, name=name, size=size)
        self.path, self.sha256 = path, sha256

    def close(self) -> None:
        """Django closes uploaded files when the request ends; the file on disk is ours to delete."""


def temp_folder() -> str:
    folder = str(settings.REGISTRY_PROVENANCE_TEMP_DIR)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


def owns(path: str) -> bool:
    """Whether ``path`` is a file this module could have written (a worker deletes nothing else)."""
    folder = os.path.realpath(str(settings.REGISTRY_PROVENANCE_TEMP_DIR))
    real = os.path.realpath(path)
    return os.path.dirname(real) == folder and os.path.basename(real).startswith("check-")


def discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class CheckUploadHandler(FileUploadHandler):
    """Takes the first ``file`` part only (others are skipped), up to ``limit`` bytes."""

    chunk_size = 256 * 1024

    def __init__(self, request: Any = None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False
        self.paths: list[str] = []
        self._handle: Any = None
        self._hash: Any = None
        self._size = 0

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        if field_name != FIELD or self.paths:
            raise SkipFile()
        descriptor, path = tempfile.mkstemp(prefix="check-", dir=temp_folder())
        self.paths.append(path)
        self._handle = os.fdopen(descriptor, "wb")
        self._hash = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self._handle is None:
            return None
        self._size += len(raw_data)
        if self._size > self.limit:
            self.too_large = True
            self._close()
            # Reset rather than read the rest: a chunked body declares no length to refuse early.
            raise StopUpload(connection_reset=True)
        self._hash.update(raw_data)
        self._handle.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> CheckedFile | None:
        if self._handle is None:
            return None
        self._close()
        return CheckedFile(
            path=self.paths[-1], size=self._size, sha256=self._hash.hexdigest(), name=self.file_name or ""
        )

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def take(self, uploaded: Any) -> CheckedFile | None:
        """Copy a file Django already received (the page's form) as if it were streamed to us;
        None when it is over the limit (nothing is kept)."""
        self.new_file(FIELD, uploaded.name or "", "application/octet-stream", uploaded.size)
        try:
            for chunk in uploaded.chunks(self.chunk_size):
                self.receive_data_chunk(chunk, 0)
        except StopUpload:
            return None
        return self.file_complete(self._size)

    def hand_over(self, path: str) -> None:
        """A worker takes ``path`` over (and will delete it): ``cleanup`` leaves it alone."""
        self.paths.remove(path)

    def cleanup(self) -> None:
        """Delete every file this handler wrote, whatever happened to the request."""
        self._close()
        for path in self.paths:
            discard(path)
        self.paths.clear()


def sweep(*, older_than_seconds: float) -> int:
    """Delete files of ours older than ``older_than_seconds``; how many were deleted."""
    import time

    folder = str(settings.REGISTRY_PROVENANCE_TEMP_DIR)
    if not os.path.isdir(folder):
        return 0
    cutoff, deleted = time.time() - older_than_seconds, 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("check-") and entry.is_file() and entry.stat().st_mtime < cutoff:
                discard(entry.path)
                deleted += 1
    return deleted
