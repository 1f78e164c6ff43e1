"""Accounts: the identity table (global) and the tenant-owned login, session and invitation state.

`User` is an identity table: login looks a user up by email before any tenant
is known, and the session middleware loads the user to learn the tenant, so it
is not tenant-scoped (its `company` column says which tenant the account
belongs to, and every view reaches other users only through
`User.objects.filter(company=<current tenant>)`). Everything else here derives
from TenantModel and is protected by forced row-level security.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from tenancy.models import Company, TenantModel

CONTROLS: dict[str, str] = {
    "USR-1": "one account per email address: emails are stored lower-cased and a unique index on lower(email) spans all tenants",
    "ISO-1": "Invitation, LoginChallenge and UserSession are tenant-owned (company column, forced RLS)",
    "PWD-2": "LoginChallenge stores only an HMAC of the emailed code, with expiry, attempt and send counters, bound to one login attempt",
    "PATH-3": "every row has a random UUID primary key; a user's media live under a server-generated S3 prefix (storage.s3.user_prefix)",
}


def normalize_email(email: str) -> str:
    """One spelling per address: trimmed and lower-cased (so the unique index catches every variant)."""
    return email.strip().lower()


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    MEMBER = "member", _("Member")


class SecondFactor(models.TextChoices):
    NONE = "none", _("None")
    EMAIL = "email", _("Emailed one-time code")
    TOTP = "totp", _("Authenticator app (TOTP)")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def create_user(self, email: str, password: str | None, *, company: Company, role: str = Role.MEMBER, **extra: object) -> User:
        user = self.model(email=normalize_email(email), company=company, role=role, **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Stored normalized (lower-case) and unique; the index on lower(email) below also catches any
    # spelling that bypassed normalization.
    email = models.EmailField(max_length=254, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", editable=False)
    company_id: uuid.UUID
    name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    second_factor = models.CharField(max_length=16, choices=SecondFactor.choices, default=SecondFactor.NONE)
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    #: the saved language ("": none saved, so the browser's Accept-Language, else the company's default)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    #: an IANA time zone ("": the company's default time zone)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta(AbstractBaseUser.Meta):
        constraints: ClassVar = [
            # USR-1: one account per address, across all tenants (the one unique constraint without the tenant).
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["company", "role"], name="accounts_user_company_role")]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def set_second_factor(self, factor: str, *, totp_secret: str | None = None, totp_step: int | None = None) -> None:
        """Switch the second factor; a TOTP secret is kept only while TOTP is the factor."""
        self.second_factor = factor
        self.totp_secret = totp_secret if factor == SecondFactor.TOTP and totp_secret else ""
        self.totp_last_step = totp_step if self.totp_secret else None
        self.save(update_fields=["second_factor", "totp_secret", "totp_last_step"])

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def effective_second_factor(self) -> str:
        """AUTHZ-1: a manager always has a second factor (the emailed code unless TOTP is set up)."""
        if self.second_factor == SecondFactor.TOTP and self.totp_secret:
            return SecondFactor.TOTP
        if self.is_manager:
            return SecondFactor.EMAIL
        if self.second_factor == SecondFactor.EMAIL:
            return SecondFactor.EMAIL
        return SecondFactor.NONE


class Invitation(TenantModel):
    """A manager's invitation of an email address to the company; accepted once, before it expires."""

    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    nonce_hash = models.CharField(max_length=64)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    #: chosen by the inviter: the invitation email, the acceptance page and the new account's language
    #: ("": the company's default language)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["company", "nonce_hash"], name="accounts_invitation_company_nonce_unique"),
            models.UniqueConstraint(
                "company",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True),
                name="accounts_invitation_company_pending_email_unique",
            ),
        ]

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class LoginChallenge(TenantModel):
    """The second-factor step of one login attempt (emailed code or TOTP)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user_id: uuid.UUID
    method = models.CharField(max_length=16, choices=SecondFactor.choices)
    code_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    sends = models.PositiveIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        indexes: ClassVar = [models.Index(fields=["company", "user"], name="accounts_challenge_user")]

    @property
    def is_open(self) -> bool:
        return self.consumed_at is None and self.expires_at > timezone.now()


class UserSession(TenantModel):
    """Which sessions belong to which user, so they can all be ended (password change, deletion)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    user_id: uuid.UUID
    session_key = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantModel.Meta):
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["company", "session_key"], name="accounts_usersession_company_key_unique"),
        ]


class ThrottleCounter(models.Model):
    """A fixed-window counter for login and second-factor throttling.

    Global (not tenant-scoped): it must work before the tenant is known. The key
    is a SHA-256 of scope and identifier, so no address or IP is stored in clear.
    """

    key = models.CharField(max_length=64, primary_key=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key[:12]}…: {self.count}"


class UsedToken(models.Model):
    """A single-use link that was used (issue 12): an email-change confirmation works once.

    Global, like ThrottleCounter: the key is a SHA-256 of the purpose and the token's random nonce,
    so nothing about the user is stored. Rows older than the token's life are removed when new
    ones are recorded (the signature's max_age refuses such tokens anyway).
    """

    key = models.CharField(max_length=64, primary_key=True)
    used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.key[:12]}…"
