"""Forms. Every important operation asks for something typed (CJ-3): the current password, or the member's address."""

from __future__ import annotations

from typing import Any

from core.clientip import client_ip
from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordMixin
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts import notices, throttle
from accounts.models import Role, User, normalize_email
from accounts.preferences import recipient, time_zone_names

CONTROLS: dict[str, str] = {
    "CJ-3": "password change, second-factor changes, email and role changes and deletions need the typed password (or the member's address)",
    "PWD-1": "a password change needs the current password; new passwords go through AUTH_PASSWORD_VALIDATORS",
    "AUTHZ-1": "every re-authentication (CurrentPasswordForm and its subclasses) is throttled per user and per client, "
    "answers 429 with Retry-After when over, and mails the user after repeated wrong passwords",
}


def language_field(automatic: str | Promise | None = None) -> forms.ChoiceField:
    """A choice of the app's languages (named in their own language), optional: left out, the caller's default
    applies. `automatic` labels an explicit empty choice (no saved language)."""
    choices = list(settings.LANGUAGES)
    if automatic is not None:
        choices = [("", automatic), *choices]
    return forms.ChoiceField(label=_("Language"), choices=choices, required=False)


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True})
    )
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class CurrentPasswordForm(forms.Form):
    """Re-authentication: the user's current password, throttled (accounts.throttle).

    Every form that asks for the current password derives from this one, so every
    re-authentication shares one budget of failures per user ("reauth-user") and per client
    ("reauth-ip"); over it, validating the form raises throttle.ThrottledError, which
    accounts.middleware.ThrottledMiddleware answers with 429 and Retry-After. The
    KAKOI_REAUTH_NOTICE_AFTER-th failure in a window emails the account's address.
    """

    password = forms.CharField(
        label=_("Your current password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, user: User, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        self.user = user
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        ip = client_ip(self.request)
        attempt = throttle.attempt(("reauth-user", str(self.user.pk)), ("reauth-ip", throttle.client_bucket(ip)))
        if not self.user.check_password(password):
            if attempt.counts["reauth-user"] == int(settings.KAKOI_REAUTH_NOTICE_AFTER):
                notices.reauth_failures(recipient(self.user), attempt.counts["reauth-user"], ip)
            raise forms.ValidationError(_("The password is incorrect."))
        attempt.succeeded()
        return password


class PasswordChangeForm(SetPasswordMixin, CurrentPasswordForm):
    new_password1, new_password2 = SetPasswordMixin.create_password_fields(label1=_("New password"), label2=_("New password (again)"))

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password2")
        return cleaned


class EmailChangeForm(CurrentPasswordForm):
    new_email = forms.EmailField(label=_("New email address"), max_length=254)

    def clean_new_email(self) -> str:
        email = normalize_email(self.cleaned_data["new_email"])
        if email == self.user.email:
            raise forms.ValidationError(_("That is already your address."))
        # No "already in use" answer here: it would tell any member which addresses have an
        # account (issue 12). The view answers the same either way and mails only a free address.
        return email


class TotpEnableForm(CurrentPasswordForm):
    code = forms.CharField(label=_("Code from your authenticator app"), max_length=6, min_length=6)


class DeleteAccountForm(CurrentPasswordForm):
    pass


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)
    #: the invitee's language: the invitation email, the acceptance page and the new account (default: the company's)
    language = language_field()

    def clean_email(self) -> str:
        # Whether the address has an account (anywhere) is not said here: that would enumerate
        # accounts. USR-1 still holds: accepting refuses an address that has one.
        return normalize_email(self.cleaned_data["email"])


class RoleForm(CurrentPasswordForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class DeleteMemberForm(forms.Form):
    confirm_email = forms.EmailField(label=_("To confirm, type the member's email address"), max_length=254)

    def __init__(self, member: User, *args: Any, **kwargs: Any) -> None:
        self.member = member
        super().__init__(*args, **kwargs)

    def clean_confirm_email(self) -> str:
        typed = normalize_email(self.cleaned_data["confirm_email"])
        if typed != self.member.email:
            raise forms.ValidationError(_("The address does not match."))
        return typed


class AcceptInvitationForm(SetPasswordMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    password1, password2 = SetPasswordMixin.create_password_fields(label1=_("Password"), label2=_("Password (again)"))
    language = language_field()

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if User.objects.filter(email=normalize_email(self.email)).exists():
            # USR-1: one account per address. Only the invitee (who holds the link) sees this.
            raise forms.ValidationError(_("This address already has a kakoi account. Sign in with it instead."))
        self.validate_passwords()
        self.validate_password_for_user(User(email=self.email, name=self.cleaned_data.get("name", "")))
        return cleaned


class PreferencesForm(forms.Form):
    """The account page's language switch and time zone ("" = automatic / the company's)."""

    language = language_field(automatic=_("Automatic (the browser's language)"))
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = [(name, name) for name in time_zone_names()]
        self.fields["time_zone"].choices = [("", _("The company's time zone")), *zones]  # type: ignore[attr-defined]


class CompanyDefaultsForm(forms.Form):
    """A manager's company defaults: the language of members without a saved one (and of invitations), and
    the time zone of members without their own."""

    default_language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    default_time_zone = forms.ChoiceField(label=_("Default time zone"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_time_zone"].choices = [(name, name) for name in time_zone_names()]  # type: ignore[attr-defined]
