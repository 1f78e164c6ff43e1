"""Ending a session closes its signalling sockets; a new company gets its lobby.

Every way a session ends deletes its django_session row: sign-out (logout() flushes it), a
password change (other sessions deleted, this one's old key deleted by cycle_key), account
deletion and the timeouts (accounts.sessions). A post_delete receiver on Session therefore
reaches them all; it NOTIFYs the sockets of that session through the channel layer within the
same transaction, so the close happens at COMMIT and not at all on a rollback.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from tenancy.models import Company

from calls import layer, service
from calls.models import Room

CONTROLS: dict[str, str] = {
    "SES-1": "sign-out, password change and deletion close the user's signalling sockets (post_delete on the session, delivered at COMMIT)",
}


@receiver(post_delete, sender=Session, dispatch_uid="calls-close-sockets-of-ended-session")
def close_sockets_of_ended_session(sender: type[Session], instance: Session, **kwargs: Any) -> None:
    layer.group_send_in_transaction(service.session_group(instance.session_key), {"type": "session.ended"})


@receiver(post_save, sender=Company, dispatch_uid="calls-create-lobby")
def create_lobby(sender: type[Company], instance: Company, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        Room.objects.create(company=instance, name=service.LOBBY_NAME, is_lobby=True)
