"""Helpers shared by the account views: the tenant of the request, role checks, throttled answers."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext

from accounts.models import User

CONTROLS: dict[str, str] = {
    "AUTHZ-2": "other users are reached only through tenant_users(request) (filtered by the request's tenant); "
    "a missing ID and another tenant's ID both raise the same Http404",
}


def current_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def tenant_of(request: HttpRequest) -> uuid.UUID:
    tenant_id = getattr(request, "tenant_id", None)
    if tenant_id is None:
        raise PermissionDenied
    return cast(uuid.UUID, tenant_id)


def tenant_users(request: HttpRequest) -> QuerySet[User]:
    return User.objects.filter(company_id=tenant_of(request))


def get_tenant_user_or_404(request: HttpRequest, user_id: uuid.UUID) -> User:
    return get_object_or_404(tenant_users(request), pk=user_id)


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Managers only (checked before any lookup, so a member learns nothing about IDs)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not current_user(request).is_manager:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def throttled(request: HttpRequest, retry_after: int | None = None) -> HttpResponse:
    """429 with Retry-After (the seconds until the exceeded window ends; else the longest window)."""
    if retry_after is None:
        retry_after = max(window for _, window in settings.KAKOI_THROTTLE.values())
    if request.content_type == "application/json" or request.headers.get("Accept", "").startswith("application/json"):
        response: HttpResponse = JsonResponse({"error": gettext("Too many attempts. Try again later.")}, status=429)
    else:
        response = render(request, "accounts/throttled.html", {"retry_after": retry_after}, status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response
