"""Model building blocks shared by every app."""

from __future__ import annotations

from typing import Any

from django.db import models

from registry.lib.ids import new_public_id


class PublicIdModel(models.Model):
    """A model whose rows carry an opaque ``<PREFIX>_…`` id for the API; database ids never leave."""

    PREFIX = ""
    public_id = models.CharField(max_length=40, unique=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.public_id:
            self.public_id = new_public_id(self.PREFIX)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.public_id
