"""Command line: ``python -m restu_verify receipt|consent-token|checkpoint|proof|audit …``.

Results go to stdout as JSON. Exit status: 0 valid, 1 invalid, 2 could not check (network,
file or usage error).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from restu_verify._common import VerificationError
from restu_verify.audit import FetchError, audit, fetch
from restu_verify.checkpoint import verify_checkpoint
from restu_verify.receipts import check_validity_period, verify_jws
from restu_verify.witness import (
    Policy,
    VerifiedProof,
    parse_policy,
    verify_receipt_with_proof,
    verify_tlog_proof,
)

EXIT_VALID, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


class _CannotCheck(Exception):
    """An input could not be read, so nothing was verified either way."""


def _read(source: str) -> str:
    """A file's text, ``-`` for stdin, or an http(s) URL's body."""
    if source.startswith(("http://", "https://")):
        return fetch(source).decode("utf-8")
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _CannotCheck(f"cannot read {source}: {exc}") from exc


def _token(text: str) -> str:
    """The token in a file: bare, or the ``receipt``/``token`` member of a JSON response."""
    text = text.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise _CannotCheck("the file is neither a compact JWS nor JSON") from exc
        for member in ("receipt", "token"):
            if isinstance(document, dict) and isinstance(document.get(member), str):
                return str(document[member])
        raise _CannotCheck("the JSON document has no receipt or token member")
    return text


def _jwks(source: str) -> Any:
    try:
        return json.loads(_read(source))
    except ValueError as exc:
        raise _CannotCheck(f"{source} is not a JSON JWKS") from exc


def _out(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _cmd_token(args: argparse.Namespace) -> int:
    token, jwks = _token(_read(args.file)), _jwks(args.jwks)
    proof = getattr(args, "proof", None)
    if proof is not None and (not args.policy or not args.log_key):
        raise _CannotCheck("--proof needs --policy and --log-key")
    verified = verify_jws(token, jwks)
    if args.command == "consent-token":
        check_validity_period(verified.payload)
    result: dict[str, Any] = {"valid": True, "alg": verified.header["alg"], "kid": verified.kid}
    if proof is not None:
        policy = _policy(args)
        assert policy is not None
        checked = verify_receipt_with_proof(verified.payload, _proof_text(_read(proof)), args.log_key, policy)
        result["log"] = _proof_result(checked)
    result["payload"] = verified.payload
    _out(result)
    return EXIT_VALID


def _policy(args: argparse.Namespace) -> Policy | None:
    if not getattr(args, "policy", None):
        return None
    return parse_policy(_read(args.policy))


def _proof_text(text: str) -> str:
    """A tlog-proof file, or a JSON answer whose ``log_proof`` member holds one."""
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise _CannotCheck("the proof file is neither a tlog proof nor JSON") from exc
        if not isinstance(document, dict) or not isinstance(document.get("log_proof"), str):
            raise _CannotCheck("the JSON document has no log_proof member")
        return str(document["log_proof"])
    return text


def _proof_result(checked: VerifiedProof) -> dict[str, Any]:
    return {
        "index": checked.index,
        "leaf": checked.leaf,
        "origin": checked.checkpoint.origin,
        "tree_size": checked.checkpoint.size,
        "root": base64.b64encode(checked.checkpoint.root).decode("ascii"),
        "cosigned_by": checked.cosigned_by,
    }


def _cmd_proof(args: argparse.Namespace) -> int:
    policy = _policy(args)
    assert policy is not None
    checked = verify_tlog_proof(_proof_text(_read(args.file)), args.log_key, policy)
    _out({"valid": True, **_proof_result(checked)})
    return EXIT_VALID


def _cmd_checkpoint(args: argparse.Namespace) -> int:
    checkpoint = verify_checkpoint(_read(args.file), args.key)
    _out(
        {
            "valid": True,
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": base64.b64encode(checkpoint.root).decode("ascii"),
        }
    )
    return EXIT_VALID


def _cmd_audit(args: argparse.Namespace) -> int:
    result = audit(
        args.url,
        key=args.key,
        key_url=args.key_url,
        state_path=Path(args.state) if args.state else None,
        page_size=args.page_size,
        progress=sys.stderr,
        policy=_policy(args),
    )
    _out(
        {
            "valid": True,
            "origin": result.origin,
            "size": result.size,
            "root": base64.b64encode(result.root).decode("ascii"),
            "consistent_with_size": result.previous_size,
            "cosigned_by": result.cosigned_by,
        }
    )
    return EXIT_VALID


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="restu-verify",
        description="Verify what the Restu registry signs: receipts, consent tokens, checkpoints, the whole log.",
        epilog="Exit status: 0 valid, 1 invalid, 2 could not check.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("receipt", "verify a verification receipt (compact JWS) against the registry's JWKS"),
        ("consent-token", "verify a consent token (signature, nbf and exp) against the registry's JWKS"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("file", help="file with the token, or a JSON response holding it; - for stdin")
        command.add_argument("--jwks", required=True, help="JWKS file, or URL such as https://…/.well-known/jwks.json")
        if name == "receipt":
            command.add_argument(
                "--proof", help="C2SP tlog-proof of the cited consent (or a JSON answer with log_proof)"
            )
            command.add_argument("--policy", help="witness policy file (log, witness, group, quorum lines)")
            command.add_argument("--log-key", help="the log's verifier key: name+keyid+base64")
        command.set_defaults(handler=_cmd_token)

    proof_cmd = commands.add_parser("proof", help="verify a C2SP tlog-proof and its witness quorum, offline")
    proof_cmd.add_argument("file", help="tlog-proof file (or a JSON answer with log_proof); - for stdin")
    proof_cmd.add_argument("--policy", required=True, help="witness policy file")
    proof_cmd.add_argument("--log-key", required=True, help="the log's verifier key: name+keyid+base64")
    proof_cmd.set_defaults(handler=_cmd_proof)

    checkpoint = commands.add_parser("checkpoint", help="verify a signed log checkpoint")
    checkpoint.add_argument("file", help="checkpoint file, or its URL; - for stdin")
    checkpoint.add_argument("--key", required=True, help="verifier key: name+keyid+base64")
    checkpoint.set_defaults(handler=_cmd_checkpoint)

    audit_cmd = commands.add_parser("audit", help="download and check the whole transparency log")
    audit_cmd.add_argument("url", help="registry base URL, e.g. https://restu.example")
    audit_cmd.add_argument("--state", help="file remembering the last audited checkpoint (created if missing)")
    keys = audit_cmd.add_mutually_exclusive_group()
    keys.add_argument("--key", help="pinned verifier key (recommended)")
    keys.add_argument("--key-url", help="fetch the verifier key from this URL instead of URL/api/v1/log/key")
    audit_cmd.add_argument("--page-size", type=_positive, default=1000, help="entries per request (default 1000)")
    audit_cmd.add_argument("--policy", help="witness policy file: the checkpoint's cosignatures must meet its quorum")
    audit_cmd.set_defaults(handler=_cmd_audit)
    from restu_verify.asset import add_command as add_asset_command  # c2pa-python is imported only when used

    add_asset_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except VerificationError as exc:
        _out({"valid": False, "error": str(exc)})
        sys.stderr.write(f"restu-verify: INVALID: {exc}\n")
        return EXIT_INVALID
    except (FetchError, _CannotCheck) as exc:
        sys.stderr.write(f"restu-verify: error: {exc}\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
