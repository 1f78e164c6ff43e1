"""The test suite: production's protections, the local PostgreSQL, locmem email, moto for AWS.

The database connection is made as kakoi_web for real; app/tests/conftest.py
creates the roles and a fresh database and migrates it as kakoi_owner first.
"""

from __future__ import annotations

import copy
import secrets

from django.contrib.auth.hashers import Argon2PasswordHasher

from kakoi.settings import base, env
from kakoi.settings.base import *  # noqa: F403


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with small costs, so the suite stays fast; production uses Django's defaults."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1


SECRET_KEY = secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["testserver", "kakoi.example"]
CSRF_TRUSTED_ORIGINS = ["https://kakoi.example"]
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["kakoi.settings.test.FastArgon2PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
DEFAULT_FROM_EMAIL = "kakoi@kakoi.example"
# Static files straight from app/static (no collectstatic outside the image).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
KAKOI_TRUSTED_PROXY_COUNT = 1
KAKOI_MEDIA_BUCKET = "kakoi-test-media"
AWS_REGION = "ap-northeast-1"
KAKOI_S3_ENDPOINT_URL = ""
KAKOI_DB_MASTER_USER = env.get("KAKOI_TEST_DB_ADMIN_USER", "postgres")
KAKOI_DB_MASTER_PASSWORD = env.get("KAKOI_TEST_DB_ADMIN_PASSWORD")
DATABASES = copy.deepcopy(base.DATABASES)
DATABASES["default"].update(
    NAME=env.get("KAKOI_TEST_DB_NAME", "kakoi_test"),
    USER="kakoi_web",
    CONN_MAX_AGE=0,
)
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
KAKOI_TURN_URLS = ["turns:127.0.0.1:5349?transport=tcp"]
KAKOI_TURN_SECRET = secrets.token_urlsafe(32)
