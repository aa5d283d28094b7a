"""The kernel's one table: lease rows for `kernel.locks` on databases without advisory locks."""

from __future__ import annotations

from django.db import models


class ObjectLock(models.Model):
    """A lease on a name, held by `owner` until `expires_at` (SQLite): see kernel.locks."""

    key = models.CharField(max_length=200, primary_key=True)
    owner = models.CharField(max_length=36)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "kernel_object_lock"

    def __str__(self) -> str:
        return self.key
