"""Email + password authentication (the identity table is global: one account per address)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User, normalize_email

CONTROLS: dict[str, str] = {
    "USR-1": "accounts are looked up by their normalized email address, which is unique across all tenants",
}


class EmailBackend(ModelBackend):
    """ModelBackend keyed on the normalized email (it also runs the hasher for unknown addresses, against timing probes)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        email = kwargs.get("email", username)
        if email is None or password is None:
            return None
        user = super().authenticate(request, username=normalize_email(str(email)), password=password)
        return user if isinstance(user, User) else None
