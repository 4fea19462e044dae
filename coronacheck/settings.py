"""Settings of the signing service, read from the environment (settings.md).

Embedded defaults run the service on SQLite; `DATABASE_URL` selects PostgreSQL. Secrets and key
files are never defaulted here: `bin/run` creates development ones in `.dev/` and exports their
paths; production deployments set them explicitly. Start-up validation is in
`coronacheck.config_checks` (settings.md §2).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from common.envtools import env_bool, env_float, env_int, env_list, env_str, secret_path

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Django core -------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
# True only in the test settings module; mock modes need it or DEBUG (settings.md §2).
TEST_SETTINGS = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "simple_history",
    "events",
    "signing",
    "api",
    "coronacheck",
    "devtools",
]

MIDDLEWARE = [
    "api.middleware.ApiMiddleware",
    "api.ratelimit.RateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db.setdefault("OPTIONS", {})
        _db["OPTIONS"]["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10),
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 2.0),
        }
        _db["OPTIONS"].setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / ".dev" / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".dev" / "static"

# --- Security headers (checked by `manage.py check --deploy`) -------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 1048576)

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CoronaCheck business rules signing service",
    "DESCRIPTION": "Turns provider-signed events into domestic and EU COVID certificates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- 1.1 Secrets and key material --------------------------------------------------------------
SECRETS_FOLDER = env_str("SECRETS_FOLDER")
DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME = secret_path(SECRETS_FOLDER, env_str("DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME"))
DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME = secret_path(SECRETS_FOLDER, env_str("DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME"))
INGE4_NACL_PRIVATE_KEY_FILE = secret_path(SECRETS_FOLDER, env_str("INGE4_NACL_PRIVATE_KEY_FILE"))
INGE4_NACL_PUBLIC_KEY_FILE = secret_path(SECRETS_FOLDER, env_str("INGE4_NACL_PUBLIC_KEY_FILE"))
INGE6_NACL_PUBLIC_KEY_FILE = secret_path(SECRETS_FOLDER, env_str("INGE6_NACL_PUBLIC_KEY_FILE"))
INGE6_JWT_PUBLIC_CRT_FILE = secret_path(SECRETS_FOLDER, env_str("INGE6_JWT_PUBLIC_CRT_FILE"))
SESSION_HMAC_KEY_FILE = secret_path(SECRETS_FOLDER, env_str("SESSION_HMAC_KEY_FILE"))
RVIG_CERT_FILENAME = secret_path(SECRETS_FOLDER, env_str("RVIG_CERT_FILENAME"))
RVIG_USERNAME = env_str("RVIG_USERNAME")
RVIG_PASSWORD = env_str("RVIG_PASSWORD")
EVENT_DATA_PROVIDERS_FILENAME = secret_path(SECRETS_FOLDER, env_str("EVENT_DATA_PROVIDERS_FILENAME"))
# Key for the pseudonym of the holder in submission records (this project; events/services.py).
SUBMISSION_PSEUDONYM_KEY_FILE = secret_path(SECRETS_FOLDER, env_str("SUBMISSION_PSEUDONYM_KEY_FILE"))

# --- 1.2 Other systems ---------------------------------------------------------------------------
DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = env_str("DOMESTIC_NL_VWS_PREPARE_ISSUE_URL")
DOMESTIC_NL_VWS_ONLINE_SIGNING_URL = env_str("DOMESTIC_NL_VWS_ONLINE_SIGNING_URL")
DOMESTIC_NL_VWS_PAPER_SIGNING_URL = env_str("DOMESTIC_NL_VWS_PAPER_SIGNING_URL")
DOMESTIC_NL_KEY_IDENTIFIER = env_str("DOMESTIC_NL_KEY_IDENTIFIER", "")
DOMESTIC_NL_CREDENTIAL_VERSION = env_int("DOMESTIC_NL_CREDENTIAL_VERSION", 2)
EU_INTERNATIONAL_SIGNING_URL = env_str("EU_INTERNATIONAL_SIGNING_URL")
INGE6_BSN_RETRIEVAL_URL = env_str("INGE6_BSN_RETRIEVAL_URL")
INGE6_JWT_ISSUER = env_str("INGE6_JWT_ISSUER", "")
INGE4_JWT_AUDIENCE = env_list("INGE4_JWT_AUDIENCE", [])
RVIG_URL = env_str("RVIG_URL")
RVIG_HEALTH_CHECK_BSN = env_str("RVIG_HEALTH_CHECK_BSN", "")
SIGNER_CA_CERT_FILE = env_str("SIGNER_CA_CERT_FILE", "")
RVIG_CA_CERT_FILE = env_str("RVIG_CA_CERT_FILE", "")
PLAINTEXT_HTTP_HOSTS = env_list("PLAINTEXT_HTTP_HOSTS", [])
CMS_TRUST_ANCHORS_FILE = env_str("CMS_TRUST_ANCHORS_FILE", str(BASE_DIR / "events" / "resources" / "cms-trust-anchors.pem"))
IDENTITY_HASH_JWT_ISSUER_CLAIM = env_str("IDENTITY_HASH_JWT_ISSUER_CLAIM")
IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS = env_int("IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS", 86400)

# --- 1.3 HTTP client -------------------------------------------------------------------------------
HTTP_CONNECT_TIMEOUT = env_float("HTTP_CONNECT_TIMEOUT", 3.05)
HTTP_READ_TIMEOUT = env_float("HTTP_READ_TIMEOUT", 2.0)
DOMESTIC_NL_ISSUE_READ_TIMEOUT = env_float("DOMESTIC_NL_ISSUE_READ_TIMEOUT", 15.0)
HTTP_POOL_TIMEOUT = env_float("HTTP_POOL_TIMEOUT", 1.0)
HTTP_EXPONENTIAL_RETRIES = env_int("HTTP_EXPONENTIAL_RETRIES", 1)
HTTP_MAX_CONNECTIONS = env_int("HTTP_MAX_CONNECTIONS", 400)
HEALTH_CHECK_TIMEOUT = env_float("HEALTH_CHECK_TIMEOUT", 1.0)
# /health answers from check results refreshed in the background this often (api/health.py);
# 0: every request runs the checks itself.
HEALTH_REFRESH_SECONDS = env_float("HEALTH_REFRESH_SECONDS", 1.0)

# --- 1.4 Seed locations of the business rules ------------------------------------------------------
RESOURCE_FOLDER = env_str("RESOURCE_FOLDER", str(BASE_DIR / "events" / "resources" / "valuesets"))
HPK_MAPPING_FILE = env_str("HPK_MAPPING_FILE", "hpk-codes.json")
RULE_CACHE_SECONDS = env_float("RULE_CACHE_SECONDS", 2.0)

# --- 1.5 Sessions, API, modes --------------------------------------------------------------------
EXPIRATION_TIME_IN_SECONDS = env_int("EXPIRATION_TIME_IN_SECONDS", 60)
API_DOCS_UI_ENABLED = env_bool("API_DOCS_UI_ENABLED", False)
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1048576)
REQUEST_MAX_JSON_DEPTH = env_int("REQUEST_MAX_JSON_DEPTH", 64)
INGE6_MOCK_MODE = env_bool("INGE6_MOCK_MODE", False)
INGE6_MOCK_MODE_BSN = env_str("INGE6_MOCK_MODE_BSN", "")
ALLOW_MOCKS = env_bool("ALLOW_MOCKS", False)
SUBMISSION_RETENTION_DAYS = env_int("SUBMISSION_RETENTION_DAYS", 90)
# Per-client rate limit of the public endpoints (requests per window; 0 disables).
RATE_LIMIT_REQUESTS = env_int("RATE_LIMIT_REQUESTS", 0)
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 60)
RATE_LIMIT_TRUST_X_FORWARDED_FOR = env_bool("RATE_LIMIT_TRUST_X_FORWARDED_FOR", env_bool("BEHIND_TLS_PROXY", False))
# Bounded admission of issuance work per worker (api/admission.py, docs/deployment.md): at most
# MAX_IN_FLIGHT issuance requests at once (0 turns admission off), QUEUE_SIZE more wait up to
# QUEUE_TIMEOUT seconds; beyond that 503 `overloaded` with Retry-After: RETRY_AFTER.
ADMISSION_MAX_IN_FLIGHT = env_int("ADMISSION_MAX_IN_FLIGHT", 64)
ADMISSION_QUEUE_SIZE = env_int("ADMISSION_QUEUE_SIZE", 64)
ADMISSION_QUEUE_TIMEOUT = env_float("ADMISSION_QUEUE_TIMEOUT", 0.5)
ADMISSION_RETRY_AFTER = env_int("ADMISSION_RETRY_AFTER", 1)
# While the event loop lags more than this (ms), fewer requests are let in (0, the default: off;
# measured in benchmarks/PROFILE.md, it did not pay on a shared 2-core machine).
ADMISSION_MAX_LOOP_LAG_MS = env_int("ADMISSION_MAX_LOOP_LAG_MS", 0)
# How often the admission counters and the event-loop lag are logged (seconds; 0: never).
ADMISSION_LOG_SECONDS = env_float("ADMISSION_LOG_SECONDS", 60.0)
# Run the start-up validation when the ASGI application starts (settings.md §2).
VALIDATE_CONFIG_AT_START = env_bool("VALIDATE_CONFIG_AT_START", True)

# --- 4 Logging: structured, no personal data ----------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
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
