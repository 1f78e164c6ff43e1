"""Which language and time zone a person gets: on a page, and in an email to them.

A page (UserLocaleMiddleware): the user's saved language, else the first supported language of
the browser's Accept-Language, else the company's default language; an anonymous request gets
Accept-Language, else settings.LANGUAGE_CODE. The time zone: the user's, else the company's
(default Asia/Tokyo); anonymous requests settings.TIME_ZONE.

An email (Recipient): the recipient's saved language, else the company's default (an email
has no Accept-Language); the invitation email: the language the inviter chose for it. Dates
in emails are written in the recipient's time zone and locale format.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import trans_real
from tenancy.models import Company

if TYPE_CHECKING:
    from accounts.models import User


def supported_language(code: str | None) -> str | None:
    """`code` if it is one of settings.LANGUAGES, else None."""
    return code if code and code in dict(settings.LANGUAGES) else None


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA time zone this Python knows (zoneinfo), sorted; the choices of the time zone fields."""
    return tuple(sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"))


def valid_time_zone(name: str | None) -> str | None:
    return name if name and name in time_zone_names() else None


def accept_language(request: HttpRequest) -> str | None:
    """The first language of the request's Accept-Language that the app speaks ("ja-JP" -> "ja"), or None.

    Django's own parser and variant matching (what LocaleMiddleware uses), without its fallback
    to LANGUAGE_CODE: the caller falls back to the company's default first.
    """
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return trans_real.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def company_defaults(company_id: object) -> tuple[str, str]:
    """(default language, default time zone) of a company (read under its tenant: the row is RLS-protected)."""
    row = Company.objects.filter(pk=company_id).values_list("default_language", "default_time_zone").first()
    language, zone = row if row else ("", "")
    return (supported_language(language) or settings.LANGUAGE_CODE, valid_time_zone(zone) or settings.TIME_ZONE)


@dataclass(frozen=True)
class Recipient:
    """Whom an email goes to, and in which language and time zone it is written."""

    email: str
    language: str
    time_zone: str

    @contextmanager
    def active(self) -> Iterator[None]:
        """Translate and format (dates) for this recipient inside the block."""
        with translation.override(self.language), timezone.override(zoneinfo.ZoneInfo(self.time_zone)):
            yield


def recipient(user: User, email: str | None = None) -> Recipient:
    """The user as an email recipient (at `email`, default the user's address): their language and time zone,
    else their company's defaults."""
    language, zone = supported_language(user.language), valid_time_zone(user.time_zone)
    if language is None or zone is None:
        company_language, company_zone = company_defaults(user.company_id)
        language, zone = language or company_language, zone or company_zone
    return Recipient(email=email or user.email, language=language, time_zone=zone)


def for_request(request: HttpRequest) -> tuple[str, str]:
    """(language, time zone) of a page for this request (see the module docstring)."""
    user = getattr(request, "user", None)
    browser = accept_language(request)
    if user is None or not user.is_authenticated:
        return (browser or settings.LANGUAGE_CODE, settings.TIME_ZONE)
    language = supported_language(getattr(user, "language", "")) or browser
    zone = valid_time_zone(getattr(user, "time_zone", ""))
    if language is None or zone is None:
        company_language, company_zone = company_defaults(user.company_id)
        language, zone = language or company_language, zone or company_zone
    return (language, zone)
