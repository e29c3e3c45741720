"""Rotating one of the registry's own keys: the one service for it, with its leaves and events."""

from __future__ import annotations

from django.db import transaction

from registry import keys
from registry.events.services import event_record
from registry.lib.canonical import canonical_json, sha256_digest
from registry.transparency.services import log_append


def registry_key_rotate(*, purpose: str) -> tuple[keys.RegistryKey, keys.RegistryKey]:
    """Retire the active key for ``purpose`` and start a new one; ``(retired, new)``.

    The leaves and events are written in the transaction before the key file is replaced, and the
    file before the commit: if logging fails nothing rotates, and a rotation that happened is
    always in the log (the file write is the last step that can fail before the commit).
    """
    before = keys.keyring().active(purpose)

    def record(retired: list[keys.RegistryKey], new: keys.RegistryKey) -> None:
        # The retired key as it is now listed (with its end of validity), not as it was.
        for key in retired:
            digest = sha256_digest(canonical_json(key.public_jwk()))
            log_append(type="registry_key.retired", ref=f"kid_{key.kid}", digest=digest)
            event_record(type="registry_key.retired", payload={"kid": key.kid, "purpose": purpose, "digest": digest})
        digest = sha256_digest(canonical_json(new.public_jwk()))
        log_append(type="registry_key.added", ref=f"kid_{new.kid}", digest=digest)
        event_record(type="registry_key.added", payload={"kid": new.kid, "purpose": purpose, "digest": digest})

    with transaction.atomic():
        new = keys.key_rotate(purpose, before_write=record)
    return before, new
