"""``restu-verify asset FILE``: a media file's Content Credentials (C2PA) and the Restu consents they
claim, checked with no network at all.

Needs the optional extra: ``pip install restu-verify[c2pa]`` (c2pa-python). Checked offline: the
C2PA manifest (hard binding, signature, and the signer's chain against ``--anchors`` when given),
each ``org.restu.consent`` receipt against the registry's JWKS, that the receipt names that
consent and subject and answered ``permitted``, the log proof (with ``--policy`` and
``--log-key``), and that the file's ``cawg.training-mining`` assertion allows nothing the receipt's
query did not cover. What only the registry knows today (has the consent been revoked since?) is
``status_now: null``: ask ``POST /api/v1/provenance/checks`` for that.

The answer has the shape of the registry's, with ``"offline": true``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from restu_verify._common import VerificationError
from restu_verify.receipts import verify_receipt
from restu_verify.witness import Policy, verify_receipt_with_proof

CONSENT_LABEL = "org.restu.consent"
TRAINING_MINING_LABEL = "cawg.training-mining"
# The activities each CAWG use needs (the registry's consent/c2pa.py says the same).
ENTRY_ACTIVITIES = {
    "cawg.ai_training": ("train_model",),
    "cawg.ai_generative_training": ("train_model", "generate"),
    "cawg.data_mining": ("train_model",),
    "cawg.ai_inference": ("alter",),
}
MAX_MANIFESTS = 64


class MissingExtra(Exception):
    """c2pa-python is not installed."""


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:  # the optional extra
        raise MissingExtra("reading C2PA needs c2pa-python: pip install 'restu-verify[c2pa]'") from exc
    return c2pa


def _labelled(assertion: Any, label: str) -> bool:
    name = assertion.get("label") if isinstance(assertion, Mapping) else None
    return isinstance(name, str) and (name == label or name.startswith(label + "__"))


def _chain(store: Mapping[str, Any]) -> list[dict[str, Any]]:
    manifests, active = store.get("manifests"), store.get("active_manifest")
    if not isinstance(manifests, Mapping) or active not in manifests:
        return []
    order: list[dict[str, Any]] = []
    seen, queue = {active}, [active]
    while queue and len(order) < MAX_MANIFESTS:
        manifest = manifests[queue.pop(0)]
        if not isinstance(manifest, dict):
            continue
        order.append(manifest)
        for ingredient in manifest.get("ingredients") or []:
            child = ingredient.get("active_manifest") if isinstance(ingredient, Mapping) else None
            if isinstance(child, str) and child in manifests and child not in seen:
                seen.add(child)
                queue.append(child)
    return order


def _read_store(path: str, anchors_pem: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest store as JSON, or (None, None) with no manifest, or (None, reason) unreadable."""
    c2pa = _c2pa()
    config: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors_pem:
        config["trust"] = {"trust_anchors": anchors_pem}
    try:
        with (
            c2pa.Context.from_dict(config) as context,
            open(path, "rb") as stream,
            c2pa.Reader(None, stream, context=context) as reader,
        ):
            return json.loads(reader.json()), None
    except c2pa.C2paError.ManifestNotFound:
        return None, None
    except c2pa.C2paError as exc:
        return None, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _errors(results: Any) -> list[str]:
    if not isinstance(results, Mapping):
        return []
    codes = [str(item.get("code")) for item in (results.get("activeManifest") or {}).get("failure") or []]
    for delta in results.get("ingredientDeltas") or []:
        codes += [
            f"ingredient:{item.get('code')}" for item in (delta.get("validationDeltas") or {}).get("failure") or []
        ]
    return codes


