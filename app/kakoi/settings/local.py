"""Local development (`make app`): the local PostgreSQL, a moto server for S3, console email.

The only weakenings of base.py, all for plain-HTTP localhost: no HTTPS redirect,
no HSTS, no proxy in front. Cookies keep Secure and the __Host- prefix
(browsers treat http://localhost as a secure context).
"""

from __future__ import annotations

import secrets

from kakoi.settings import env
from kakoi.settings.base import *  # noqa: F403

DEBUG = env.get_bool("DJANGO_DEBUG", True)
SECRET_KEY = env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
KAKOI_TRUSTED_PROXY_COUNT = 0
KAKOI_MEDIA_BUCKET = env.get("KAKOI_MEDIA_BUCKET", "kakoi-local-media")
# moto has no GuardDuty: recordings are downloadable once confirmed, unless the environment asks for the scan.
MEDIA_REQUIRE_MALWARE_SCAN = env.get_bool("KAKOI_MEDIA_REQUIRE_MALWARE_SCAN", False)
# Static files straight from app/static (no collectstatic outside the image).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
