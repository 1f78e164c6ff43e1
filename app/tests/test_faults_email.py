"""Faults survived (AVL-1, CSRF-3): the email backend (SES) fails while a change is made that must be reported.

Expected, asserted: the change stays made (the password is changed, the page answers as usual, never 500);
the notice is kept in the durable outbox (core.models.OutboundEmail) with the failure recorded, not dropped;
once the backend works again, `manage send_queued_email` sends it exactly once and empties the queue. A
change that rolls back queues nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSWORD, Tenant
from core.models import OutboundEmail
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import transaction

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a completely new passphrase 77"


class FailingBackend(BaseEmailBackend):
    """What SES unreachable or throttling looks like to Django: send_messages raises."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionError("email endpoint unreachable")


def test_avl1_a_failing_email_backend_keeps_the_notice_queued_and_the_change_made(
    client: Any, signed_in: Any, tenant_a: Tenant, settings: Any
) -> None:
    """AVL-1 / CSRF-3: password change while the backend fails: changed, notice queued with the error; retried later."""
    member = tenant_a.member
    signed_in(client, member)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    response = client.post("/account/password/", {"password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD), "the change is not undone by the failing notice"
    (queued,) = OutboundEmail.objects.all()
    assert queued.to == member.email and "password" in queued.subject.lower()
    assert queued.attempts == 1 and "unreachable" in queued.last_error
    assert mail.outbox == []

    call_command("send_queued_email", verbosity=0)  # still failing: kept, attempt counted
    assert OutboundEmail.objects.get().attempts == 2

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    call_command("send_queued_email", verbosity=0)
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert not OutboundEmail.objects.exists()
    call_command("send_queued_email", verbosity=0)
    assert len(mail.outbox) == 1, "sent exactly once"


def test_csrf3_a_change_that_rolls_back_queues_no_notice(tenant_a: Tenant) -> None:
    """CSRF-3: the notice is written in the change's transaction: a rollback leaves nothing queued or sent."""
    from accounts import notices

    with pytest.raises(RuntimeError), transaction.atomic():
        notices.send_after_commit(tenant_a.member.email, "subject", "body")
        raise RuntimeError("the change failed")
    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []
