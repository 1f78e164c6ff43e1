"""Settings for the app processes of the fault tests (test_faults_*.py): kakoi.settings.production, with
the two things loopback needs changed: the private PostgreSQL has no TLS (sslmode=disable instead of
verify-full) and static files come from app/static (no collectstatic). Everything else - DEBUG off,
handler500, the database's failover settings, sessions, CSRF, the tenant transaction, RLS - is production's.
"""

# pyright: reportMissingImports=false

from __future__ import annotations

from kakoi.settings.production import *  # noqa: F403
from kakoi.settings.production import DATABASES

DATABASES["default"]["OPTIONS"]["sslmode"] = "disable"
DATABASES["default"]["OPTIONS"].pop("sslrootcert", None)
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
