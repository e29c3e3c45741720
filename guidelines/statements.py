"""The in-toto Statement v1 a project signs for a release, and how the registry reads its clauses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from guidelines.vocabulary import ASSERTED, CLAIMS, EVIDENCED, NOT_APPLICABLE, NOT_MET, SAFEGUARDS
from registry.errors import ValidationFailed
from registry.lib.jsondepth import loads_bounded

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://restu.example/attestation/guideline-conformance/v1"
MAX_ENVELOPE_BYTES = 256 * 1024
MAX_SUBJECTS = 100
_SHA256 = re.compile(r"^[0-9a-f]{64}$", re.ASCII)


@dataclass(frozen=True)
class Statement:
    """The parts of a conformance statement the registry stores and checks."""

    subjects: list[tuple[str, str]]  # (name, "sha256:<hex>")
    guideline: str
    claims: dict[str, str]
    safeguards: list[str]
    release_version: str
    release_url: str
    document: dict[str, Any]  # the whole statement, as signed


def _fail(detail: str, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(detail, errors={field: [message]})


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def statement_parse(payload: bytes) -> Statement:
    """Parse and check the statement's shape; the guideline and clause keys are checked by the caller."""
    try:
        doc = loads_bounded(payload, object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail("The payload is not a JSON document.", "envelope.payload", "Not JSON.") from exc
    if not isinstance(doc, dict):
        raise _fail("The payload is not a JSON object.", "envelope.payload", "Not an object.")
    if doc.get("_type") != STATEMENT_TYPE:
        raise _fail("The payload is not an in-toto Statement v1.", "statement._type", f"Must be {STATEMENT_TYPE}.")
    if doc.get("predicateType") != PREDICATE_TYPE:
        raise _fail("Unsupported predicate type.", "statement.predicateType", f"Must be {PREDICATE_TYPE}.")
    subjects = doc.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise _fail("The statement names no subjects.", "statement.subject", "Name at least one release artefact.")
    if len(subjects) > MAX_SUBJECTS:
        raise _fail("Too many subjects.", "statement.subject", f"At most {MAX_SUBJECTS}.")
    parsed_subjects: list[tuple[str, str]] = []
    for index, subject in enumerate(subjects):
        where = f"statement.subject.{index}"
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str) or not subject["name"]:
            raise _fail("Each subject has a name and digests.", where, "Needs a name.")
        digest = subject.get("digest")
        sha256 = digest.get("sha256") if isinstance(digest, dict) else None
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise _fail("Each subject needs a SHA-256 digest.", f"{where}.digest.sha256", "64 lower-case hex digits.")
        parsed_subjects.append((subject["name"][:300], f"sha256:{sha256}"))
    predicate = doc.get("predicate")
    if not isinstance(predicate, dict):
        raise _fail("The statement has no predicate.", "statement.predicate", "Must be an object.")
    guideline = predicate.get("guideline")
    if not isinstance(guideline, str):
        raise _fail("The predicate names no guideline.", "predicate.guideline", 'Give "slug@version".')
    claims = predicate.get("clauses")
    if not isinstance(claims, dict) or not claims:
        raise _fail("The predicate lists no clauses.", "predicate.clauses", "Map clause keys to met/not_met.")
    for key, claim in claims.items():
        if claim not in CLAIMS:
            raise _fail("Unknown clause outcome.", f"predicate.clauses.{key}", f"One of: {', '.join(CLAIMS)}.")
    safeguards = predicate.get("safeguards", [])
    if not isinstance(safeguards, list) or not all(isinstance(item, str) for item in safeguards):
        raise _fail("Safeguards are a list of names.", "predicate.safeguards", "A list of safeguard names.")
    unknown = sorted(set(safeguards) - set(SAFEGUARDS))
    if unknown:
        raise _fail(
            f"Unknown safeguards: {', '.join(unknown)}.",
            "predicate.safeguards",
            f"Known safeguards: {', '.join(SAFEGUARDS)}.",
        )
    release = predicate.get("release")
    if not isinstance(release, dict) or not isinstance(release.get("version"), str) or not release["version"]:
        raise _fail("The predicate names no release.", "predicate.release.version", "Give the release version.")
    url = release.get("url", "")
    if not isinstance(url, str) or (url and not url.startswith(("https://", "http://"))):
        raise _fail("The release URL is not a web address.", "predicate.release.url", "An http(s) URL.")
    return Statement(
        subjects=parsed_subjects,
        guideline=guideline,
        claims=dict(claims),
        safeguards=list(dict.fromkeys(safeguards)),
        release_version=release["version"][:100],
        release_url=url[:500],
        document=doc,
    )


def clause_results(clauses: list[dict[str, Any]], claims: dict[str, str], safeguards: list[str]) -> dict[str, str]:
    """Each clause of the version as the registry reads the claim.

    ``evidenced``: met, and a claimed safeguard is one the clause names as evidence;
    ``asserted``: met on the project's word alone; ``not_met``: said so, or not addressed at all.
    """
    claimed = set(safeguards)
    results: dict[str, str] = {}
    for clause in clauses:
        claim = claims.get(clause["key"])
        if claim == "not_applicable":
            results[clause["key"]] = NOT_APPLICABLE
        elif claim == "met":
            results[clause["key"]] = EVIDENCED if claimed & set(clause.get("evidence", [])) else ASSERTED
        else:
            results[clause["key"]] = NOT_MET
    return results
