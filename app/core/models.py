"""The durable email outbox: a notice is a row written in the transaction of the change it reports.

It commits with the change (and vanishes with a rollback), is sent right after COMMIT, and stays
queued - never silently dropped - when the email backend (SES) fails; `manage send_queued_email`
retries it. Not tenant-scoped (like storage_purgerequest): it is infrastructure, read only by the
sender, never by a view.
"""

from __future__ import annotations

import uuid

from django.db import models


class OutboundEmail(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.subject} -> {self.to}"
