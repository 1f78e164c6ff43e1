"""Live-call rooms and who is in them (presence).

A company's rooms: a default lobby (created with the company) and the rooms its managers
create. A Participant row is one signalling socket in a room; it is created under a lock on
the room row, so the participant limit (KAKOI_ROOM_MAX_PARTICIPANTS) holds however many
joins race, and it is removed when the socket leaves or closes. A row whose socket stopped
sending heartbeats (its process died) counts as gone after PRESENCE_STALE_SECONDS.

Tenant-owned: forced row-level security (migrations/0002_rls.py), like every TenantModel.
No media passes through the app: these tables hold names and presence only.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from accounts.models import User
from django.db import models
from django.utils.translation import gettext_lazy as _
from tenancy.models import TenantModel

CONTROLS: dict[str, str] = {
    "ISO-1": "Room and Participant are tenant-owned (company column, forced RLS policy in calls/migrations/0002_rls.py)",
    "PATH-1": "rooms and presence hold names and socket state only; call media never reaches the app (relay-only)",
}

ROOM_NAME_MAX = 80


class Room(TenantModel):
    name = models.CharField(_("name"), max_length=ROOM_NAME_MAX)
    is_lobby = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["company", "name"], name="calls_room_company_name_unique"),
            models.UniqueConstraint(fields=["company"], condition=models.Q(is_lobby=True), name="calls_room_one_lobby"),
        ]
        ordering: ClassVar = ["-is_lobby", "name"]

    def __str__(self) -> str:
        return self.name


class Participant(TenantModel):
    """One signalling socket in one room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participants")
    room_id: uuid.UUID
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user_id: uuid.UUID
    channel_name = models.CharField(max_length=200)
    audio = models.BooleanField(default=True)
    video = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField()

    class Meta(TenantModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["company", "channel_name"], name="calls_participant_company_channel_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["company", "room", "seen_at"], name="calls_participant_room_seen")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class LayerGroup(models.Model):
    """The channel layer's group membership (calls.layer). Not tenant data: group names are
    opaque (room/session/user ids), and only the layer reads this table."""

    group_name = models.CharField(max_length=100)
    channel = models.CharField(max_length=200)
    expires = models.FloatField()

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["group_name", "channel"], name="calls_layergroup_unique")]

    def __str__(self) -> str:
        return f"{self.group_name}: {self.channel}"


class LayerMessage(models.Model):
    """A channel-layer message (calls.layer): stored with its NOTIFY, so a receiver that was not listening takes it
    when it LISTENs again; deleted when delivered or expired."""

    channel = models.CharField(max_length=200)
    body = models.TextField()
    expires = models.FloatField(db_index=True)

    def __str__(self) -> str:
        return f"message for {self.channel}"
