"""Raw WSGI calls, as a server makes them, for tests of what ``registry.wsgi`` composes (Django's
test Client has its own handler and would not pass through the lean ways in)."""

from __future__ import annotations

import io
import json
import sys
from typing import Any


class Answer:
    """A WSGI answer: status, headers (in order, and by lower-case name) and body."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split(" ", 1)[0])
        self.header_list = headers
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    content_type: str = "application/json",
    query: str = "",
    host: str = "testserver",
    **headers: str,
) -> Answer:
    """``app``'s answer to one request; ``body`` as bytes, or anything else as JSON; ``headers`` by
    their WSGI names without ``HTTP_`` (``authorization=…``, ``accept_language=…``)."""
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"], started["headers"] = status, response_headers

    chunks = app(environ, start_response)
    try:
        out = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return Answer(started["status"], started["headers"], out)
