"""Witnessing state: the logs this registry witnesses, its view of each outside witness, and
the cosignatures those witnesses returned on the registry's own checkpoints."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

EMPTY_ROOT = hashlib.sha256(b"").digest()


class WitnessedLog(models.Model):
    """Witness side: the latest checkpoint this registry cosigned for one log (by origin).

    ``size`` only moves by a conditional UPDATE ... WHERE size = <old> (services), so two
    submissions from the same old size cannot both succeed.
    """

    origin = models.CharField(max_length=255, unique=True)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(default=EMPTY_ROOT)
    # The checkpoint as cosigned: the log's signature lines that verified plus our cosignature.
    note = models.TextField(blank=True, default="")
    updated = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.origin} at {self.size}"


class Witness(models.Model):
    """Log side: one witness of the policy (by its local name) and how submitting to it goes."""

    name = models.CharField(max_length=200, unique=True)
    vkey = models.CharField(max_length=500)
    url = models.CharField(max_length=2000, blank=True, default="")
    # The size we believe the witness holds for our log (told by a 409, or our last cosigned size).
    known_size = models.BigIntegerField(default=0)
    cosigned_size = models.BigIntegerField(null=True, blank=True)
    cosigned_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True)  # backoff and rate limit
    lease_until = models.DateTimeField(null=True, blank=True)  # one submission at a time

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A witness's cosignature line (C2SP tlog-cosignature, type 0x04) on one of our checkpoints."""

    checkpoint = models.ForeignKey("transparency.Checkpoint", on_delete=models.CASCADE, related_name="cosignatures")
    witness = models.CharField(max_length=200)  # the policy's local name when it was stored
    vkey = models.CharField(max_length=500)
    line = models.TextField()
    timestamp = models.BigIntegerField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "vkey"], name="witness_one_cosignature_per_key")]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint_id}"


class WitnessedCheckpoint(models.Model):
    """One of our checkpoints whose cosignatures meet the policy's quorum: what we serve."""

    checkpoint = models.OneToOneField("transparency.Checkpoint", on_delete=models.CASCADE, related_name="witnessed")
    size = models.BigIntegerField(unique=True)
    note = models.TextField()  # the registry's note with every cosignature line appended
    witnessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"witnessed checkpoint at {self.size}"
