"""The queue of S3 prefixes to purge after a deletion commits.

A row is written in the same transaction as the deletion of the rows; after
COMMIT an on_commit callback deletes every object version under the prefix and
then the row. If S3 fails, the row stays and `manage.py purge_objects` (run on a
schedule) retries. Not tenant-scoped: it outlives the tenant's rows and holds
only an opaque prefix of random IDs.
"""

from __future__ import annotations

import uuid

from django.db import models

CONTROLS: dict[str, str] = {
    "USR-2": "a durable purge queue: objects of a deleted user or company are removed from S3 even if the first attempt fails",
}


class PurgeRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    prefix = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.prefix
