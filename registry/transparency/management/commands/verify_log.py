"""``manage.py verify_log``: recompute the whole tree from the stored leaves and check everything."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry import keys
from registry.lib.merkle import leaf_hash
from registry.lib.signing import VerificationError, verifier_key_string, verify_checkpoint
from registry.transparency.models import Checkpoint, LogEntry, LogNode, LogState
from registry.transparency.tree import frontier_decode, frontier_push, frontier_root

BATCH = 5000


class Command(BaseCommand):
    help = (
        "Recompute the Merkle tree from every stored leaf; check leaf hashes, stored subtree hashes, "
        "the sequencer row and every stored checkpoint (signature and root). Exit 1 on any mismatch."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="print only problems and the verdict")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["quiet"]
        state = LogState.objects.filter(pk=1).first() or LogState(size=0, frontier=b"")
        total = state.size
        checkpoints = {c.size: c for c in Checkpoint.objects.all()}
        verifiers = [
            verifier_key_string(settings.REGISTRY_LOG_ORIGIN, key.private_key.public_key())
            for key in keys.keyring().by_purpose(keys.CHECKPOINT)
        ]
        problems: list[str] = []
        frontier: dict[int, bytes] = {}
        expected = 0
        checked_checkpoints = 0
        if 0 in checkpoints:
            checked_checkpoints += self._check_checkpoint(checkpoints[0], frontier_root(frontier), verifiers, problems)
        last = -1
        broken = False
        while not broken:
            entries = list(LogEntry.objects.filter(index__gt=last).order_by("index")[:BATCH])
            if not entries:
                break
            computed_nodes: dict[tuple[int, int], bytes] = {}
            for entry in entries:
                if entry.index != expected:
                    # Past a missing leaf no hash can be recomputed: report it and stop here.
                    problems.append(f"gap: expected leaf {expected}, found {entry.index}")
                    broken = True
                    break
                computed = leaf_hash(bytes(entry.leaf))
                if computed != bytes(entry.leaf_hash):
                    problems.append(f"leaf {entry.index}: stored hash does not match its bytes")
                for level, index, digest in frontier_push(frontier, entry.index, computed):
                    computed_nodes[(level, index)] = digest
                expected += 1
                if expected in checkpoints:
                    checked_checkpoints += self._check_checkpoint(
                        checkpoints[expected], frontier_root(frontier), verifiers, problems
                    )
            self._check_nodes(computed_nodes, problems)
            last = entries[-1].index
            if not quiet:
                self.stderr.write(f"\r  checked {expected:,} of {total:,} leaves", ending="")
        if not quiet and total:
            self.stderr.write("")
        if expected != total and not broken:
            problems.append(f"sequencer says {total} leaves, found {expected}")
        try:
            stored_root = frontier_root(frontier_decode(total, bytes(state.frontier)))
        except ValueError:  # a frontier of the wrong length for the size is itself a problem to report
            stored_root = None
        if stored_root != frontier_root(frontier) and not broken:
            problems.append("the sequencer's frontier does not match the recomputed tree")
        orphaned = [size for size in checkpoints if size > expected and not broken]
        problems.extend(f"checkpoint at {size} is beyond the log's end" for size in orphaned)
        for problem in problems:
            self.stderr.write(self.style.ERROR(problem))
        if problems:
            raise CommandError(f"The log does NOT verify: {len(problems)} problem(s).", returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                f"The log verifies: {expected} leaves, root {frontier_root(frontier).hex()}, "
                f"{checked_checkpoints} checkpoints."
            )
        )

    def _check_nodes(self, computed: dict[tuple[int, int], bytes], problems: list[str]) -> None:
        """Compare recomputed subtree hashes with the stored ones, one range query per level."""
        by_level: dict[int, list[int]] = {}
        for level, index in computed:
            by_level.setdefault(level, []).append(index)
        for level, indices in by_level.items():
            stored = {
                index: bytes(digest)
                for index, digest in LogNode.objects.filter(
                    level=level, index__gte=min(indices), index__lte=max(indices)
                ).values_list("index", "hash")
            }
            for index in sorted(indices):
                if stored.get(index) != computed[(level, index)]:
                    problems.append(f"node {level}/{index}: stored hash is missing or wrong")

    def _check_checkpoint(self, checkpoint: Checkpoint, root: bytes, verifiers: list[str], problems: list[str]) -> int:
        for verifier in verifiers:
            try:
                parsed = verify_checkpoint(checkpoint.note, verifier, origin=settings.REGISTRY_LOG_ORIGIN)
            except VerificationError:
                continue
            if parsed.size != checkpoint.size or parsed.root != root or bytes(checkpoint.root) != root:
                problems.append(f"checkpoint at {checkpoint.size}: its root is not the recomputed root")
            return 1
        problems.append(f"checkpoint at {checkpoint.size}: no registry checkpoint key verifies its signature")
        return 1
