"""Fixtures for the restu-verify tests; the helpers live in restu_verify_fakes."""

from __future__ import annotations

import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# The client is its own distribution: make it, and the helpers next to this file, importable
# without installing anything.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from restu_verify_fakes import FakeLog


@pytest.fixture
def fake_log() -> Iterator[tuple[FakeLog, str]]:
    """A FakeLog served on 127.0.0.1 (any free port); yields it and its base URL."""
    log = FakeLog()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            status, content_type, body = log.respond(url.path, urllib.parse.parse_qs(url.query))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield log, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
