"""Django settings for the app benchmark: kakoi.settings.production, unchanged but for one thing.

bench/app.py provides the environment production requires (secret key, hosts, the web role's
credentials, bucket, region, sender) and the load generator sends the headers the load balancer
would (X-Forwarded-Proto: https, X-Forwarded-For), so HTTPS redirects, secure cookies, CSRF,
host checks, sessions, the tenant transaction and RLS all run as in production.

The one deviation: the local PostgreSQL on 127.0.0.1 has no TLS, so the database connection is
`sslmode=disable` here instead of production's `verify-full` (production.py refuses anything
else, so it is set after importing it; DATABASE_SSLROOTCERT only has to name a path for that
import). Loopback only, in a throw-away benchmark database.
"""

# app/ is put on sys.path at run time (below / by bench/app.py), not in pyright's search path.
# pyright: reportMissingImports=false

from __future__ import annotations

from kakoi.settings.production import *  # noqa: F403
from kakoi.settings.production import DATABASES

DATABASES["default"]["OPTIONS"]["sslmode"] = "disable"
DATABASES["default"]["OPTIONS"].pop("sslrootcert", None)
