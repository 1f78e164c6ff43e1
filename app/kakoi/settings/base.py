"""Settings shared by every environment: the hardened defaults.

local.py, test.py and production.py start from here; production.py only adds
what must come from the environment (and refuses to start without it). Every
weakening for local development is in local.py, nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from kakoi import contract
from kakoi.settings import env

CONTROLS: dict[str, str] = {
    "SES-1": "Django's database sessions: 32-character keys from a CSPRNG",
    "SES-2": "the session ID travels only in the __Host-sessionid cookie (no URL sessions exist in Django)",
    "SES-3": "session and CSRF cookies are Secure, __Host- prefixed (Path=/, no Domain)",
    "SES-4": "LoginRequiredMiddleware: every view needs a session unless marked login_not_required",
    "XSS-1": "Django templates with autoescape; Content-Security-Policy default-src 'self' via ContentSecurityPolicyMiddleware",
    "XSS-3": "DEFAULT_CHARSET utf-8: every text response declares its charset",
    "XSS-4": "session and CSRF cookies are HttpOnly",
    "CSRF-1": "CsrfViewMiddleware on every unsafe method; state-changing views accept only POST",
    "CSRF-2": "Origin/Referer checked against the request host behind the load balancer (SECURE_PROXY_SSL_HEADER, CSRF_TRUSTED_ORIGINS)",
    "CJ-1": "X-Frame-Options DENY and CSP frame-ancestors 'none'",
    "CJ-2": "login required by default; idle and absolute session timeouts",
    "PWD-1": "Argon2 first in PASSWORD_HASHERS; password validators on",
    "HDR-1": "HSTS, nosniff, Referrer-Policy, COOP and CSP are set by Django's middleware, not by hand",
    "BOF-1": "pure-Python web stack on CPython; no ctypes or native code of our own",
    "SQL-1": "all data access through the Django ORM; the few SQL statements (tenant setting, health, role DDL) are literals with bound parameters",
    "CMD-2": "work that could tempt a shell goes through vetted libraries: boto3 (S3, SES, Secrets Manager), psycopg, pyotp, argon2-cffi, "
    "polib (the translation catalogues, instead of gettext's msgfmt)",
    "PATH-2": "no view reads server files: static assets are collected at build time and served by whitenoise from STATIC_ROOT only",
}

APP_DIR = Path(__file__).resolve().parents[2]

DEBUG = False
ALLOWED_HOSTS: list[str] = env.get_list(contract.Env.DJANGO_ALLOWED_HOSTS)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "core",
    "tenancy",
    "accounts",
    "storage",
    "media",
    "calls",
]

MIDDLEWARE = [
    "core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenancy.middleware.TenantTransactionMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    # After the session timeout (a session it ends is anonymous) and the tenant (the company's defaults are
    # tenant rows): the language and time zone of the user, else Accept-Language, else the company's.
    "accounts.middleware.UserLocaleMiddleware",
    "accounts.middleware.ThrottledMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kakoi.urls"
WSGI_APPLICATION = "kakoi.wsgi.application"
# HTTP and WebSocket (live-call signalling under /ws/) from one ASGI app: kakoi/asgi.py.
ASGI_APPLICATION = "kakoi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [APP_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "autoescape": True,
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------------------------
# The web process connects as kakoi_web (DML only, subject to RLS); migrations run as
# kakoi_owner in a separate task (manage.py provision_db). See docs/database-roles.md.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": env.get(contract.Env.DATABASE_HOST, "127.0.0.1"),
        "PORT": env.get_int(contract.Env.DATABASE_PORT, contract.DB_PORT),
        "NAME": env.get(contract.Env.DATABASE_NAME, contract.DB_NAME),
        "USER": env.get(contract.Env.DATABASE_USER, contract.DB_WEB_ROLE),
        "PASSWORD": env.get(contract.Env.DATABASE_PASSWORD),
        # The tenant middleware wraps the whole request in one transaction (ATOMIC_REQUESTS wraps only the view).
        "ATOMIC_REQUESTS": False,
        # Failover (AVL-1; reasons in docs/database-failover.md): a connection lives at most a minute and is
        # checked before its first use in each request, so none outlives a DNS move to the new primary by more
        # than one failed check; connecting, a dead peer, a runaway statement and a lock wait all fail within
        # seconds (then core.views answers 503 + Retry-After) instead of holding a worker.
        "CONN_MAX_AGE": env.get_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "sslmode": env.get(contract.Env.DATABASE_SSLMODE, "prefer"),
            "application_name": "kakoi",
            "connect_timeout": env.get_int("DATABASE_CONNECT_TIMEOUT", 3),
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 15000,
            "options": (
                "-c search_path=kakoi"
                f" -c statement_timeout={env.get_int('DATABASE_STATEMENT_TIMEOUT_MS', 15000)}"
                f" -c lock_timeout={env.get_int('DATABASE_LOCK_TIMEOUT_MS', 5000)}"
                f" -c idle_in_transaction_session_timeout={env.get_int('DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60000)}"
            ),
        },
    }
}
if env.get(contract.Env.DATABASE_SSLROOTCERT):
    DATABASES["default"]["OPTIONS"]["sslrootcert"] = env.get(contract.Env.DATABASE_SSLROOTCERT)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Master credentials and role secrets: only the migration task has them (ensure_db_roles).
KAKOI_DB_MASTER_USER = env.get(contract.Env.DATABASE_MASTER_USER)
KAKOI_DB_MASTER_PASSWORD = env.get(contract.Env.DATABASE_MASTER_PASSWORD)
KAKOI_DB_OWNER_SECRET_ARN = env.get(contract.Env.DB_OWNER_SECRET_ARN)
KAKOI_DB_WEB_SECRET_ARN = env.get(contract.Env.DB_WEB_SECRET_ARN)

# --- authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- sessions and cookies (SES-1..4, XSS-4) -----------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "__Host-sessionid"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = None
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
KAKOI_SESSION_IDLE_SECONDS = env.get_int("KAKOI_SESSION_IDLE_SECONDS", 30 * 60)
KAKOI_SESSION_ABSOLUTE_SECONDS = env.get_int("KAKOI_SESSION_ABSOLUTE_SECONDS", 8 * 60 * 60)
# Idle timeout on the server side too: every request pushes the expiry forward by the idle time.
SESSION_COOKIE_AGE = KAKOI_SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True

CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_PATH = "/"
CSRF_COOKIE_DOMAIN = None
CSRF_TRUSTED_ORIGINS: list[str] = env.get_list(contract.Env.DJANGO_CSRF_TRUSTED_ORIGINS)

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- transport and headers (HDR-1, CJ-1, XSS-1) ---------------------------------------------------
# The load balancer terminates TLS and sets X-Forwarded-Proto (it overwrites any value the client sent).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
}
DEFAULT_CHARSET = "utf-8"

# --- static files (collected at image build time, served by whitenoise) ------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.get(contract.Env.KAKOI_STATIC_ROOT, str(APP_DIR / "staticfiles")))
STATICFILES_DIRS = [APP_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- email (CSRF-3) ----------------------------------------------------------------------------
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env.get(contract.Env.KAKOI_EMAIL_FROM, "kakoi@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[kakoi] "

# --- AWS ----------------------------------------------------------------------------------------
AWS_REGION = env.get(contract.Env.AWS_REGION) or env.get("AWS_DEFAULT_REGION", "ap-northeast-1")
KAKOI_MEDIA_BUCKET = env.get(contract.Env.KAKOI_MEDIA_BUCKET)
KAKOI_S3_ENDPOINT_URL = env.get("KAKOI_S3_ENDPOINT_URL")

# --- recordings (media app) ---------------------------------------------------------------------
# Largest upload, in bytes: a presigned POST is a single request, which S3 accepts up to 5 GB
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html).
MEDIA_MAX_UPLOAD_BYTES = env.get_int("KAKOI_MEDIA_MAX_UPLOAD_BYTES", 1024**3)
if not 1 <= MEDIA_MAX_UPLOAD_BYTES <= 5 * 1000**3:
    raise ImproperlyConfigured(
        f"KAKOI_MEDIA_MAX_UPLOAD_BYTES must be between 1 and 5000000000 (S3's limit for one POST), got {MEDIA_MAX_UPLOAD_BYTES}."
    )
# AV-1: a recording is downloadable only once GuardDuty tagged it NO_THREATS_FOUND. Off only for local
# runs without GuardDuty (production.py refuses to start with it off).
MEDIA_REQUIRE_MALWARE_SCAN = env.get_bool("KAKOI_MEDIA_REQUIRE_MALWARE_SCAN", True)
MEDIA_UPLOAD_FORM_SECONDS = 300  # life of a presigned POST
MEDIA_DOWNLOAD_URL_SECONDS = 60  # life of a presigned GET
MEDIA_PLAYBACK_URL_SECONDS = 300  # life of the presigned GET an <audio>/<video> plays (range requests while it plays)
MEDIA_MAX_PENDING_UPLOADS = 5  # unconfirmed uploads per user at a time
# AV-1: scan results arrive as events (GuardDuty -> EventBridge -> SQS); `manage.py consume_scan_results`
# reads this queue. Only the consumer service needs it.
KAKOI_SCAN_QUEUE_URL = env.get(contract.Env.KAKOI_SCAN_QUEUE_URL)
# The reconciliation sweep (lost events): a recording still being scanned this long after its
# confirmation has its scan tag read by the consumer; then again with backoff up to an hour.
MEDIA_SCAN_SWEEP_AFTER_SECONDS = env.get_int("KAKOI_MEDIA_SCAN_SWEEP_AFTER_SECONDS", 600)
MEDIA_SCAN_SWEEP_INTERVAL_SECONDS = env.get_int("KAKOI_MEDIA_SCAN_SWEEP_INTERVAL_SECONDS", 300)

# --- live calls (calls app) --------------------------------------------------------------------
# Media go only through the TURN relay over TLS 1.3 (ENC-1): the browser gets these turns: URLs
# and nothing else (no STUN, no UDP); credentials by the TURN REST scheme with this secret.
KAKOI_TURN_URLS: list[str] = env.get_list(contract.Env.KAKOI_TURN_URLS)
for _url in KAKOI_TURN_URLS:
    if not _url.startswith("turns:") or "transport=udp" in _url:
        raise ImproperlyConfigured(f"KAKOI_TURN_URLS may hold only turns: (TURN over TLS) URLs (ENC-1), got {_url!r}.")
KAKOI_TURN_SECRET = env.get(contract.Env.KAKOI_TURN_SECRET)
KAKOI_TURN_CREDENTIAL_TTL_SECONDS = env.get_int("KAKOI_TURN_CREDENTIAL_TTL_SECONDS", 3600)
if not 60 <= KAKOI_TURN_CREDENTIAL_TTL_SECONDS <= 86400:
    raise ImproperlyConfigured(f"KAKOI_TURN_CREDENTIAL_TTL_SECONDS must be between 60 and 86400, got {KAKOI_TURN_CREDENTIAL_TTL_SECONDS}.")
# A call is a mesh (everyone sends to everyone): keep rooms small.
KAKOI_ROOM_MAX_PARTICIPANTS = env.get_int("KAKOI_ROOM_MAX_PARTICIPANTS", 6)
if not 2 <= KAKOI_ROOM_MAX_PARTICIPANTS <= 16:
    raise ImproperlyConfigured(f"KAKOI_ROOM_MAX_PARTICIPANTS must be between 2 and 16, got {KAKOI_ROOM_MAX_PARTICIPANTS}.")
# The channel layer runs on the app's PostgreSQL (no new datastore: ENC-1 holds on every hop).
CHANNEL_LAYERS = {"default": {"BACKEND": "calls.layer.PostgresChannelLayer"}}

# --- login protections --------------------------------------------------------------------------
# Proxies in front of the app that append to X-Forwarded-For (the ALB: 1).
KAKOI_TRUSTED_PROXY_COUNT = env.get_int("KAKOI_TRUSTED_PROXY_COUNT", 1)
# The emailed one-time code: valid at most 10 minutes (capped in accounts.otp), 5 tries, 3 sends, 60 s apart.
KAKOI_EMAIL_OTP_TTL_SECONDS = env.get_int("KAKOI_EMAIL_OTP_TTL_SECONDS", 600)
KAKOI_EMAIL_OTP_MAX_ATTEMPTS = 5
KAKOI_EMAIL_OTP_MAX_SENDS = 3
KAKOI_EMAIL_OTP_RESEND_INTERVAL_SECONDS = 60
KAKOI_INVITATION_TTL_SECONDS = env.get_int("KAKOI_INVITATION_TTL_SECONDS", 72 * 60 * 60)
KAKOI_EMAIL_CHANGE_TTL_SECONDS = 60 * 60
# (limit, window in seconds) per scope (accounts.throttle). Failures only, unless noted; a
# "client" is an IPv4 address or an IPv6 /64.
KAKOI_THROTTLE = {
    "login-ip": (30, 15 * 60),  # failed sign-ins per client
    "login-account": (5, 15 * 60),  # failed sign-ins per account and client
    "login-account-all": (20, 60 * 60),  # failed sign-ins per account from all clients: never refuses, mails the owner
    "otp-ip": (30, 15 * 60),  # failed codes (and code re-sends) per client
    "otp-account": (10, 15 * 60),  # failed codes per account (only after its password)
    "reauth-user": (5, 15 * 60),  # wrong current passwords per signed-in user (every re-authentication)
    "reauth-ip": (20, 15 * 60),  # wrong current passwords per client
    "email-change-user": (5, 60 * 60),  # email-change requests per user (each mails an address)
    "invite-user": (50, 60 * 60),  # invitations sent per manager
}
# After this many wrong current passwords in a window, the account's address gets a notice.
KAKOI_REAUTH_NOTICE_AFTER = 3

# --- languages and time zones (docs/i18n.md) -----------------------------------------------------
# Japanese and English. A page is in the user's saved language, else the first supported language of the
# browser's Accept-Language, else the company's default (accounts.middleware.UserLocaleMiddleware); an
# anonymous request without a usable Accept-Language gets LANGUAGE_CODE. Emails go out in the recipient's
# saved language, else the company's default (accounts.preferences). Language names are written in their
# own language, so they are not translated.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [APP_DIR / "locale"]
USE_I18N = True
# The catalogue (locale/ja/LC_MESSAGES/django.po) is compiled by `manage.py compile_translations` (polib):
# in the image build, by the test suite and by `make app`.
# Times are stored in UTC and shown in the user's time zone, else the company's (default Asia/Tokyo, the
# product's home); TIME_ZONE is the zone of requests without a user.
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True
KAKOI_DEFAULT_LANGUAGE = "ja"
KAKOI_DEFAULT_TIME_ZONE = "Asia/Tokyo"

# --- misc ---------------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get("KAKOI_LOG_LEVEL", "INFO")},
}
