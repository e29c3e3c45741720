"""Fixtures for witnessing: a test log that submits to our witness, files for the settings."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.lib.merkle import MemoryTree
from tests.integration.conftest import make_worker  # noqa: F401 (a real Celery worker, for test_witness_worker)
from tests.registry.witness.reference_witness import DASH, key_id, raw_public, vkey


@dataclass
class TestLog:
    """An outside log (its own key and tree) that submits checkpoints to a witness."""

    origin: str = "other.example/log"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    tree: MemoryTree = field(default_factory=MemoryTree)

    __test__ = False

    @property
    def vkey(self) -> str:
        return vkey(self.origin, 0x01, raw_public(self.key))

    def grow(self, count: int) -> int:
        for _ in range(count):
            self.tree.append(f"leaf {self.tree.size}".encode())
        return self.tree.size

    def text(self, size: int | None = None, root: bytes | None = None) -> str:
        size = self.tree.size if size is None else size
        root = self.tree.root(size) if root is None else root
        return f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"

    def sign(self, text: str, key: Ed25519PrivateKey | None = None, name: str | None = None) -> str:
        key = key or self.key
        name = name or self.origin
        blob = key_id(name, 0x01, raw_public(key)) + key.sign(text.encode())
        return f"{DASH} {name} {base64.b64encode(blob).decode()}\n"

    def checkpoint(self, size: int | None = None, root: bytes | None = None) -> str:
        text = self.text(size, root)
        return text + "\n" + self.sign(text)

    def request(
        self, old: int, size: int | None = None, *, proof: list[bytes] | None = None, note: str | None = None
    ) -> bytes:
        size = self.tree.size if size is None else size
        if proof is None:
            proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
        return ("\n".join(lines) + "\n\n" + (note if note is not None else self.checkpoint(size))).encode()


@pytest.fixture
def other_log() -> TestLog:
    log = TestLog()
    log.grow(5)
    return log


@pytest.fixture
def witnessed_logs_file(tmp_path: Path, settings, other_log: TestLog) -> Path:
    path = tmp_path / "witnessed-logs"
    path.write_text(f"# logs we witness\n{other_log.vkey}\n")
    settings.REGISTRY_WITNESSED_LOGS = str(path)
    return path


@pytest.fixture
def key_file(tmp_path: Path, settings) -> Path:
    path = tmp_path / "keys" / "signing-keys.json"
    settings.REGISTRY_SIGNING_KEY_FILE = path
    settings.REGISTRY_SIGNING_KEY_GENERATE = True
    return path
