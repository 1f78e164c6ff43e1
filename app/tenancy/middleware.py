"""One transaction per request, with the tenant set inside it.

Django's ATOMIC_REQUESTS wraps only the view, so middleware and the session
would run outside it and the tenant setting (transaction-local) would be lost.
This middleware opens transaction.atomic() around everything after it, sets the
tenant first thing inside, and rolls back when the view raised or answered 5xx.

Where the tenant comes from:
- an authenticated user: their company (the user table is an identity table,
  read before the tenant is known, so it is not tenant-scoped);
- a login in progress (password checked, second factor pending): the tenant
  stored server-side in the session by the login view;
- otherwise none: tenant-owned tables show no rows. Views that establish a
  tenant cryptographically (the login view after the password check, the
  invitation view after verifying the signed token) set it themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from tenancy.db import set_current_tenant

CONTROLS: dict[str, str] = {
    "ISO-1": "every request runs in one transaction whose tenant (app.tenant_id) is set before any view code",
    "AUTHZ-2": "the tenant is derived from the authenticated user (or the server-side pending-login state), never from request parameters",
}

PENDING_LOGIN_SESSION_KEY = "_kakoi_pending_login"


def resolve_tenant(request: HttpRequest) -> uuid.UUID | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return getattr(user, "company_id", None)
    session = getattr(request, "session", None)
    if session is not None:
        pending = session.get(PENDING_LOGIN_SESSION_KEY)
        if isinstance(pending, dict) and pending.get("tenant"):
            try:
                return uuid.UUID(str(pending["tenant"]))
            except ValueError:
                return None
    return None


class TenantTransactionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            tenant_id = resolve_tenant(request)
            request.tenant_id = tenant_id  # type: ignore[attr-defined]
            set_current_tenant(tenant_id)
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif len(connection.atomic_blocks) > 1 and not connection.needs_rollback:
                # Nested in an outer transaction (the test suite's): leave no tenant behind.
                set_current_tenant(None)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """The view raised: whatever it wrote is rolled back (the handler turns the exception into a response)."""
        if connection.in_atomic_block:
            transaction.set_rollback(True)
