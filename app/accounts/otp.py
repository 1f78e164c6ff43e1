"""Second factors: the emailed one-time code and TOTP.

The emailed code is 6 random digits, stored only as an HMAC bound to its
challenge (so a code works for that login attempt only), valid at most 10
minutes, 5 tries, single use. TOTP uses pyotp with one step of clock drift
either way and refuses a step already used (no replay).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pyotp
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from pyotp.totp import TOTP

from accounts.models import LoginChallenge, SecondFactor, User

CONTROLS: dict[str, str] = {
    "PWD-2": "emailed one-time code: CSPRNG digits, HMAC-stored, <=10 minutes, single use, attempt-limited, bound to one login attempt",
    "AUTHZ-1": "managers always pass a second factor (emailed code, or TOTP when enrolled)",
}

MAX_TTL_SECONDS = 600


def code_ttl() -> timedelta:
    return timedelta(seconds=min(int(settings.KAKOI_EMAIL_OTP_TTL_SECONDS), MAX_TTL_SECONDS))


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(challenge: LoginChallenge, code: str) -> str:
    return salted_hmac("kakoi.login-challenge", f"{challenge.id}:{code}", algorithm="sha256").hexdigest()


def issue_email_code(challenge: LoginChallenge) -> str:
    """A fresh code for the challenge (any earlier code of it stops working); the caller emails it."""
    code = new_code()
    now = timezone.now()
    challenge.code_hash = hash_code(challenge, code)
    challenge.sends += 1
    challenge.last_sent_at = now
    challenge.expires_at = now + code_ttl()
    challenge.save(update_fields=["code_hash", "sends", "last_sent_at", "expires_at"])
    return code


def can_resend(challenge: LoginChallenge) -> bool:
    if challenge.method != SecondFactor.EMAIL or challenge.sends >= settings.KAKOI_EMAIL_OTP_MAX_SENDS:
        return False
    if challenge.last_sent_at is None:
        return True
    return timezone.now() - challenge.last_sent_at >= timedelta(seconds=settings.KAKOI_EMAIL_OTP_RESEND_INTERVAL_SECONDS)


def check_email_code(challenge: LoginChallenge, code: str) -> bool:
    code = code.strip()
    if not (challenge.code_hash and code.isdigit() and len(code) == 6):
        return False
    return constant_time_compare(hash_code(challenge, code), challenge.code_hash)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return TOTP(secret).provisioning_uri(name=email, issuer_name="kakoi")


def totp_step_matching(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step whose code is `code` (now +/- one step) and later than `last_step`; None if none."""
    code = code.strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = TOTP(secret)
    now = timezone.now()
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if constant_time_compare(totp.generate_otp(step), code):
            return step
    return None


def check_totp(user: User, code: str) -> bool:
    """Verify a TOTP code for the user and burn its step."""
    if not user.totp_secret:
        return False
    step = totp_step_matching(user.totp_secret, code, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    user.save(update_fields=["totp_last_step"])
    return True
