"""Idle and absolute session timeouts, expiry of an unfinished login, the second factor of managers, throttled answers."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation
from tenancy.middleware import PENDING_LOGIN_SESSION_KEY

from accounts import preferences
from accounts.otp import MAX_TTL_SECONDS
from accounts.sessions import AUTH_AT_KEY, SECOND_FACTOR_KEY, SEEN_AT_KEY, end_current_session
from accounts.throttle import ThrottledError

CONTROLS: dict[str, str] = {
    "CJ-2": "a session idle longer than KAKOI_SESSION_IDLE_SECONDS or older than KAKOI_SESSION_ABSOLUTE_SECONDS is ended",
    "SES-1": "an unfinished login (password checked, second factor pending) expires after 10 minutes",
    "AUTHZ-1": "a manager's session that did not pass a second factor (a member promoted while signed in) is ended: "
    "the next sign-in asks for the second factor",
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
            # A member promoted to manager keeps a session that never passed the second factor: end it.
            unverified_manager = getattr(request.user, "is_manager", False) and session.get(SECOND_FACTOR_KEY) is not True
            if too_old or too_idle or unverified_manager:
                end_current_session(request)  # anonymous from here: LoginRequiredMiddleware sends them to sign in
            else:
                session[SEEN_AT_KEY] = now
        pending = session.get(PENDING_LOGIN_SESSION_KEY)
        if isinstance(pending, dict) and now - int(pending.get("started", 0)) > MAX_TTL_SECONDS:
            del session[PENDING_LOGIN_SESSION_KEY]
        return self.get_response(request)


class ThrottledMiddleware:
    """Answers accounts.throttle.ThrottledError, raised by any view or form, with 429 and Retry-After.

    Inside the tenant middleware: the response is a 4xx, so the transaction commits and the
    failures counted so far stay counted.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ThrottledError):
            from accounts.views.common import throttled

            return throttled(request, exception.retry_after)
        return None


class UserLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware with the user's saved language first and the company's default after the
    browser's; and the user's (else the company's) time zone for dates and times.

    The response side is LocaleMiddleware's: Content-Language and Vary: Accept-Language. No language
    prefix in URLs and no language cookie: the preference lives on the user (the account page's switch).
    """

    def process_request(self, request: HttpRequest) -> None:
        language, zone = preferences.for_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        timezone.activate(zoneinfo.ZoneInfo(zone))

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().process_response(request, response)
        timezone.deactivate()
        return response
