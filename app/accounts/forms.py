"""Forms. Every important operation asks for something typed (CJ-3): the current password, or the member's address."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordMixin

from accounts.models import Role, User, normalize_email

CONTROLS: dict[str, str] = {
    "CJ-3": "password change, second-factor changes, email and role changes and deletions need the typed password (or the member's address)",
    "PWD-1": "a password change needs the current password; new passwords go through AUTH_PASSWORD_VALIDATORS",
}


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class CurrentPasswordForm(forms.Form):
    """Re-authentication: the user's current password."""

    password = forms.CharField(
        label="Your current password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("The password is incorrect.")
        return password


class PasswordChangeForm(SetPasswordMixin, CurrentPasswordForm):
    new_password1, new_password2 = SetPasswordMixin.create_password_fields(label1="New password", label2="New password (again)")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password2")
        return cleaned


class EmailChangeForm(CurrentPasswordForm):
    new_email = forms.EmailField(label="New email address", max_length=254)

    def clean_new_email(self) -> str:
        email = normalize_email(self.cleaned_data["new_email"])
        if email == self.user.email:
            raise forms.ValidationError("That is already your address.")
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("That address cannot be used.")
        return email


class TotpEnableForm(CurrentPasswordForm):
    code = forms.CharField(label="Code from your authenticator app", max_length=6, min_length=6)


class DeleteAccountForm(CurrentPasswordForm):
    pass


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            # USR-1: one account per address; an address that has one cannot be invited anywhere.
            raise forms.ValidationError("That address already has an account.")
        return email


class RoleForm(CurrentPasswordForm):
    role = forms.ChoiceField(choices=Role.choices)


class DeleteMemberForm(forms.Form):
    confirm_email = forms.EmailField(label="Type the member's email address to confirm", max_length=254)

    def __init__(self, member: User, *args: Any, **kwargs: Any) -> None:
        self.member = member
        super().__init__(*args, **kwargs)

    def clean_confirm_email(self) -> str:
        typed = normalize_email(self.cleaned_data["confirm_email"])
        if typed != self.member.email:
            raise forms.ValidationError("The address does not match.")
        return typed


class AcceptInvitationForm(SetPasswordMixin, forms.Form):
    name = forms.CharField(max_length=150, required=False)
    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        self.validate_passwords()
        self.validate_password_for_user(User(email=self.email, name=self.cleaned_data.get("name", "")))
        return cleaned
