"""Signed, expiring tokens in links: invitations and email-change confirmations.

The signature (Django signing, HMAC with SECRET_KEY and a per-purpose salt)
stops forgery; the database makes them single use: an invitation stores the
hash of the token's nonce and is marked accepted; an email-change token names
the address it changes from (dead once the address has changed) and carries a
random nonce whose use is recorded (UsedToken), so it works exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

CONTROLS: dict[str, str] = {
    "USR-1": "invitations are signed, expiring, single-use links bound to one company and one address",
    "CSRF-3": "email-change links are signed, expire after an hour and work once (their use is recorded)",
}

INVITATION_SALT = "kakoi.invitation"
EMAIL_CHANGE_SALT = "kakoi.email-change"


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class InvitationToken:
    company_id: uuid.UUID
    invitation_id: uuid.UUID
    nonce: str


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(32)


def make_invitation_token(company_id: uuid.UUID, invitation_id: uuid.UUID, nonce: str) -> str:
    return signing.dumps({"c": str(company_id), "i": str(invitation_id), "n": nonce}, salt=INVITATION_SALT)


def read_invitation_token(token: str) -> InvitationToken:
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=settings.KAKOI_INVITATION_TTL_SECONDS)
        return InvitationToken(company_id=uuid.UUID(data["c"]), invitation_id=uuid.UUID(data["i"]), nonce=str(data["n"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidTokenError from exc


@dataclass(frozen=True)
class EmailChangeToken:
    user_id: uuid.UUID
    old_email: str
    new_email: str
    nonce: str

    @property
    def use_key(self) -> str:
        """The UsedToken key recorded when this link is used."""
        return hashlib.sha256(f"{EMAIL_CHANGE_SALT}\x00{self.nonce}".encode()).hexdigest()


def make_email_change_token(user_id: uuid.UUID, old_email: str, new_email: str) -> str:
    return signing.dumps({"u": str(user_id), "o": old_email, "n": new_email, "t": new_nonce()}, salt=EMAIL_CHANGE_SALT)


def read_email_change_token(token: str) -> EmailChangeToken:
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.KAKOI_EMAIL_CHANGE_TTL_SECONDS)
        return EmailChangeToken(user_id=uuid.UUID(data["u"]), old_email=str(data["o"]), new_email=str(data["n"]), nonce=str(data["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidTokenError from exc
