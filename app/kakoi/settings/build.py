"""Image build only: `collectstatic` into STATIC_ROOT with the production storage (hashed,
compressed files for whitenoise). Needs no secret and no database; never used at run time."""

from __future__ import annotations

import secrets

from kakoi.settings.base import *  # noqa: F403

SECRET_KEY = secrets.token_urlsafe(50)  # thrown away with the build step
