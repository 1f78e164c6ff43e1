"""Emails about important operations, sent to the registered address after the change commits.

Subjects and bodies are plain text built here (Django's email API encodes the
headers and rejects newlines in them).
"""

from __future__ import annotations

from core import outbox
from django.utils import timezone
from django.utils.translation import gettext

CONTROLS: dict[str, str] = {
    "CSRF-3": "password, second-factor, email and role changes and deletions each send a notice to the registered address (after commit)",
    "PWD-1": "a password change sends a notice",
    "PWD-2": "the one-time code goes only to the registered address",
}

FOOTER = "\n\nIf you did not do this, contact your company's manager at once.\n-- kakoi"


def send_after_commit(to: str, subject: str, body: str) -> None:
    """Queue an email in the current transaction, sent once it commits (nothing is sent if it rolls back).

    The durable outbox (core.outbox): a backend failure keeps the notice queued for
    `manage send_queued_email` and never turns the committed change into an error page."""
    outbox.enqueue(to, subject, body)


def _when() -> str:
    return timezone.localtime().strftime("%Y-%m-%d %H:%M %Z")


def login_code(to: str, code: str, minutes: int) -> None:
    send_after_commit(
        to,
        "Your kakoi sign-in code",
        f"Your sign-in code is {code}\n\nIt works once, for this sign-in only, for {minutes} minutes.\n"
        "Nobody from kakoi will ever ask you for it." + FOOTER,
    )


def password_changed(to: str, ip: str) -> None:
    send_after_commit(
        to,
        "Your kakoi password was changed",
        f"The password of your kakoi account was changed at {_when()} from {ip}.\nAll your other sessions were signed out." + FOOTER,
    )


def second_factor_changed(to: str, description: str, ip: str) -> None:
    send_after_commit(to, "Your kakoi sign-in security changed", f"{description} at {_when()} from {ip}." + FOOTER)


def email_change_requested(old: str, new: str, confirm_url: str) -> None:
    send_after_commit(
        new,
        "Confirm your new kakoi email address",
        f"To make this address the one of your kakoi account, open this link while signed in and confirm:\n\n{confirm_url}\n\n"
        "The link works for one hour." + FOOTER,
    )
    send_after_commit(
        old,
        "A change of your kakoi email address was requested",
        f"Someone signed in to your account asked to change its email address to {new} at {_when()}.\n"
        "Nothing changes until the new address is confirmed." + FOOTER,
    )


def email_change_requested_for_taken_address(old: str, new: str) -> None:
    """The requested address already has an account: nothing goes to it (no spam relay, no enumeration)."""
    send_after_commit(
        old,
        gettext("A change of your kakoi email address was requested"),
        gettext(
            "Someone signed in to your account asked to change its email address to %(new)s at %(when)s.\n"
            "Nothing changes until the new address is confirmed."
        )
        % {"new": new, "when": _when()}
        + FOOTER,
    )


def login_failures(to: str, failures: int) -> None:
    """Many failed sign-ins on the account from many addresses (nobody is locked out: issue 12)."""
    send_after_commit(
        to,
        gettext("Failed sign-ins to your kakoi account"),
        gettext(
            "There were %(failures)d failed attempts to sign in to your kakoi account within the last hour, from "
            "several addresses (most recently at %(when)s). You can still sign in as usual.\n"
            "If you use a short or reused password, change it now."
        )
        % {"failures": failures, "when": _when()}
        + FOOTER,
    )


def reauth_failures(to: str, failures: int, ip: str) -> None:
    """Repeated wrong current passwords in a signed-in session: someone may be guessing (issue 12)."""
    send_after_commit(
        to,
        gettext("Wrong passwords were entered in your kakoi session"),
        gettext(
            "Your current password was entered wrongly %(failures)d times in a signed-in session of your account "
            "(most recently at %(when)s from %(ip)s). Further attempts are blocked for a while.\n"
            "If this was not you, change your password and sign out your other sessions."
        )
        % {"failures": failures, "when": _when(), "ip": ip}
        + FOOTER,
    )


def email_changed(old: str, new: str) -> None:
    body = f"The email address of your kakoi account was changed from {old} to {new} at {_when()}." + FOOTER
    send_after_commit(old, "Your kakoi email address was changed", body)
    send_after_commit(new, "Your kakoi email address was changed", body)


def role_changed(to: str, role: str, by: str) -> None:
    send_after_commit(to, "Your kakoi role changed", f"Your role was changed to {role} by {by} at {_when()}." + FOOTER)


def account_deleted(to: str, by: str | None) -> None:
    who = f"by your manager {by}" if by else "at your request"
    send_after_commit(
        to,
        "Your kakoi account was deleted",
        f"Your kakoi account and all its data were deleted {who} at {_when()}.\nEvery session was signed out." + FOOTER,
    )


def invitation(to: str, company: str, inviter: str, url: str, hours: int) -> None:
    send_after_commit(
        to,
        f"You are invited to {company} on kakoi",
        f"{inviter} invited you to join {company} on kakoi.\n\nCreate your account here (the link works once, for {hours} hours):\n\n{url}\n",
    )