def _training_entries(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions") or []:
        if _labelled(assertion, TRAINING_MINING_LABEL):
            data = assertion.get("data")
            entries = data.get("entries") if isinstance(data, Mapping) else None
            return dict(entries) if isinstance(entries, Mapping) else {}
    return None


def _consistent(entries: dict[str, Any] | None, query: Any) -> bool | None:
    """False when the file allows a use that needs an activity the receipt's query did not ask
    about; None when that cannot be told offline (the consent's full terms are the registry's)."""
    if entries is None:
        return None
    allowed = [
        label for label, entry in entries.items() if isinstance(entry, Mapping) and entry.get("use") == "allowed"
    ]
    if not allowed:
        return True
    asked = query.get("activity") if isinstance(query, Mapping) else None
    if all(set(ENTRY_ACTIVITIES.get(label, ("?",))) <= {asked} for label in allowed):
        return True
    return None


def _claim(
    data: Any,
    entries: dict[str, Any] | None,
    jwks: Mapping[str, Any] | list[Any],
    log_key: str | None,
    policy: Policy | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "consent": None,
        "subject": None,
        "receipt_valid": False,
        "decision_then": None,
        "status_now": None,
        "log_proof_valid": None,
        "training_mining_consistent": None,
        "reason": None,
    }
    if not isinstance(data, Mapping):
        out["reason"] = "the assertion holds no object"
        return out
    consent, subject, receipt = data.get("consent"), data.get("subject"), data.get("receipt")
    out["consent"] = consent if isinstance(consent, str) else None
    out["subject"] = subject if isinstance(subject, str) else None
    if not (isinstance(consent, str) and isinstance(subject, str) and isinstance(receipt, str)):
        out["reason"] = "the assertion lacks a receipt, consent or subject"
        return out
    try:
        payload = verify_receipt(receipt, jwks)
    except VerificationError as exc:
        out["reason"] = f"receipt: {exc}"
        return out
    if payload.get("consent") != consent or payload.get("sub") != subject:
        out["reason"] = "the receipt does not name this consent and subject (a bulk or release receipt: check online)"
        return out
    out["receipt_valid"] = True
    out["decision_then"] = payload.get("decision")
    out["training_mining_consistent"] = _consistent(entries, payload.get("query"))
    proof = data.get("log_proof")
    if isinstance(proof, str) and log_key and policy is not None:
        try:
            verify_receipt_with_proof(payload, proof, log_key, policy)
            out["log_proof_valid"] = True
        except VerificationError as exc:
            out["log_proof_valid"] = False
            out["reason"] = f"log proof: {exc}"
    return out


def check_asset(
    path: str,
    jwks: Mapping[str, Any] | list[Any],
    *,
    anchors_pem: str | None = None,
    log_key: str | None = None,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """Check the media file at ``path`` offline (see the module's docstring)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    store, unreadable = _read_store(path, anchors_pem)
    body: dict[str, Any] = {
        "sha256": digest.hexdigest(),
        "offline": True,
        "c2pa": {"present": False, "validation_state": None, "signer": None, "errors": []},
        "consents": [],
        "verdict": "no_manifest",
    }
    if unreadable is not None:
        body["c2pa"]["errors"] = [unreadable]
        body["verdict"] = "unreadable"
        return body
    manifests = _chain(store or {})
    if not manifests:
        return body
    state = (store or {}).get("validation_state")
    info = manifests[0].get("signature_info") or {}
    body["c2pa"] = {
        "present": True,
        "validation_state": state,
        "signer": {
            "common_name": info.get("common_name"),
            "issuer": info.get("issuer"),
            "alg": info.get("alg"),
            "time": info.get("time"),
            "trusted": state == "Trusted",
        },
        "errors": _errors((store or {}).get("validation_results")),
    }
    claims = []
    for manifest in manifests:
        entries = _training_entries(manifest)
        for assertion in manifest.get("assertions") or []:
            if _labelled(assertion, CONSENT_LABEL):
                claims.append(_claim(assertion.get("data"), entries, jwks, log_key, policy))
    body["consents"] = claims
    if not claims:
        body["verdict"] = "no_consent_claim"
        return body
    sound = state == "Trusted" or (state == "Valid" and not anchors_pem)
    bad = any(
        not claim["receipt_valid"]
        or claim["decision_then"] != "permitted"
        or claim["training_mining_consistent"] is False
        or claim["log_proof_valid"] is False
        for claim in claims
    )
    body["verdict"] = "consent_invalid" if bad or not sound else "consented"
    return body


# --- the command line (registered by restu_verify.__main__) -------------------------------------


def _text(source: str) -> str:
    """A file's text, or an http(s) URL's body (the JWKS, anchors or policy may be either)."""
    from restu_verify.audit import fetch

    if source.startswith(("http://", "https://")):
        return fetch(source).decode("utf-8")
    with open(source, encoding="utf-8") as handle:
        return handle.read()


def _cmd_asset(args: Any) -> int:
    import sys

    from restu_verify.audit import FetchError
    from restu_verify.witness import parse_policy

    try:
        jwks = json.loads(_text(args.jwks))
        anchors = _text(args.anchors) if args.anchors else None
        policy = parse_policy(_text(args.policy)) if args.policy else None
        if (policy is None) != (args.log_key is None):
            raise ValueError("--policy and --log-key go together")
        result = check_asset(args.file, jwks, anchors_pem=anchors, log_key=args.log_key, policy=policy)
    except (OSError, ValueError, FetchError, MissingExtra, VerificationError) as exc:
        sys.stderr.write(f"restu-verify: error: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return 0 if result["verdict"] == "consented" else 1


def add_command(commands: Any) -> None:
    """Register ``asset`` on the command line's subparsers."""
    command = commands.add_parser(
        "asset", help="check a media file's Content Credentials and the Restu consents they claim (needs [c2pa])"
    )
    command.add_argument("file", help="the media file (JPEG, PNG, WebP, MP4, MOV, WAV, MP3, …)")
    command.add_argument("--jwks", required=True, help="the registry's JWKS file, or its URL")
    command.add_argument("--anchors", help="PEM file of trusted C2PA root certificates (default: c2pa-rs's own)")
    command.add_argument("--policy", help="witness policy file, to check each consent's log proof")
    command.add_argument("--log-key", help="the log's verifier key: name+keyid+base64")
    command.set_defaults(handler=_cmd_asset)
