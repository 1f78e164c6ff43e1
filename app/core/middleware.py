"""Cross-cutting middleware: health endpoints and cache control."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from kakoi import contract

CONTROLS: dict[str, str] = {
    "HDR-1": "headers are set only through Django's response.headers / patch_cache_control API",
    "XSS-3": "health responses declare text/plain; charset=utf-8 like every other response",
}

LIVE_PATHS = frozenset({contract.HEALTH_LIVE_PATH, f"{contract.HEALTH_LIVE_PATH}/"})
READY_PATHS = frozenset({contract.HEALTH_READY_PATH, f"{contract.HEALTH_READY_PATH}/"})


def _plain(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, no_store=True)
    return response


class HealthCheckMiddleware:
    """Liveness and readiness for the load balancer, answered before anything else.

    First in MIDDLEWARE on purpose: the load balancer's health checks use plain
    HTTP with the target's IP as Host, so they must not meet the HTTPS redirect,
    the ALLOWED_HOSTS check, sessions or the tenant transaction. Liveness never
    touches the database; readiness runs `SELECT 1`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path in LIVE_PATHS or path in READY_PATHS:
            if request.method not in ("GET", "HEAD"):
                response = _plain("method not allowed", 405)
                response.headers["Allow"] = "GET, HEAD"
                return response
            if path in LIVE_PATHS:
                return _plain("ok")
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
            except DatabaseError:
                return _plain("database unavailable", 503)
            return _plain("ok")
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages show private data: browsers and proxies must not store them (static files keep their own caching)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response.headers:
            patch_cache_control(response, no_store=True, private=True)
        return response
