"""Idle and absolute session timeouts, and expiry of an unfinished login."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from tenancy.middleware import PENDING_LOGIN_SESSION_KEY

from accounts.otp import MAX_TTL_SECONDS
from accounts.sessions import AUTH_AT_KEY, SEEN_AT_KEY, end_current_session

CONTROLS: dict[str, str] = {
    "CJ-2": "a session idle longer than KAKOI_SESSION_IDLE_SECONDS or older than KAKOI_SESSION_ABSOLUTE_SECONDS is ended",
    "SES-1": "an unfinished login (password checked, second factor pending) expires after 10 minutes",
}


class SessionTimeoutMiddleware:
    """After the tenant middleware (ending a session deletes its tenant-scoped tracking row)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = int(time.time())
        session = request.session
        if request.user.is_authenticated:
            auth_at = session.get(AUTH_AT_KEY)
            seen_at = session.get(SEEN_AT_KEY)
            too_old = not isinstance(auth_at, int) or now - auth_at > settings.KAKOI_SESSION_ABSOLUTE_SECONDS
            too_idle = not isinstance(seen_at, int) or now - seen_at > settings.KAKOI_SESSION_IDLE_SECONDS
            if too_old or too_idle:
                end_current_session(request)
            else:
                session[SEEN_AT_KEY] = now
        pending = session.get(PENDING_LOGIN_SESSION_KEY)
        if isinstance(pending, dict) and now - int(pending.get("started", 0)) > MAX_TTL_SECONDS:
            del session[PENDING_LOGIN_SESSION_KEY]
        return self.get_response(request)
