"""A minimal witness written from C2SP tlog-witness, tlog-cosignature and signed-note alone.

It imports nothing from the registry: its own note parsing, its own RFC 6962 consistency check
(the algorithm of RFC 9162 §2.1.4.2, written afresh), its own cosignature construction. Tests
use it to check our witness *client* (and, by comparing answers, our witness *server*) against
something that is not our own code.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DASH = "\u2014"


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, type_byte: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([type_byte]) + public).digest()[:4]


def vkey(name: str, type_byte: int, public: bytes) -> str:
    return f"{name}+{key_id(name, type_byte, public).hex()}+{base64.b64encode(bytes([type_byte]) + public).decode()}"


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def consistent(m: int, n: int, proof: list[bytes], old: bytes, new: bytes) -> bool:
    """RFC 9162 §2.1.4.2, step by step as the RFC words it."""
    if m == n:
        return not proof and old == new
    if m == 0 or m > n or not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m is an exact power of 2
        path = [old, *path]
    fn, sn = m - 1, n - 1
    while fn & 1:  # right-shift both until LSB(fn) is not set
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old and sr == new and sn == 0


@dataclass
class ReferenceWitness:
    """One witness: name, key, the logs it knows (origin → Ed25519 public key) and its state."""

    name: str
    logs: dict[str, bytes]
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    state: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0
    clock_skew: int = 0  # seconds added to the cosignature timestamp (a witness whose clock is off)

    @property
    def vkey(self) -> str:
        return vkey(self.name, 0x04, raw_public(self.key))

    def handle(self, body: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) for an add-checkpoint request body."""
        self.requests.append(body.decode("utf-8", "replace"))
        if self.delay:
            time.sleep(self.delay)
        try:
            text = body.decode("utf-8")
            head, checkpoint = text.split("\n\n", 1)
            lines = head.split("\n")
            assert lines[0].startswith("old ")
            old = int(lines[0][4:])
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            note_text, signatures = checkpoint.rsplit("\n\n", 1)
            note_text += "\n"
            origin, size_line, root_line = note_text.split("\n")[:3]
            size, root = int(size_line), base64.b64decode(root_line)
        except (ValueError, AssertionError):
            return 400, "text/plain", b"bad request\n"
        public = self.logs.get(origin)
        if public is None:
            return 404, "text/plain", b"unknown log\n"
        good = False
        for line in signatures.split("\n")[:-1]:
            name, blob64 = line[2:].split(" ", 1)
            blob = base64.b64decode(blob64)
            if name == origin and blob[:4] == key_id(origin, 0x01, public):
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], note_text.encode())
                except InvalidSignature:
                    return 403, "text/plain", b"bad signature\n"
                good = True
        if not good:
            return 403, "text/plain", b"no log signature\n"
        if old > size:
            return 400, "text/plain", b"old > size\n"
        with self.lock:
            known_size, known_root = self.state.get(origin, (0, hashlib.sha256(b"").digest()))
            if old != known_size:
                return 409, "text/x.tlog.size", f"{known_size}\n".encode()
            if old == 0:
                if proof or (size == 0 and root != hashlib.sha256(b"").digest()):
                    return 422, "text/plain", b"bad proof\n"
            elif not consistent(old, size, proof, known_root, root):
                return 422, "text/plain", b"bad proof\n"
            self.state[origin] = (size, root)
        timestamp = int(time.time()) + self.clock_skew
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + note_text.encode()
        signature = struct.pack(">Q", timestamp) + self.key.sign(message)
        blob = key_id(self.name, 0x04, raw_public(self.key)) + signature
        return 200, "text/plain", f"{DASH} {self.name} {base64.b64encode(blob).decode()}\n".encode()


class ReferenceWitnessServer:
    """Serves a ReferenceWitness at ``<url>/add-checkpoint`` on 127.0.0.1."""

    def __init__(self, witness: ReferenceWitness) -> None:
        self.witness = witness
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path.rstrip("/").endswith("/add-checkpoint"):
                    status, content_type, answer = outer.witness.handle(body)
                else:
                    status, content_type, answer = 404, "text/plain", b"not found\n"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/witness"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ReferenceWitnessServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify_cosignature(line: str, note_text: str, witness_vkey: str) -> int:
    """Check a cosignature line from the spec text alone; its timestamp, or AssertionError."""
    name, key_hex, material = witness_vkey.split("+", 2)
    raw = base64.b64decode(material)
    assert raw[0] == 0x04
    assert line.startswith(f"{DASH} {name} ")
    assert line.endswith("\n")
    blob = base64.b64decode(line[len(DASH) + 2 + len(name) :].strip())
    assert blob[:4].hex() == key_hex
    (timestamp,) = struct.unpack(">Q", blob[4:12])
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + note_text.encode()
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[12:], message)
    return int(timestamp)
