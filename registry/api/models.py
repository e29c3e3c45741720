"""Stored first responses for ``Idempotency-Key`` replays."""

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """One caller's use of one Idempotency-Key: the request fingerprint and the first answer."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        COMPLETED = "completed"

    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.BinaryField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="one_record_per_caller_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}] {self.state}"


class ThrottleCounter(models.Model):
    """Hits in one throttle window, counted by one upsert when the cache is the database.

    The database cache stores pickled values, so a counter there costs an insert the first time
    and a read-then-write (five statements) every later time; a row counted in SQL costs one
    statement whatever its state, and two requests cannot both read the old count.
    """

    key = models.CharField(max_length=255, primary_key=True)
    hits = models.PositiveIntegerField()
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
