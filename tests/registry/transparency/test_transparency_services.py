"""The log's write path: gap-free appends of canonical, personal-data-free leaves; checkpoints."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from restu_verify import verify_checkpoint as offline_verify_checkpoint
from restu_verify.jcs import canonical_json as offline_canonical_json
from restu_verify.merkle import verify_consistency as offline_verify_consistency

from registry import keys
from registry.lib.canonical import canonical_json, sha256_digest
from registry.lib.ids import new_public_id
from registry.lib.merkle import EMPTY_ROOT, leaf_hash, root_from_leaf_hashes
from registry.transparency import selectors
from registry.transparency.models import Checkpoint, LogEntry, LogNode, LogState
from registry.transparency.services import (
    LogAppendError,
    checkpoint_publish,
    leaf_types,
    log_append,
    tree_head,
)


def _digest() -> str:
    return sha256_digest(os.urandom(16))


def append(count: int = 1, type_: str = "consent.signed") -> list[LogEntry]:
    made = []
    for _ in range(count):
        with transaction.atomic():
            made.append(log_append(type=type_, ref=new_public_id("con"), digest=_digest()))
    return made


def stored_hashes() -> list[bytes]:
    return [bytes(h) for h in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)]


@pytest.mark.django_db
def test_appends_get_consecutive_indices_from_zero_and_the_head_matches_the_leaves():
    entries = append(13)
    assert [e.index for e in entries] == list(range(13))
    assert list(LogEntry.objects.values_list("index", flat=True)) == list(range(13))
    head = tree_head()
    assert head.size == 13
    assert head.root == root_from_leaf_hashes(stored_hashes())
    assert LogState.objects.get(pk=1).size == 13


@pytest.mark.django_db
def test_every_complete_subtree_is_stored_once():
    append(8)
    # 8 leaves, 4 + 2 + 1 parents.
    assert LogNode.objects.count() == 15
    assert set(LogNode.objects.filter(level=3).values_list("index", flat=True)) == {0}
    top = bytes(LogNode.objects.get(level=3, index=0).hash)
    assert top == root_from_leaf_hashes(stored_hashes())


@pytest.mark.django_db
def test_leaf_bytes_are_rfc8785_json_of_type_id_digest_and_time():
    at = datetime(2027, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    ref, digest = new_public_id("con"), _digest()
    with transaction.atomic():
        entry = log_append(type="consent.revoked", ref=ref, digest=digest, at=at)
    raw = bytes(entry.leaf)
    leaf = json.loads(raw)
    assert leaf == {"type": "consent.revoked", "id": ref, "digest": digest, "at": "2027-03-01T12:30:05.123456Z"}
    # Canonical by the registry's own JCS and by the offline client's independent one.
    assert raw == canonical_json(leaf) == offline_canonical_json(leaf)
    assert raw.startswith(b'{"at":')  # keys sorted, no whitespace
    assert b" " not in raw
    assert bytes(entry.leaf_hash) == leaf_hash(raw)
    stored = LogEntry.objects.get(index=entry.index)
    assert bytes(stored.leaf) == raw


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ref", "digest"),
    [
        ("jane.doe@example.org", "sha256:" + "a" * 64),  # an email as the id
        ("Jane Doe", "sha256:" + "a" * 64),  # a name as the id
        ("con_jane doe smith", "sha256:" + "a" * 64),
        ("", "sha256:" + "a" * 64),
        ("con_" + "a" * 26, "jane.doe@example.org"),  # an email as the digest
        ("con_" + "a" * 26, "Jane Doe"),
        ("con_" + "a" * 26, "sha256:" + "A" * 64),  # not lower-case hex
        ("con_" + "a" * 26, "sha256:" + "a" * 63),
        ("con_" + "a" * 26, "md5:" + "a" * 32),
    ],
)
def test_personal_data_and_malformed_refs_are_refused_and_nothing_is_written(ref, digest):
    with pytest.raises(LogAppendError), transaction.atomic():
        log_append(type="consent.signed", ref=ref, digest=digest)
    assert LogEntry.objects.count() == 0
    assert tree_head().size == 0


@pytest.mark.django_db
def test_unknown_leaf_type_is_refused():
    assert "consent.signed" in leaf_types()
    with pytest.raises(LogAppendError), transaction.atomic():
        log_append(type="person.named", ref=new_public_id("con"), digest=_digest())
    assert LogEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_log_append_outside_a_transaction_raises_and_appends_nothing():
    with pytest.raises(RuntimeError):
        log_append(type="consent.signed", ref=new_public_id("con"), digest=_digest())
    assert LogEntry.objects.count() == 0
    assert tree_head().size == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_transaction_leaves_no_leaf_and_the_next_append_takes_its_index():
    append(3)
    before = tree_head()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        log_append(type="consent.signed", ref=new_public_id("con"), digest=_digest())
        log_append(type="consent.revoked", ref=new_public_id("con"), digest=_digest())
        1 / 0  # noqa: B018 - the change that fails after the leaves were written
    assert tree_head() == before
    assert LogEntry.objects.count() == 3
    assert not LogNode.objects.filter(level=0, index__gte=3).exists()
    (entry,) = append(1)
    assert entry.index == 3
    assert tree_head().root == root_from_leaf_hashes(stored_hashes())


@pytest.mark.django_db(transaction=True)
def test_the_log_works_after_its_sequencer_row_was_flushed():
    # A flush (manage.py flush, every transactional test) deletes the row the migration made.
    LogState.objects.all().delete()
    assert tree_head().size == 0
    assert tree_head().root == EMPTY_ROOT
    assert selectors.log_size() == 0
    (entry,) = append(1)
    assert entry.index == 0
    assert tree_head().size == 1


@pytest.mark.django_db
def test_empty_tree_head_is_the_hash_of_nothing():
    assert tree_head().size == 0
    assert tree_head().root == EMPTY_ROOT


def _verifier_key() -> str:
    from django.conf import settings

    from registry.lib.signing import verifier_key_string

    key = keys.keyring().active(keys.CHECKPOINT)
    return verifier_key_string(settings.REGISTRY_LOG_ORIGIN, key.private_key.public_key())


@pytest.mark.django_db
def test_checkpoints_are_signed_and_each_is_consistent_with_the_one_before():
    vkey = _verifier_key()
    previous = None
    for batch in (1, 2, 5, 9, 16):
        append(batch)
        checkpoint = checkpoint_publish()
        assert checkpoint is not None
        parsed = offline_verify_checkpoint(checkpoint.note, vkey)
        assert parsed.size == checkpoint.size == tree_head().size
        assert parsed.root == bytes(checkpoint.root) == root_from_leaf_hashes(stored_hashes())
        if previous is not None:
            proof = selectors.proof_consistency(first=previous.size, second=parsed.size)
            assert offline_verify_consistency(previous.size, parsed.size, proof, previous.root, parsed.root)
        previous = parsed
    assert Checkpoint.objects.count() == 5


@pytest.mark.django_db
def test_publishing_twice_without_growth_adds_no_checkpoint():
    append(2)
    assert checkpoint_publish() is not None
    assert checkpoint_publish() is None
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_a_head_that_does_not_extend_the_last_checkpoint_is_never_signed():
    append(4)
    first = checkpoint_publish()
    assert first is not None
    Checkpoint.objects.filter(pk=first.pk).update(root=bytes(32))  # the last signed head disagrees
    append(1)
    with pytest.raises(RuntimeError):
        checkpoint_publish()
    assert Checkpoint.objects.count() == 1


@pytest.mark.django_db
def test_checkpoint_note_has_the_c2sp_shape():
    append(3)
    checkpoint = checkpoint_publish()
    from django.conf import settings

    lines = checkpoint.note.split("\n")
    assert lines[0] == settings.REGISTRY_LOG_ORIGIN
    assert lines[1] == "3"
    assert base64.b64decode(lines[2]) == tree_head().root
    assert lines[3] == ""
    assert lines[4].startswith("\u2014 " + settings.REGISTRY_LOG_ORIGIN + " ")
    signature = base64.b64decode(lines[4].rsplit(" ", 1)[1])
    assert len(signature) == 4 + 64
    assert checkpoint.note.endswith("\n")


def test_each_app_declares_the_leaf_types_it_appends_and_nothing_never_emitted_is_accepted() -> None:
    from registry.transparency.services import leaf_type_register

    accepted = leaf_types()
    # Registered by the consent and guidelines apps in ready(), by the core for its own.
    assert {
        "consent.signed",
        "vouch.given",
        "guideline.published",
        "project_key.added",
        "registry_key.added",
    } <= accepted
    assert "release.cleared" not in accepted  # listed once, never appended by anything
    with pytest.raises(ImproperlyConfigured, match="must look like"):
        leaf_type_register("Consent Signed")
