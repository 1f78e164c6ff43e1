"""Emails about important operations, sent to the registered address after the change commits.

Every email is written in its recipient's language and time zone (accounts.preferences.Recipient:
their saved language, else the company's default; the invitation: the language the inviter chose).
Subjects and bodies are plain text built here (Django's email API encodes the headers and rejects
newlines in them).
"""

from __future__ import annotations

from core import outbox
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, SecondFactor
from accounts.preferences import Recipient

CONTROLS: dict[str, str] = {
    "CSRF-3": "password, second-factor, email and role changes and deletions each send a notice to the registered address (after commit), "
    "in the recipient's language",
    "PWD-1": "a password change sends a notice",
    "PWD-2": "the one-time code goes only to the registered address",
}


def _footer() -> str:
    return "\n\n" + _("If you did not do this, contact your company's manager at once.") + "\n-- kakoi"


def send_after_commit(to: str, subject: str, body: str) -> None:
    """Queue an email in the current transaction, sent once it commits (nothing is sent if it rolls back).

    The durable outbox (core.outbox): a backend failure keeps the notice queued for
    `manage send_queued_email` and never turns the committed change into an error page."""
    outbox.enqueue(to, subject, body)


def _when() -> str:
    """Now, in the active time zone and the active language's date format, with the zone's abbreviation."""
    now = timezone.localtime()
    return f"{formats.date_format(now, 'DATETIME_FORMAT')} ({formats.date_format(now, 'T')})"


def login_code(to: Recipient, code: str, minutes: int) -> None:
    with to.active():
        body = (
            _("Your sign-in code is %(code)s") % {"code": code}
            + "\n\n"
            + ngettext(
                "It works once, for this sign-in only, for %(minutes)d minute.",
                "It works once, for this sign-in only, for %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes}
            + "\n"
            + _("Nobody from kakoi will ever ask you for it.")
            + _footer()
        )
        send_after_commit(to.email, _("Your kakoi sign-in code"), body)


def password_changed(to: Recipient, ip: str) -> None:
    with to.active():
        body = (
            _("The password of your kakoi account was changed at %(when)s from %(ip)s.") % {"when": _when(), "ip": ip}
            + "\n"
            + _("All your other sessions were signed out.")
            + _footer()
        )
        send_after_commit(to.email, _("Your kakoi password was changed"), body)


def second_factor_changed(to: Recipient, factor: str, ip: str) -> None:
    """`factor`: the second factor now in use (SecondFactor)."""
    with to.active():
        if factor == SecondFactor.EMAIL:
            what = _("Sign-in now asks for a code sent to this address at %(when)s from %(ip)s.")
        elif factor == SecondFactor.TOTP:
            what = _("Sign-in now asks for a code from an authenticator app at %(when)s from %(ip)s.")
        else:
            what = _("The second sign-in step (two-step verification) was turned off at %(when)s from %(ip)s.")
        body = what % {"when": _when(), "ip": ip} + _footer()
        send_after_commit(to.email, _("Your kakoi sign-in security changed"), body)


def email_change_requested(old: Recipient, new: Recipient, confirm_url: str) -> None:
    with new.active():
        body = (
            _("To make this address the one of your kakoi account, open this link while signed in and confirm:")
            + f"\n\n{confirm_url}\n\n"
            + _("The link works for one hour.")
            + _footer()
        )
        send_after_commit(new.email, _("Confirm your new kakoi email address"), body)
    with old.active():
        body = (
            _("Someone signed in to your account asked to change its email address to %(new)s at %(when)s.")
            % {"new": new.email, "when": _when()}
            + "\n"
            + _("Nothing changes until the new address is confirmed.")
            + _footer()
        )
        send_after_commit(old.email, _("A change of your kakoi email address was requested"), body)


def email_change_requested_for_taken_address(old: Recipient, new: str) -> None:
    """The requested address already has an account: nothing goes to it (no spam relay, no enumeration)."""
    with old.active():
        body = (
            _("Someone signed in to your account asked to change its email address to %(new)s at %(when)s.") % {"new": new, "when": _when()}
            + "\n"
            + _("Nothing changes until the new address is confirmed.")
            + _footer()
        )
        send_after_commit(old.email, _("A change of your kakoi email address was requested"), body)


def login_failures(to: Recipient, failures: int) -> None:
    """Many failed sign-ins on the account from many addresses (nobody is locked out: issue 12)."""
    with to.active():
        body = (
            _(
                "There were %(failures)d failed attempts to sign in to your kakoi account within the last hour, from "
                "several addresses (most recently at %(when)s). You can still sign in as usual."
            )
            % {"failures": failures, "when": _when()}
            + "\n"
            + _("If you use a short or reused password, change it now.")
            + _footer()
        )
        send_after_commit(to.email, _("Failed sign-ins to your kakoi account"), body)


def reauth_failures(to: Recipient, failures: int, ip: str) -> None:
    """Repeated wrong current passwords in a signed-in session: someone may be guessing (issue 12)."""
    with to.active():
        body = (
            _(
                "Your current password was entered wrongly %(failures)d times in a signed-in session of your account "
                "(most recently at %(when)s from %(ip)s). Further attempts are blocked for a while."
            )
            % {"failures": failures, "when": _when(), "ip": ip}
            + "\n"
            + _("If this was not you, change your password and sign out your other sessions.")
            + _footer()
        )
        send_after_commit(to.email, _("Wrong passwords were entered in your kakoi session"), body)


def email_changed(old: Recipient, new: Recipient) -> None:
    for to in (old, new):
        with to.active():
            body = _("The email address of your kakoi account was changed from %(old)s to %(new)s at %(when)s.") % {
                "old": old.email,
                "new": new.email,
                "when": _when(),
            }
            send_after_commit(to.email, _("Your kakoi email address was changed"), body + _footer())


def role_changed(to: Recipient, role: str, by: str) -> None:
    with to.active():
        body = _("Your role was changed to %(role)s by %(by)s at %(when)s.") % {"role": Role(role).label, "by": by, "when": _when()}
        send_after_commit(to.email, _("Your kakoi role changed"), body + _footer())


def account_deleted(to: Recipient, by: str | None) -> None:
    with to.active():
        if by:
            what = _("Your kakoi account and all its data were deleted by your manager %(by)s at %(when)s.") % {"by": by, "when": _when()}
        else:
            what = _("Your kakoi account and all its data were deleted at your request at %(when)s.") % {"when": _when()}
        body = what + "\n" + _("Every session was signed out.") + _footer()
        send_after_commit(to.email, _("Your kakoi account was deleted"), body)


def invitation(to: Recipient, company: str, inviter: str, url: str, hours: int) -> None:
    with to.active():
        body = (
            _("%(inviter)s invited you to join %(company)s on kakoi.") % {"inviter": inviter, "company": company}
            + "\n\n"
            + ngettext(
                "Create your account here (the link works once, for %(hours)d hour):",
                "Create your account here (the link works once, for %(hours)d hours):",
                hours,
            )
            % {"hours": hours}
            + f"\n\n{url}\n"
        )
        send_after_commit(to.email, _("You are invited to %(company)s on kakoi") % {"company": company}, body)


def recording_removed(to: Recipient, name: str) -> None:
    """AV-1: the malware scan found a threat in an upload, which was deleted."""
    with to.active():
        body = (
            _("The malware scan found a threat in the file you uploaded as “%(name)s”. It was deleted and cannot be downloaded.")
            % {"name": name}
            + "\n"
            + _("Please check the device it came from.")
            + _footer()
        )
        send_after_commit(to.email, _("A recording you uploaded was removed"), body)
