"""The log's storage: leaves, hashes of complete subtrees, the sequencer row and checkpoints."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LogState(models.Model):
    """The single sequencer row: appenders lock it, so appends are gap-free and ordered.

    ``frontier`` holds the hashes of the complete subtrees along the tree's right edge (one per
    set bit of ``size``, highest level first): enough to append and to compute the root in
    O(log n) without reading any other row.
    """

    size = models.BigIntegerField(default=0)
    frontier = models.BinaryField(default=b"")
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"log of {self.size} leaves"


class LogEntry(models.Model):
    """One leaf: its canonical bytes and hash. Holds ids and digests only, never personal data.

    On PostgreSQL, rows of LogEntry, LogNode and LogState are written by the SQL function of
    migration 0003 (``restu_log_append``): a change to their columns needs a migration that
    replaces that function too.
    """

    index = models.BigIntegerField(unique=True)
    type = models.CharField(max_length=40)
    ref = models.CharField(max_length=80, db_index=True)
    digest = models.CharField(max_length=80)
    at = models.DateTimeField()
    leaf = models.BinaryField()
    leaf_hash = models.BinaryField()

    class Meta:
        ordering = ["index"]
        verbose_name_plural = "log entries"

    def __str__(self) -> str:
        return f"#{self.index} {self.type} {self.ref}"


class LogNode(models.Model):
    """The hash of the complete subtree over leaves ``[index·2^level, (index+1)·2^level)``."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed tree head (C2SP checkpoint note), each consistent with the one before."""

    size = models.BigIntegerField(unique=True)
    root = models.BinaryField()
    note = models.TextField()
    kid = models.CharField(max_length=64)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"checkpoint at {self.size}"
