"""Tracking and ending a user's sessions.

Every completed login records (user, session key) in UserSession; ending a
user's sessions deletes their rows from django_session, so the cookies those
browsers hold stop working at once.
"""

from __future__ import annotations

import time

from django.contrib.auth import login, logout
from django.contrib.sessions.models import Session
from django.http import HttpRequest

from accounts.models import User, UserSession

CONTROLS: dict[str, str] = {
    "SES-1": "the session key changes when login completes (login() cycles it) and again on a password change",
    "CJ-2": "sessions carry their login time (absolute timeout) and last activity (idle timeout)",
    "USR-2": "all sessions of a deleted user are deleted",
    "PWD-1": "a password change ends every other session of the user",
}

AUTH_AT_KEY = "_kakoi_auth_at"
#: set when the login passed a second factor; a manager's session without it is ended (promotion)
SECOND_FACTOR_KEY = "_kakoi_second_factor"
SEEN_AT_KEY = "_kakoi_seen_at"
BACKEND = "accounts.backends.EmailBackend"


def complete_login(request: HttpRequest, user: User, *, second_factor: bool) -> None:
    """Log the user in (new session key), stamp the session (and whether a second factor was passed) and track it."""
    login(request, user, backend=BACKEND)
    now = int(time.time())
    request.session[AUTH_AT_KEY] = now
    request.session[SEEN_AT_KEY] = now
    request.session[SECOND_FACTOR_KEY] = bool(second_factor)
    key = request.session.session_key
    if key:
        UserSession.objects.get_or_create(company_id=user.company_id, user=user, session_key=key)


def track_rotated_key(user: User, old_key: str | None, new_key: str | None) -> None:
    """The current session got a new key (update_session_auth_hash): follow it."""
    if old_key:
        UserSession.objects.filter(user=user, session_key=old_key).delete()
    if new_key:
        UserSession.objects.get_or_create(company_id=user.company_id, user=user, session_key=new_key)


def end_user_sessions(user: User, *, except_key: str | None = None) -> int:
    """Delete every session of the user except `except_key`; returns how many were ended."""
    tracked = UserSession.objects.filter(user=user)
    if except_key:
        tracked = tracked.exclude(session_key=except_key)
    keys = list(tracked.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    tracked.delete()
    return len(keys)


def end_current_session(request: HttpRequest) -> None:
    """Log out: forget the tracking row and flush the session (new empty session, new key)."""
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key).delete()
    logout(request)
