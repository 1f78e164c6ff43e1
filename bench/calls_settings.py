"""Django settings for the live-call benchmark: bench/app_settings.py (production, database TLS off on
loopback) plus plain http on 127.0.0.1, so headless Chromium can open the call page without a TLS
front (there is no load balancer here). Everything else - sessions, CSRF, Origin checks, RLS, the
channel layer on PostgreSQL - runs as in production. Loopback only, throw-away database."""

# pyright: reportMissingImports=false

from __future__ import annotations

from kakoi.settings.production import ALLOWED_HOSTS

from bench.app_settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1"]
KAKOI_TRUSTED_PROXY_COUNT = 0
