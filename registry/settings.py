"""Restu settings, read from the environment only (see README, "Configuration").

With no variables set this is the embedded default: SQLite and a file-system Celery broker in
``REGISTRY_DATA_DIR``. In production every secret must come from the environment; a missing one
stops start-up with a clear message instead of falling back to a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from registry.env import envbool, envchoice, envint, envlist, envstr, required

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)

DATA_DIR = Path(envstr("REGISTRY_DATA_DIR", str(BASE_DIR / "var")) or "var").resolve()


def _debug_secret_key() -> str:
    # Only with DEBUG on: a per-checkout random key kept in the data folder, so sessions
    # survive restarts of `make run` without anyone committing a key.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = envstr("SECRET_KEY") or (
    _debug_secret_key()
    if DEBUG
    else required("SECRET_KEY", None, "Set it to a long random string (DEBUG is off, so there is no default).")
)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    required("ALLOWED_HOSTS", None, "List the host names this server answers to, comma-separated.")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "csp",
    "registry.apps.RegistryConfig",
    "registry.accounts",
    "registry.api",
    "registry.transparency",
    "registry.witness",
    "registry.events",
    "guidelines",
    "consent",
    "provenance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "registry.api.middleware.ProblemsUnderApiMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "registry.api.middleware.BodySizeLimitMiddleware",
    "registry.api.middleware.JsonDepthLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"
ASGI_APPLICATION = "registry.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
_database_url = envstr("DATABASE_URL")
_SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock when a transaction begins, so two writers queue on the
    # busy timeout instead of failing mid-transaction with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
# The hot path's fixed queries are prepared once per database session (registry/lib/prepared.py).
# Off behind a connection pooler in transaction mode, which moves transactions between sessions.
DATABASE_PREPARED_STATEMENTS = envbool("DATABASE_PREPARED_STATEMENTS", True)
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        # An unreachable database host must fail a request in seconds (a 503), not hang a worker.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
        if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
            # Django's, with a health check that needs no round trip on an idle connection.
            DATABASES["default"]["ENGINE"] = "registry.db.postgresql"
        if DATABASE_PREPARED_STATEMENTS:
            # Only our prepared statements are affected (Django prepares none), and the statements of the
            # PL/pgSQL functions (the log append, by primary key; the frozen-row trigger, which reads no
            # table): planned once, not per call; the planner re-planned the verification read every time.
            DATABASES["default"]["OPTIONS"].setdefault("options", "-c plan_cache_mode=force_generic_plan")
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "restu.sqlite3"),
            "OPTIONS": dict(_SQLITE_OPTIONS),
            # A file (not memory) so a worker process can share it; one per test run.
            "TEST": {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache (throttle counters, rate limits): shared by every process --------------------------
_cache_url = envstr("CACHE_URL")
if _cache_url:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "restu_cache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or "filesystem://"
BROKER_IS_EMBEDDED = CELERY_BROKER_URL.startswith("filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {
        "data_folder_in": str(DATA_DIR / "broker" / "queue"),
        "data_folder_out": str(DATA_DIR / "broker" / "queue"),
        "control_folder": str(DATA_DIR / "broker" / "control"),
        "processed_folder": str(DATA_DIR / "broker" / "processed"),
        "store_processed": False,
    }
    if BROKER_IS_EMBEDDED
    else {"visibility_timeout": 3600}
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-keys": {"task": "registry.api.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "purge-throttle-counters": {"task": "registry.api.tasks.purge_throttle_counters", "schedule": 600.0},
    "expire-consents": {"task": "consent.tasks.expire_consents", "schedule": 3600.0},
    "purge-checks-naming-nobody": {"task": "consent.tasks.purge_checks_naming_nobody", "schedule": 3600.0},
    # The access log's months ahead (PostgreSQL) and its retention, if one is set.
    "access-log-maintain": {"task": "consent.tasks.access_log_maintain", "schedule": 3600.0},
    "sweep-provenance-uploads": {"task": "provenance.tasks.sweep_uploads", "schedule": 3600.0},
    "events-sweep": {"task": "registry.events.tasks.sweep", "schedule": float(envint("REGISTRY_EVENTS_SWEEP", 15))},
    "publish-checkpoint": {
        "task": "registry.transparency.tasks.publish_checkpoint",
        "schedule": float(envint("REGISTRY_CHECKPOINT_INTERVAL", 10)),
    },
}

# --- Accounts (django-allauth) ----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = envchoice(
    "REGISTRY_EMAIL_VERIFICATION", ("mandatory", "optional", "none"), "optional" if DEBUG else "mandatory"
)
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Restu"
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app", "browser")
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email ------------------------------------------------------------------------------------
EMAIL_HOST = envstr("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", 587)
    EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "") or ""
    EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "") or ""
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Restu <noreply@localhost>")

# --- Client addresses ---------------------------------------------------------------------------
# How many reverse proxies of ours stand in front of the app. X-Forwarded-For is believed only
# that far: with 0 (the default) the header is ignored and the connection's address is the
# client; with 1 the last address in it (the one our proxy appended) is. Anything a client
# writes in the header itself is never trusted, so it cannot escape per-address limits.
REGISTRY_TRUSTED_PROXIES = envint("REGISTRY_TRUSTED_PROXIES", 0)
if REGISTRY_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        f"REGISTRY_TRUSTED_PROXIES must be 0 or more (the number of proxies in front of the app); "
        f"got {REGISTRY_TRUSTED_PROXIES}."
    )
# allauth's rate limits (login, sign-up, password reset) read the same count.
ALLAUTH_TRUSTED_PROXY_COUNT = REGISTRY_TRUSTED_PROXIES

# --- API ----------------------------------------------------------------------------------------
_THROTTLE_RATES: dict[str, str | None] = {
    "anon": envstr("THROTTLE_ANON", "60/min"),
    "user": envstr("THROTTLE_USER", "600/min"),
    "api_key": envstr("THROTTLE_API_KEY", "6000/min"),
    "verify": envstr("THROTTLE_VERIFY", "6000/min"),
    # Auditors download the whole log: reading it is public and cheap, so its limit is higher.
    "log_read": envstr("THROTTLE_LOG_READ", "3000/min"),
    "verify_bulk": envstr("THROTTLE_VERIFY_BULK", "120/min"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.api.authentication.ApiKeyAuthentication",
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing bodies nested more than 64 levels (400) before it decodes them.
    "DEFAULT_PARSER_CLASSES": ["registry.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "registry.api.throttling.AnonThrottle",
        "registry.api.throttling.UserThrottle",
        "registry.api.throttling.ApiKeyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": _THROTTLE_RATES,
    "EXCEPTION_HANDLER": "registry.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles identify anonymous callers by address; see REGISTRY_TRUSTED_PROXIES.
    "NUM_PROXIES": REGISTRY_TRUSTED_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_MAX_BODY_BYTES = 1024 * 1024
# A page form with a CSV upload (1 MiB at most) and its fields.
PAGE_MAX_BODY_BYTES = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600
# Longer than any request may run (gunicorn kills a worker after 30 s): an older claim was abandoned.
IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS = 120
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60

# --- Provenance: "check a file" (C2PA) -------------------------------------------------------------
# A PEM file of the root certificates whose C2PA signers count as trusted; empty: c2pa-rs's own list.
REGISTRY_C2PA_TRUST_ANCHORS = envstr("REGISTRY_C2PA_TRUST_ANCHORS", "") or ""
REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES = envint("REGISTRY_PROVENANCE_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)
# Files above this are checked by a worker (202 + status URL); measured with bench/provenance.py.
REGISTRY_PROVENANCE_ASYNC_BYTES = envint("REGISTRY_PROVENANCE_ASYNC_BYTES", 8 * 1024 * 1024)
# Where uploads are streamed while checked (deleted after); web and worker must share it.
REGISTRY_PROVENANCE_TEMP_DIR = envstr("REGISTRY_PROVENANCE_TEMP_DIR", str(DATA_DIR / "provenance-uploads"))
# Anyone may check a file; each check costs a parse of up to 100 MiB, so the rate is strict.
_THROTTLE_RATES["provenance_check"] = envstr("THROTTLE_PROVENANCE_CHECK", "10/min")

SPECTACULAR_SETTINGS = {
    "TITLE": "Restu API",
    "DESCRIPTION": (
        "An open registry for the ethics of synthetic media: consent records, usage guidelines, "
        "attestations, verification with signed receipts and a public transparency log."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # One name for the assurance levels, whether asked for (min_assurance) or answered (assurance).
    "ENUM_NAME_OVERRIDES": {"AssuranceLevelEnum": "consent.rules.decision.ASSURANCE_ORDER"},
    # Declares the problem documents every operation can answer (registry/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "registry.api.schema.declare_problem_responses",
    ],
}

# --- Registry keys ------------------------------------------------------------------------------
REGISTRY_SIGNING_KEY_FILE = Path(envstr("REGISTRY_SIGNING_KEY_FILE") or DATA_DIR / "signing-keys.json")
REGISTRY_SIGNING_KEY_GENERATE = not envstr("REGISTRY_SIGNING_KEY_FILE")
REGISTRY_LOG_ORIGIN = envstr("REGISTRY_LOG_ORIGIN", "restu.example/log") or "restu.example/log"
REGISTRY_ISSUER = envstr("REGISTRY_ISSUER", "https://restu.example") or "https://restu.example"
# A checkpoint is signed at most this many seconds after an append, and swept every interval.
REGISTRY_CHECKPOINT_DELAY = envint("REGISTRY_CHECKPOINT_DELAY", 2)
REGISTRY_CHECKPOINT_INTERVAL = envint("REGISTRY_CHECKPOINT_INTERVAL", 10)

# --- Witnessing (docs/witnessing.md) -- begin ---------------------------------------------------
# A Sigsum-style policy file with C2SP vkeys: the witnesses to submit checkpoints to, and the
# quorum a checkpoint needs before it is served. No file: no witnessing (the log works as before).
REGISTRY_WITNESS_POLICY = envstr("REGISTRY_WITNESS_POLICY") or None
# The logs this registry witnesses: a file, one log vkey (type 0x01, named by its origin) a line.
REGISTRY_WITNESSED_LOGS = envstr("REGISTRY_WITNESSED_LOGS") or None
# The key name of this registry's witness cosigning key (default: the log origin + "/witness").
REGISTRY_WITNESS_NAME = envstr("REGISTRY_WITNESS_NAME") or f"{REGISTRY_LOG_ORIGIN}/witness"
REGISTRY_WITNESS_TIMEOUT = envint("REGISTRY_WITNESS_TIMEOUT", 10)  # seconds per submission
REGISTRY_WITNESS_MIN_INTERVAL = envint("REGISTRY_WITNESS_MIN_INTERVAL", 1)  # per witness, seconds
REGISTRY_WITNESS_BACKOFF_MAX = envint("REGISTRY_WITNESS_BACKOFF_MAX", 600)  # seconds
# /health reports an alert when the newest checkpoint has waited this long for its quorum.
REGISTRY_WITNESS_ALERT_AFTER = envint("REGISTRY_WITNESS_ALERT_AFTER", 300)
# A returned cosignature dated more than this far in the future is refused.
REGISTRY_WITNESS_MAX_CLOCK_SKEW = envint("REGISTRY_WITNESS_MAX_CLOCK_SKEW", 600)
# --- Witnessing -- end ------------------------------------------------------------------------------

# --- Outbound HTTP (webhooks, proof files): never to private addresses unless allowed -----------
# Networks that may be contacted although private (CIDRs, comma-separated); none by default.
REGISTRY_OUTBOUND_ALLOWED_NETWORKS = envlist("REGISTRY_OUTBOUND_ALLOWED_NETWORKS", [])
REGISTRY_OUTBOUND_ALLOW_HTTP = envbool("REGISTRY_OUTBOUND_ALLOW_HTTP", DEBUG)
# Dotted path of the callable (url) -> bytes that fetches a published proof-of-control token.
REGISTRY_PROOF_FETCHER = "guidelines.fetch.fetch_url"
REGISTRY_WEBHOOK_TIMEOUT = envint("REGISTRY_WEBHOOK_TIMEOUT", 10)
# A worker holds a delivery this long; if it dies mid-delivery, the sweep re-sends after it.
REGISTRY_WEBHOOK_LEASE_SECONDS = envint("REGISTRY_WEBHOOK_LEASE_SECONDS", 60)
# Checks that named no person are logged (equal work for hidden and made-up ids) and kept this long.
REGISTRY_UNNAMED_CHECK_RETENTION_DAYS = envint("REGISTRY_UNNAMED_CHECK_RETENTION_DAYS", 30)
# Months of checks the access log ("who checked me") keeps: 0 keeps every check (the default: a
# person is promised every check that named them, and a revocation reaches everyone who relied on
# the consent); otherwise at least 13, as a dispute reaches everyone who relied on the person in the
# last year. Refused at start-up when out of range, rather than at the first clean-up.
REGISTRY_ACCESS_LOG_RETENTION_MONTHS = envint("REGISTRY_ACCESS_LOG_RETENTION_MONTHS", 0)
if REGISTRY_ACCESS_LOG_RETENTION_MONTHS < 0 or 0 < REGISTRY_ACCESS_LOG_RETENTION_MONTHS < 13:
    raise ImproperlyConfigured("REGISTRY_ACCESS_LOG_RETENTION_MONTHS must be 0 (keep every check) or at least 13.")

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("id", "Bahasa Indonesia")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "registry.views.csrf_failure"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
