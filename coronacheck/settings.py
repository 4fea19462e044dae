"""Settings of the signing service, read from the environment (settings.md).

Embedded defaults run the service on SQLite; `DATABASE_URL` selects PostgreSQL. Development
mode is `DEBUG`: `manage.py` defaults it to true (a fresh clone's `migrate`, `runserver`,
`createsuperuser` just work), the ASGI application to false. Only in development mode are
unset secrets and downstream URLs defaulted, to generated ones in `.dev/`
(`common.devdefaults`); production deployments set `DEBUG=false` and every secret explicitly.
Start-up validation is in `coronacheck.config_checks` (settings.md §2).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from common.devdefaults import apply_development_defaults
from common.envtools import secret_path
from coronacheck.configuration import read

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Django core -------------------------------------------------------------------------------
DEBUG = read("DEBUG", default=False)
# Unset secrets and downstream URLs get generated development values, in development mode only.
DEVELOPMENT_DEFAULTS = apply_development_defaults(BASE_DIR / ".dev") if DEBUG else []
SECRET_KEY = read("SECRET_KEY")
ALLOWED_HOSTS = read("ALLOWED_HOSTS")
# True only in the test settings module; mock modes need it or DEBUG (settings.md §2).
TEST_SETTINGS = False

INSTALLED_APPS = [
    # Static files are served by servestatic's middleware, under runserver too.
    "servestatic.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs UIs' assets, served locally (no CDN)
    "simple_history",
    "events",
    "signing",
    "api",
    "coronacheck",
    "devtools",
    "axes",
]

MIDDLEWARE = [
    "api.middleware.ApiMiddleware",
    "api.ratelimit.RateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "coronacheck.staff.StaffContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]
APPEND_SLASH = False

ROOT_URLCONF = "coronacheck.urls"
ASGI_APPLICATION = "coronacheck.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = read("DATABASE_URL")
# Every database setting is read whichever database is used (a typo fails either way).
SQLITE_PATH = read("SQLITE_PATH")
DATABASE_POOL = {
    "min_size": read("DATABASE_POOL_MIN_SIZE"),
    "max_size": read("DATABASE_POOL_MAX_SIZE"),
    "timeout": read("DATABASE_POOL_TIMEOUT"),
}
# The pool of psycopg async connections of the hot path's write (common.db.run_statement).
DATABASE_ASYNC_POOL_MAX_SIZE = read("DATABASE_ASYNC_POOL_MAX_SIZE")
DATABASE_CONNECT_TIMEOUT = read("DATABASE_CONNECT_TIMEOUT")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db.setdefault("OPTIONS", {})
        _db["OPTIONS"]["pool"] = dict(DATABASE_POOL)
        _db["OPTIONS"].setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    DATABASES = {"default": _db}
else:
    try:  # a fresh clone has no .dev/ yet
        Path(SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # reported by the first query, with the path
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH, "OPTIONS": {"timeout": 20}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Static files (the admin's CSS and JavaScript, the API docs UI) ------------------------------
# servestatic serves them from the ASGI application itself (ServeStaticMiddleware). In production
# (`STATIC_MANIFEST`, on unless DEBUG) `manage.py collectstatic` copies them to STATIC_ROOT with
# content hashes in their names (cached for a year) and gzip copies; without the manifest
# (development, tests) they are served straight from the apps' folders, no collectstatic needed.
STATIC_URL = "/static/"
STATIC_ROOT = read("STATIC_ROOT")
STATIC_MANIFEST = read("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
SERVESTATIC_USE_FINDERS = not STATIC_MANIFEST
SERVESTATIC_AUTOREFRESH = DEBUG

# --- Security headers (checked by `manage.py check --deploy`) -------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = read("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = read("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = read("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = read("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = read("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = read("SECURE_HSTS_PRELOAD", default=not DEBUG)
BEHIND_TLS_PROXY = read("BEHIND_TLS_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
DATA_UPLOAD_MAX_MEMORY_SIZE = read("REQUEST_MAX_BYTES")

# --- Staff access: login throttling, cookies, content security policy (coronacheck/staff.py) -----
# django-axes counts failed logins in the database (`AccessAttempt`), so the lock-out holds across
# worker processes and machines. Locked per client address and, separately, per username: a
# distributed guess at one account is stopped too (at the price that someone can lock a staff
# account out for STAFF_LOGIN_COOLOFF_MINUTES; staff can be unlocked with `manage.py axes_reset`).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = read("STAFF_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = read("STAFF_LOGIN_COOLOFF_MINUTES") / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "coronacheck.staff.client_ip"
# Our own log lines (coronacheck.staff) record logins without personal data; axes' own lines name
# the username and address, so they stay off, and so does its table of every successful login.
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True
CSRF_COOKIE_HTTPONLY = True  # the admin reads the token from the form, never from the cookie
# Only staff pages get the policy (the API's responses stay byte-identical): no inline scripts,
# no inline styles, nothing from elsewhere; the docs UI adds its CDN in coronacheck/urls.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        # One exception, for one style attribute of simple_history's history page
        # (`style="border-top: 0"`); style attributes with other values stay refused.
        "style-src": ["'self'", "'unsafe-hashes'", "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.CachedContentNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoronaCheck business rules signing service",
    "DESCRIPTION": (
        "Turns vaccination, test and recovery results that health providers signed into COVID "
        "certificates: a domestic green card for the CoronaCheck app and EU Digital COVID Certificates, "
        "for the app and for the print portal.\n\n"
        "Errors are JSON. Bodies the app already knows keep their historical shape (`detail` as a list); "
        'all others are `{"detail": "<text>", "code": "<stable code>"}`, with `loc` when one '
        "input value is at fault. Rely on `code`, not on the text."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags with descriptions and the security schemes: api.openapi.postprocess.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.openapi.postprocess"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- 1.1 Secrets and key material --------------------------------------------------------------
SECRETS_FOLDER = read("SECRETS_FOLDER")
DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME = secret_path(SECRETS_FOLDER, read("DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME"))
DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME = secret_path(SECRETS_FOLDER, read("DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME"))
INGE4_NACL_PRIVATE_KEY_FILE = secret_path(SECRETS_FOLDER, read("INGE4_NACL_PRIVATE_KEY_FILE"))
INGE4_NACL_PUBLIC_KEY_FILE = secret_path(SECRETS_FOLDER, read("INGE4_NACL_PUBLIC_KEY_FILE"))
INGE6_NACL_PUBLIC_KEY_FILE = secret_path(SECRETS_FOLDER, read("INGE6_NACL_PUBLIC_KEY_FILE"))
INGE6_JWT_PUBLIC_CRT_FILE = secret_path(SECRETS_FOLDER, read("INGE6_JWT_PUBLIC_CRT_FILE"))
SESSION_HMAC_KEY_FILE = secret_path(SECRETS_FOLDER, read("SESSION_HMAC_KEY_FILE"))
RVIG_CERT_FILENAME = secret_path(SECRETS_FOLDER, read("RVIG_CERT_FILENAME"))
RVIG_USERNAME = read("RVIG_USERNAME")
RVIG_PASSWORD = read("RVIG_PASSWORD")
EVENT_DATA_PROVIDERS_FILENAME = secret_path(SECRETS_FOLDER, read("EVENT_DATA_PROVIDERS_FILENAME"))
# Key for the pseudonym of the holder in submission records (this project; signing/services.py).
SUBMISSION_PSEUDONYM_KEY_FILE = secret_path(SECRETS_FOLDER, read("SUBMISSION_PSEUDONYM_KEY_FILE"))

# --- 1.2 Other systems ---------------------------------------------------------------------------
DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = read("DOMESTIC_NL_VWS_PREPARE_ISSUE_URL")
DOMESTIC_NL_VWS_ONLINE_SIGNING_URL = read("DOMESTIC_NL_VWS_ONLINE_SIGNING_URL")
DOMESTIC_NL_VWS_PAPER_SIGNING_URL = read("DOMESTIC_NL_VWS_PAPER_SIGNING_URL")
DOMESTIC_NL_KEY_IDENTIFIER = read("DOMESTIC_NL_KEY_IDENTIFIER")
DOMESTIC_NL_CREDENTIAL_VERSION = read("DOMESTIC_NL_CREDENTIAL_VERSION")
DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = secret_path(SECRETS_FOLDER, read("DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE"))
DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE = secret_path(SECRETS_FOLDER, read("DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE"))
EU_INTERNATIONAL_SIGNING_URL = read("EU_INTERNATIONAL_SIGNING_URL")
INGE6_BSN_RETRIEVAL_URL = read("INGE6_BSN_RETRIEVAL_URL")
INGE6_JWT_ISSUER = read("INGE6_JWT_ISSUER")
INGE4_JWT_AUDIENCE = read("INGE4_JWT_AUDIENCE")
RVIG_URL = read("RVIG_URL")
RVIG_HEALTH_CHECK_BSN = read("RVIG_HEALTH_CHECK_BSN")
SIGNER_CA_CERT_FILE = read("SIGNER_CA_CERT_FILE")
RVIG_CA_CERT_FILE = read("RVIG_CA_CERT_FILE")
PLAINTEXT_HTTP_HOSTS = read("PLAINTEXT_HTTP_HOSTS")
CMS_TRUST_ANCHORS_FILE = read("CMS_TRUST_ANCHORS_FILE")
IDENTITY_HASH_JWT_ISSUER_CLAIM = read("IDENTITY_HASH_JWT_ISSUER_CLAIM")
IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS = read("IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS")

# --- 1.3 HTTP client -------------------------------------------------------------------------------
HTTP_CONNECT_TIMEOUT = read("HTTP_CONNECT_TIMEOUT")
HTTP_READ_TIMEOUT = read("HTTP_READ_TIMEOUT")
DOMESTIC_NL_ISSUE_READ_TIMEOUT = read("DOMESTIC_NL_ISSUE_READ_TIMEOUT")
HTTP_POOL_TIMEOUT = read("HTTP_POOL_TIMEOUT")
HTTP_EXPONENTIAL_RETRIES = read("HTTP_EXPONENTIAL_RETRIES")
HTTP_MAX_CONNECTIONS = read("HTTP_MAX_CONNECTIONS")
HEALTH_CHECK_TIMEOUT = read("HEALTH_CHECK_TIMEOUT")
# /health answers from check results refreshed in the background this often (api/health.py);
# 0: every request runs the checks itself.
HEALTH_REFRESH_SECONDS = read("HEALTH_REFRESH_SECONDS")

# --- 1.4 Seed locations of the business rules ------------------------------------------------------
RESOURCE_FOLDER = read("RESOURCE_FOLDER")
HPK_MAPPING_FILE = read("HPK_MAPPING_FILE")
RULE_CACHE_SECONDS = read("RULE_CACHE_SECONDS")

# --- 1.5 Sessions, API, modes --------------------------------------------------------------------
EXPIRATION_TIME_IN_SECONDS = read("EXPIRATION_TIME_IN_SECONDS")
# The interactive docs (/docs Swagger UI, /redoc): on by default in development only.
API_DOCS_UI_ENABLED = read("API_DOCS_UI_ENABLED", default=DEBUG)
REQUEST_MAX_BYTES = read("REQUEST_MAX_BYTES")
REQUEST_MAX_JSON_DEPTH = read("REQUEST_MAX_JSON_DEPTH")
INGE6_MOCK_MODE = read("INGE6_MOCK_MODE")
INGE6_MOCK_MODE_BSN = read("INGE6_MOCK_MODE_BSN")
ALLOW_MOCKS = read("ALLOW_MOCKS")
SUBMISSION_RETENTION_DAYS = read("SUBMISSION_RETENTION_DAYS")
# Per-client rate limit of the public endpoints (requests per window; 0 disables).
RATE_LIMIT_REQUESTS = read("RATE_LIMIT_REQUESTS")
RATE_LIMIT_WINDOW_SECONDS = read("RATE_LIMIT_WINDOW_SECONDS")
RATE_LIMIT_TRUST_X_FORWARDED_FOR = read("RATE_LIMIT_TRUST_X_FORWARDED_FOR", default=BEHIND_TLS_PROXY)
# Bearer token of GET /metrics (Prometheus); unset: /metrics answers 404.
METRICS_TOKEN = read("METRICS_TOKEN")
# Limits of the provider registry's inputs (events/providers.py): the JSON5 file, one certificate.
PROVIDER_FILE_MAX_BYTES = read("PROVIDER_FILE_MAX_BYTES")
PROVIDER_CERTIFICATE_MAX_BYTES = read("PROVIDER_CERTIFICATE_MAX_BYTES")
# The server (`python -m coronacheck.server`): time to send a request's head and its body (408 and
# the connection closed after), idle time of a kept-alive connection, and the bound on finishing
# requests in flight after SIGTERM.
REQUEST_HEADER_TIMEOUT_SECONDS = read("REQUEST_HEADER_TIMEOUT_SECONDS")
REQUEST_BODY_TIMEOUT_SECONDS = read("REQUEST_BODY_TIMEOUT_SECONDS")
REQUEST_HEADER_MAX_BYTES = read("REQUEST_HEADER_MAX_BYTES")
SERVER_KEEP_ALIVE_SECONDS = read("SERVER_KEEP_ALIVE_SECONDS")
GRACEFUL_SHUTDOWN_SECONDS = read("GRACEFUL_SHUTDOWN_SECONDS")
# Bounded admission of issuance work per worker (api/admission.py, docs/deployment.md): at most
# a limit of issuance requests at once (0 turns admission off), QUEUE_SIZE more wait up to
# QUEUE_TIMEOUT seconds; beyond that 503 `overloaded` with Retry-After: RETRY_AFTER. The limit is
# BUSY_IN_FLIGHT while the worker's CPU is busy and rises up to MAX_IN_FLIGHT while it uses less
# than CPU_TARGET_PERCENT of a CPU and its event loop lags less than MAX_LOOP_LAG_MS.
ADMISSION_MAX_IN_FLIGHT = read("ADMISSION_MAX_IN_FLIGHT")
ADMISSION_BUSY_IN_FLIGHT = read("ADMISSION_BUSY_IN_FLIGHT")
ADMISSION_CPU_TARGET_PERCENT = read("ADMISSION_CPU_TARGET_PERCENT")
ADMISSION_QUEUE_SIZE = read("ADMISSION_QUEUE_SIZE")
ADMISSION_QUEUE_TIMEOUT = read("ADMISSION_QUEUE_TIMEOUT")
ADMISSION_RETRY_AFTER = read("ADMISSION_RETRY_AFTER")
ADMISSION_MAX_LOOP_LAG_MS = read("ADMISSION_MAX_LOOP_LAG_MS")
# How often the admission counters and the event-loop lag are logged (seconds; 0: never).
ADMISSION_LOG_SECONDS = read("ADMISSION_LOG_SECONDS")
# Garbage collection of a worker (coronacheck/asgi.py, benchmarks/PROFILE.md): allocations between
# young-generation collections; start-up objects frozen out of collections (0: Python's defaults).
GC_GENERATION0_THRESHOLD = read("GC_GENERATION0_THRESHOLD")
# Run the start-up validation when the ASGI application starts (settings.md §2).
VALIDATE_CONFIG_AT_START = read("VALIDATE_CONFIG_AT_START")

# --- 4 Logging: structured, no personal data ----------------------------------------------------
LOG_LEVEL = read("LOG_LEVEL")
LOGGING_CONFIG = "common.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "common.logging.JsonFormatter"}},
    "filters": {"request_id": {"()": "common.logging.RequestIdFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "aiohttp": {"level": "WARNING"},
        "asyncio": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}
