"""restu_verify.witness: tlog proofs, cosignatures and policies, against hand-made inputs built
from the C2SP specification text with `cryptography` and hashlib alone."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from restu_verify import VerificationError
from restu_verify.__main__ import main
from restu_verify.witness import parse_policy, verify_receipt_with_proof, verify_tlog_proof
from restu_verify_fakes import raw_public

ORIGIN = "restu.example/log"
DASH = "\u2014"


def vkey(name: str, type_byte: int, key: Ed25519PrivateKey) -> str:
    raw = bytes([type_byte]) + raw_public(key)
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
    return f"{name}+{key_id}+{base64.b64encode(raw).decode()}"


def sig_line(name: str, type_byte: int, key: Ed25519PrivateKey, signature: bytes) -> str:
    key_id = hashlib.sha256(name.encode() + b"\n" + bytes([type_byte]) + raw_public(key)).digest()[:4]
    return f"{DASH} {name} {base64.b64encode(key_id + signature).decode()}\n"


def cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
    return sig_line(name, 0x04, key, struct.pack(">Q", timestamp) + key.sign(message))


def h_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def h_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class World:
    """A four-leaf log, its key, three witnesses and a 2-of-3 policy."""

    def __init__(self) -> None:
        self.log_key = Ed25519PrivateKey.generate()
        self.witness_keys = [Ed25519PrivateKey.generate() for _ in range(3)]
        self.leaves = [
            json.dumps(
                {
                    "at": "2026-01-01T00:00:00.000000Z",
                    "digest": "sha256:" + f"{i:064x}",
                    "id": f"con_{i:08d}",
                    "type": "consent.signed",
                },
                separators=(",", ":"),
            ).encode()
            for i in range(4)
        ]
        hashes = [h_leaf(leaf) for leaf in self.leaves]
        self.left, self.right = h_node(hashes[0], hashes[1]), h_node(hashes[2], hashes[3])
        self.hashes = hashes
        self.root = h_node(self.left, self.right)
        self.text = f"{ORIGIN}\n4\n{base64.b64encode(self.root).decode()}\n"
        self.log_vkey = vkey(ORIGIN, 0x01, self.log_key)
        self.policy_text = (
            f"log {self.log_vkey}\n"
            + "".join(
                f"witness w{i} {vkey(f'w{i}.example', 0x04, k)}  # witness {i}\n"
                for i, k in enumerate(self.witness_keys)
            )
            + "group two 2 w0 w1 w2\nquorum two\n"
        )

    def note(self, cosigners: list[int], timestamp: int | None = None) -> str:
        stamp = timestamp or int(time.time()) - 10
        lines = sig_line(ORIGIN, 0x01, self.log_key, self.log_key.sign(self.text.encode()))
        lines += "".join(cosign(self.text, f"w{i}.example", self.witness_keys[i], stamp) for i in cosigners)
        return self.text + "\n" + lines

    def proof(self, index: int = 2, cosigners: list[int] | None = None, extra: bytes | None = None, **kw: int) -> str:
        path = [self.hashes[index ^ 1], self.left if index >= 2 else self.right]
        leaf = self.leaves[index] if extra is None else extra
        head = f"c2sp.org/tlog-proof@v1\nextra {base64.b64encode(leaf).decode()}\nindex {index}\n"
        head += "".join(base64.b64encode(h).decode() + "\n" for h in path)
        return head + "\n" + self.note([0, 2] if cosigners is None else cosigners, **kw)


@pytest.fixture
def world() -> World:
    return World()


def test_a_proof_with_a_quorum_of_cosignatures_verifies(world: World) -> None:
    verified = verify_tlog_proof(world.proof(), world.log_vkey, parse_policy(world.policy_text))
    assert verified.index == 2
    assert verified.leaf["id"] == "con_00000002"
    assert set(verified.cosigned_by) == {"w0", "w2"}
    assert verified.checkpoint.size == 4


def test_too_few_cosignatures_fail(world: World) -> None:
    with pytest.raises(VerificationError, match="quorum"):
        verify_tlog_proof(world.proof(cosigners=[1]), world.log_vkey, parse_policy(world.policy_text))


def test_cosignatures_from_the_future_do_not_count(world: World) -> None:
    future = world.proof(timestamp=int(time.time()) + 86_400)
    with pytest.raises(VerificationError, match="quorum"):
        verify_tlog_proof(future, world.log_vkey, parse_policy(world.policy_text))


def test_a_forged_cosignature_of_a_policy_witness_fails(world: World) -> None:
    text = world.proof()
    impostor = cosign(world.text, "w1.example", Ed25519PrivateKey.generate(), 1_700_000_000)
    real_id = hashlib.sha256(b"w1.example\n\x04" + raw_public(world.witness_keys[1])).digest()[:4]
    blob = real_id + base64.b64decode(impostor.split(" ")[2])[4:]
    forged = text + f"{DASH} w1.example {base64.b64encode(blob).decode()}\n"
    with pytest.raises(VerificationError, match="w1"):
        verify_tlog_proof(forged, world.log_vkey, parse_policy(world.policy_text))


def test_a_leaf_not_in_the_tree_or_another_log_key_fails(world: World) -> None:
    policy = parse_policy(world.policy_text)
    with pytest.raises(VerificationError, match="inclusion"):
        verify_tlog_proof(world.proof(extra=world.leaves[3]), world.log_vkey, policy)
    other = vkey(ORIGIN, 0x01, Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError):
        verify_tlog_proof(world.proof(), other, policy)
    with pytest.raises(VerificationError):
        verify_tlog_proof(world.proof().replace("index 2", "index 02"), world.log_vkey, policy)


def test_the_receipt_must_cite_the_proven_consent(world: World) -> None:
    policy = parse_policy(world.policy_text)
    good = {"consent": "con_00000002", "consent_digest": "sha256:" + f"{2:064x}", "log": {"index": 2}}
    assert verify_receipt_with_proof(good, world.proof(), world.log_vkey, policy).index == 2
    for bad in (
        {**good, "consent": "con_00000003"},
        {**good, "consent_digest": "sha256:" + "0" * 64},
        {**good, "log": {"index": 1}},
    ):
        with pytest.raises(VerificationError):
            verify_receipt_with_proof(bad, world.proof(), world.log_vkey, policy)


@pytest.mark.parametrize(
    "policy",
    ["", "quorum x\n", "witness a {w}\nwitness b {w}\nquorum a\n", "group g 1 a\nquorum g\n", "log {w}\nquorum none\n"],
)
def test_invalid_policies_are_refused(world: World, policy: str) -> None:
    w = vkey("w.example", 0x04, Ed25519PrivateKey.generate())
    with pytest.raises(VerificationError):
        parse_policy(policy.format(w=w))


def test_the_proof_command_exits_0_then_1(world: World, tmp_path, capsys) -> None:
    (tmp_path / "p.tlog-proof").write_text(world.proof())
    (tmp_path / "policy").write_text(world.policy_text)
    args = ["proof", str(tmp_path / "p.tlog-proof"), "--policy", str(tmp_path / "policy"), "--log-key", world.log_vkey]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["cosigned_by"].keys() == {"w0", "w2"}
    (tmp_path / "p.tlog-proof").write_text(world.proof(cosigners=[2]))
    assert main(args) == 1
