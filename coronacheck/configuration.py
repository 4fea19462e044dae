"""The one definition of the service's environment settings: name, type, default, secret or not,
and what each does. `coronacheck/settings.py` reads every setting through `read()`, and
`docs/configuration.md` is generated from this table:

    python -m coronacheck.configuration > docs/configuration.md

A test fails when a setting is read but not defined here, defined here but never read, or when
`docs/configuration.md` is not the generated text. No Django import: the table is plain data.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.envtools import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Sections, in the order of settings.md plus this project's operational settings.
DJANGO = "Django, database and web"
SECRETS = "Secrets and key material"
SYSTEMS = "Other systems: endpoints, trust and tokens"
HTTP = "HTTP client"
RULES = "Business rules: seed locations and caching"
API = "Sessions, API and modes"
OPERATIONS = "Operations: static files, metrics, logging, limits"
SECTIONS = (DJANGO, SECRETS, SYSTEMS, HTTP, RULES, API, OPERATIONS)

SECTION_NOTES = {
    SECRETS: "Key files are read from `SECRETS_FOLDER` unless the value is an absolute path. In development "
    "mode (`DEBUG`) unset secrets are generated on first use in `.dev/secrets/`.",
    SYSTEMS: "In development mode (`DEBUG`) unset URLs default to the loopback services that `bin/run` starts.",
    RULES: "The business rules themselves (constants, signer switches, rule data) live in the database and "
    "are edited in the admin or with `manage.py set_rules`; these settings only say where they are seeded from.",
}


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # str, bool, int, float, list, url, file, path
    section: str
    description: str
    default: Any = None  # None: no default (empty)
    required: bool = False
    secret: bool = False
    default_text: str = ""  # documented default when it depends on other settings (passed by the reader)
    base_relative: bool = False  # a default path relative to the checkout
    read_by: str = ""  # the file that reads it, when it is not coronacheck/settings.py (first word: its path)


_ = Setting
SETTINGS: tuple[Setting, ...] = (
    # --- Django, database and web --------------------------------------------------------------
    _(
        "DEBUG",
        "bool",
        DJANGO,
        "Development mode: Django's debug pages, and development defaults for unset secrets and URLs. Never in production.",
        default_text="`false`; `manage.py` defaults it to `true`",
    ),
    _("SECRET_KEY", "str", DJANGO, "Django's signing key (admin sessions, CSRF).", required=True, secret=True),
    _("ALLOWED_HOSTS", "list", DJANGO, "Host names the service answers to.", default=["localhost", "127.0.0.1", "[::1]"]),
    _(
        "DATABASE_URL",
        "url",
        DJANGO,
        "PostgreSQL (`postgres://user:password@host:5432/name`); unset: the embedded SQLite database at `SQLITE_PATH`.",
        secret=True,
    ),
    _(
        "SQLITE_PATH",
        "path",
        DJANGO,
        "SQLite database file when `DATABASE_URL` is unset (its folder is created).",
        default=".dev/db.sqlite3",
        base_relative=True,
    ),
    _("DATABASE_POOL_MIN_SIZE", "int", DJANGO, "PostgreSQL connections kept open per worker.", default=2),
    _("DATABASE_POOL_MAX_SIZE", "int", DJANGO, "At most this many PostgreSQL connections per worker.", default=10),
    _(
        "DATABASE_POOL_TIMEOUT",
        "float",
        DJANGO,
        "Seconds to wait for a free pooled connection; then 503 `storage_unavailable`.",
        default=2.0,
    ),
    _(
        "DATABASE_ASYNC_POOL_MAX_SIZE",
        "int",
        DJANGO,
        "At most this many PostgreSQL connections per worker for the submission record and the issuance "
        "sessions, written and read without a thread (`common.db.run_inserts`, `run_keyed`), besides "
        "`DATABASE_POOL_MAX_SIZE`; one is kept open (at least one).",
        default=4,
    ),
    _("DATABASE_CONNECT_TIMEOUT", "int", DJANGO, "Seconds to open a new PostgreSQL connection.", default=3),
    _("SESSION_COOKIE_SECURE", "bool", DJANGO, "Admin session cookie only over HTTPS.", default_text="`true` unless `DEBUG`"),
    _("CSRF_COOKIE_SECURE", "bool", DJANGO, "Admin CSRF cookie only over HTTPS.", default_text="`true` unless `DEBUG`"),
    _("SECURE_SSL_REDIRECT", "bool", DJANGO, "Redirect plain HTTP to HTTPS (usually the load balancer's job).", default=False),
    _("SECURE_HSTS_SECONDS", "int", DJANGO, "`Strict-Transport-Security` max-age.", default_text="`31536000` (0 with `DEBUG`)"),
    _("SECURE_HSTS_INCLUDE_SUBDOMAINS", "bool", DJANGO, "HSTS `includeSubDomains`.", default=True),
    _("SECURE_HSTS_PRELOAD", "bool", DJANGO, "HSTS `preload`.", default_text="`true` unless `DEBUG`"),
    _(
        "BEHIND_TLS_PROXY",
        "bool",
        DJANGO,
        "Trust `X-Forwarded-Proto` from the TLS-terminating proxy (and, by default, `X-Forwarded-For` for the rate limit).",
        default=False,
    ),
    # --- Secrets and key material --------------------------------------------------------------
    _("SECRETS_FOLDER", "path", SECRETS, "Folder with the key files below.", required=True),
    _(
        "DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME",
        "file",
        SECRETS,
        "PEM RSA private key (≥ 2048 bits) that signs the provider access tokens.",
        required=True,
        secret=True,
    ),
    _(
        "DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME",
        "file",
        SECRETS,
        "Its public key; when given, start-up checks that the pair matches.",
    ),
    _(
        "INGE4_NACL_PRIVATE_KEY_FILE",
        "file",
        SECRETS,
        "Base64 of this service's 32-byte X25519 private key (boxes exchanged with the DigiD service).",
        required=True,
        secret=True,
    ),
    _("INGE4_NACL_PUBLIC_KEY_FILE", "file", SECRETS, "Its public key; when given, must match the private key."),
    _(
        "INGE6_NACL_PUBLIC_KEY_FILE",
        "file",
        SECRETS,
        "Base64 of the DigiD service's (Inge-6) 32-byte X25519 public key.",
        required=True,
    ),
    _("INGE6_JWT_PUBLIC_CRT_FILE", "file", SECRETS, "PEM public key that verifies the DigiD service's JWTs.", required=True),
    _(
        "SESSION_HMAC_KEY_FILE",
        "file",
        SECRETS,
        "Base64 of a 32-byte key; session tokens are stored only as HMACs under it.",
        required=True,
        secret=True,
    ),
    _(
        "SUBMISSION_PSEUDONYM_KEY_FILE",
        "file",
        SECRETS,
        "Base64 of a 32-byte key for the holder pseudonym in submission records.",
        required=True,
        secret=True,
    ),
    _(
        "RVIG_CERT_FILENAME",
        "file",
        SECRETS,
        "PEM with the RVIG mutual-TLS client certificate and key (required for an https `RVIG_URL`).",
        secret=True,
    ),
    _("RVIG_USERNAME", "str", SECRETS, "HTTP basic-auth user for RVIG.", default=""),
    _("RVIG_PASSWORD", "str", SECRETS, "HTTP basic-auth password for RVIG.", default="", secret=True),
    _(
        "EVENT_DATA_PROVIDERS_FILENAME",
        "file",
        SECRETS,
        "JSON5 provider file for `manage.py import_providers` (the registry itself lives in the database).",
    ),
    # --- Other systems -------------------------------------------------------------------------------
    _("DOMESTIC_NL_VWS_PREPARE_ISSUE_URL", "url", SYSTEMS, "Domestic signer: `/prepare_issue`.", required=True),
    _("DOMESTIC_NL_VWS_ONLINE_SIGNING_URL", "url", SYSTEMS, "Domestic signer: `/issue` (app).", required=True),
    _("DOMESTIC_NL_VWS_PAPER_SIGNING_URL", "url", SYSTEMS, "Domestic signer: `/issue_static` (paper).", required=True),
    _("DOMESTIC_NL_KEY_IDENTIFIER", "str", SYSTEMS, "Sent as `keyIdentifier` to the domestic signer when non-empty.", default=""),
    _("DOMESTIC_NL_CREDENTIAL_VERSION", "int", SYSTEMS, "Sent as `credentialVersion` to the domestic signer.", default=2),
    _(
        "DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE",
        "file",
        SYSTEMS,
        "Optional: the domestic signer's Idemix public key (gabi XML); check_signers verifies a credential the "
        "signer issues under it. The service never signs with it.",
    ),
    _(
        "DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE",
        "file",
        SYSTEMS,
        "Optional: the matching secret key, only where check_config validates the pair (n = p·q, safe primes, "
        "bases are quadratic residues); it belongs on the signer's host, never on the service's hosts.",
        secret=True,
    ),
    _("EU_INTERNATIONAL_SIGNING_URL", "url", SYSTEMS, "EU signer: `/get_credential`.", required=True),
    _("INGE6_BSN_RETRIEVAL_URL", "url", SYSTEMS, "DigiD service (Inge-6): BSN retrieval endpoint.", required=True),
    _("INGE6_JWT_ISSUER", "str", SYSTEMS, "When non-empty, the required `iss` of the DigiD service's JWTs.", default=""),
    _(
        "INGE4_JWT_AUDIENCE",
        "list",
        SYSTEMS,
        "Accepted `aud` values of the DigiD service's JWTs (non-empty).",
        default=[],
        required=True,
    ),
    _("RVIG_URL", "url", SYSTEMS, "RVIG SOAP endpoint (https with mutual TLS outside loopback).", required=True),
    _(
        "RVIG_HEALTH_CHECK_BSN",
        "str",
        SYSTEMS,
        "When set, `/health` looks up this test BSN at RVIG; empty: a connectivity check only.",
        default="",
    ),
    _(
        "SIGNER_CA_CERT_FILE",
        "file",
        SYSTEMS,
        "CA bundle for the signers and the DigiD service; empty: the system trust store. Verification cannot be switched off.",
        default="",
    ),
    _(
        "RVIG_CA_CERT_FILE",
        "file",
        SYSTEMS,
        "CA bundle for RVIG's server certificate; empty: the system trust store.",
        default="",
    ),
    _(
        "PLAINTEXT_HTTP_HOSTS",
        "list",
        SYSTEMS,
        "Host names that may be reached over plain http outside `DEBUG` (the signers on a private network); never RVIG.",
        default=[],
    ),
    _(
        "CMS_TRUST_ANCHORS_FILE",
        "file",
        SYSTEMS,
        "PEM bundle of the trust anchors for identity entries of the provider registry.",
        default="events/resources/cms-trust-anchors.pem",
        base_relative=True,
    ),
    _(
        "IDENTITY_HASH_JWT_ISSUER_CLAIM",
        "str",
        SYSTEMS,
        "`iss` of the provider access tokens; the test issuer is refused outside `DEBUG`.",
        required=True,
    ),
    _("IDENTITY_HASH_JWT_VALIDITY_DURATION_SECONDS", "int", SYSTEMS, "Lifetime of the provider access tokens.", default=86400),
    # --- HTTP client -----------------------------------------------------------------------------------
    _("HTTP_CONNECT_TIMEOUT", "float", HTTP, "Seconds to connect to a downstream system.", default=3.05),
    _("HTTP_READ_TIMEOUT", "float", HTTP, "Seconds to wait for a downstream answer (and to send).", default=2.0),
    _(
        "DOMESTIC_NL_ISSUE_READ_TIMEOUT",
        "float",
        HTTP,
        "Read timeout of the domestic `/issue` and `/issue_static` calls instead of `HTTP_READ_TIMEOUT`.",
        default=15.0,
    ),
    _("HTTP_POOL_TIMEOUT", "float", HTTP, "Seconds to wait for a free pooled connection.", default=1.0),
    _("HTTP_EXPONENTIAL_RETRIES", "int", HTTP, "Retries when nothing was sent (refused or connect timeout) only.", default=1),
    _("HTTP_MAX_CONNECTIONS", "int", HTTP, "Open connections per downstream system and worker.", default=400),
    _("HEALTH_CHECK_TIMEOUT", "float", HTTP, "Timeout of each `/health` check.", default=1.0),
    # --- Business rules ----------------------------------------------------------------------------------
    _(
        "RESOURCE_FOLDER",
        "path",
        RULES,
        "Folder the rule data is seeded from.",
        default="events/resources/valuesets",
        base_relative=True,
    ),
    _("HPK_MAPPING_FILE", "str", RULES, "File name of the HPK mapping inside `RESOURCE_FOLDER`.", default="hpk-codes.json"),
    _(
        "RULE_CACHE_SECONDS",
        "float",
        RULES,
        "How long a worker uses its rule snapshot before checking for a change.",
        default=2.0,
    ),
    # --- Sessions, API and modes -----------------------------------------------------------------------
    _("EXPIRATION_TIME_IN_SECONDS", "int", API, "Lifetime of an issuance session (`stoken`).", default=60),
    _(
        "API_DOCS_UI_ENABLED",
        "bool",
        API,
        "Serve the interactive API docs at `/docs` (Swagger UI) and `/redoc`.",
        default_text="`false`; `true` with `DEBUG`",
    ),
    _("REQUEST_MAX_BYTES", "int", API, "Request body limit; larger bodies get 413 `request_too_large`.", default=1048576),
    _("REQUEST_MAX_JSON_DEPTH", "int", API, "Deepest JSON nesting accepted in a request body.", default=64),
    _(
        "INGE6_MOCK_MODE",
        "bool",
        API,
        "Skip the DigiD JWT check and use `INGE6_MOCK_MODE_BSN` (development only: needs `ALLOW_MOCKS` and `DEBUG`).",
        default=False,
    ),
    _("INGE6_MOCK_MODE_BSN", "str", API, "The fixed BSN of the mock mode.", default=""),
    _("ALLOW_MOCKS", "bool", API, "Must be on (with `DEBUG` or test settings) for any mock mode to be accepted.", default=False),
    _(
        "SUBMISSION_RETENTION_DAYS",
        "int",
        API,
        "Age after which `manage.py purge_submissions` deletes submission records.",
        default=90,
    ),
    _("RATE_LIMIT_REQUESTS", "int", API, "Requests per client and window on the public endpoints; 0 disables.", default=0),
    _("RATE_LIMIT_WINDOW_SECONDS", "int", API, "The rate-limit window.", default=60),
    _(
        "RATE_LIMIT_TRUST_X_FORWARDED_FOR",
        "bool",
        API,
        "Key the rate limit on `X-Forwarded-For`.",
        default_text="the value of `BEHIND_TLS_PROXY`",
    ),
    _("VALIDATE_CONFIG_AT_START", "bool", API, "Run the start-up validation when the ASGI application starts.", default=True),
    # --- Operations ----------------------------------------------------------------------------------------
    _(
        "STATIC_ROOT",
        "path",
        OPERATIONS,
        "Where `manage.py collectstatic` puts the static files the service serves.",
        default=".dev/static",
        base_relative=True,
    ),
    _(
        "STATIC_MANIFEST",
        "bool",
        OPERATIONS,
        "Serve collected, content-hashed and compressed static files (needs `collectstatic`); off: straight from the apps.",
        default_text="`true` unless `DEBUG`",
    ),
    _(
        "ADMISSION_MAX_IN_FLIGHT",
        "int",
        OPERATIONS,
        "The most issuance requests (print, credentials, prepare_issue, access_tokens) one worker works on at once, "
        "reached only while it has CPU to spare (slow signers); 0 turns admission off.",
        default=256,
    ),
    _(
        "ADMISSION_BUSY_IN_FLIGHT",
        "int",
        OPERATIONS,
        "The in-flight limit of a worker whose CPU is busy: where the limit starts and what it falls back to; "
        "at or above `ADMISSION_MAX_IN_FLIGHT` the limit is fixed.",
        default=64,
    ),
    _(
        "ADMISSION_CPU_TARGET_PERCENT",
        "int",
        OPERATIONS,
        "The limit rises above `ADMISSION_BUSY_IN_FLIGHT` only while the worker process uses less than this much of one CPU.",
        default=95,
    ),
    _(
        "ADMISSION_QUEUE_SIZE",
        "int",
        OPERATIONS,
        "Issuance requests that may wait for a place; more get 503 `overloaded`.",
        default=64,
    ),
    _(
        "ADMISSION_QUEUE_TIMEOUT",
        "float",
        OPERATIONS,
        "Seconds a request may wait for a place; then 503 `overloaded`.",
        default=0.5,
    ),
    _("ADMISSION_RETRY_AFTER", "int", OPERATIONS, "The `Retry-After` seconds of a 503 `overloaded`.", default=1),
    _(
        "ADMISSION_MAX_LOOP_LAG_MS",
        "int",
        OPERATIONS,
        "At or above this event-loop lag the limit falls back towards `ADMISSION_BUSY_IN_FLIGHT`; "
        "it rises only below it (0: the limit stays at `ADMISSION_BUSY_IN_FLIGHT`).",
        default=10,
    ),
    _(
        "ADMISSION_LOG_SECONDS",
        "float",
        OPERATIONS,
        "How often the admission counters and the loop lag are logged (0: never).",
        default=60.0,
    ),
    _(
        "GC_GENERATION0_THRESHOLD",
        "int",
        OPERATIONS,
        "Allocations between two young-generation garbage collections in a worker, which also freezes its "
        "start-up objects (`gc.freeze`); 0 keeps Python's default (700) and freezes nothing.",
        default=10000,
    ),
    _(
        "HEALTH_REFRESH_SECONDS",
        "float",
        OPERATIONS,
        "`/health` answers from check results refreshed in the background this often; 0: the checks run per request.",
        default=1.0,
    ),
    _("PROVIDER_FILE_MAX_BYTES", "int", OPERATIONS, "Largest provider file `import_providers` reads (JSON5).", default=1048576),
    _(
        "PROVIDER_CERTIFICATE_MAX_BYTES",
        "int",
        OPERATIONS,
        "Largest certificate (PEM) of a provider entry, in the admin and the commands.",
        default=16384,
    ),
    _(
        "REQUEST_HEADER_TIMEOUT_SECONDS",
        "float",
        OPERATIONS,
        "Server (`python -m coronacheck.server`): seconds a client has to send a request's head; then 408.",
        default=10.0,
    ),
    _(
        "REQUEST_BODY_TIMEOUT_SECONDS",
        "float",
        OPERATIONS,
        "Server: seconds a client has to send a request's body; then 408 and the connection is closed.",
        default=20.0,
    ),
    _("REQUEST_HEADER_MAX_BYTES", "int", OPERATIONS, "Server: largest request head; larger gets 431.", default=65536),
    _("SERVER_KEEP_ALIVE_SECONDS", "int", OPERATIONS, "Server: idle seconds of a kept-alive connection.", default=5),
    _(
        "GRACEFUL_SHUTDOWN_SECONDS",
        "int",
        OPERATIONS,
        "Server: after SIGTERM, seconds to finish the requests in flight before they are cancelled.",
        default=20,
    ),
    _(
        "STAFF_LOGIN_FAILURE_LIMIT",
        "int",
        DJANGO,
        "Failed admin logins (per address or per username) before a lock-out (django-axes, kept in the database).",
        default=5,
    ),
    _("STAFF_LOGIN_COOLOFF_MINUTES", "float", DJANGO, "Minutes an admin login stays locked out.", default=15.0),
    _(
        "METRICS_TOKEN",
        "str",
        OPERATIONS,
        "Bearer token for `GET /metrics`; unset: `/metrics` answers 404.",
        default="",
        secret=True,
    ),
    _(
        "PROMETHEUS_MULTIPROC_DIR",
        "path",
        OPERATIONS,
        "Empty folder for the metrics of several worker processes (required with `--workers` > 1; emptied before each start).",
        read_by="common/metrics.py and prometheus-client",
    ),
    _(
        "WEB_CONCURRENCY",
        "int",
        OPERATIONS,
        "Worker processes of the production server command.",
        default_text="the number of CPU cores",
        read_by="bin/serve",
    ),
    _("HOST", "str", OPERATIONS, "Address the production server command listens on.", default="0.0.0.0", read_by="bin/serve"),
    _(
        "PORT",
        "int",
        OPERATIONS,
        "Port of the production server command (and of the container's health check).",
        default=8000,
        read_by="bin/serve",
    ),
    _("LOG_LEVEL", "str", OPERATIONS, "Level of the JSON log on standard error.", default="INFO"),
)
del _

BY_NAME = {setting.name: setting for setting in SETTINGS}
READ: set[str] = set()  # the settings read by this process (for the completeness test)
_UNSET: Any = object()
_READERS: dict[str, Callable[[str, Any], Any]] = {"bool": env_bool, "int": env_int, "float": env_float, "list": env_list}


def read(name: str, default: Any = _UNSET) -> Any:
    """The value of setting `name` from the environment, or its default. A `default` argument is
    only allowed for settings whose documented default depends on others (`default_text`)."""
    setting = BY_NAME[name]  # KeyError: a setting that is not defined (documented) here
    READ.add(name)
    if default is _UNSET:
        if setting.default_text and setting.default is None:
            raise TypeError(f"{name}: its default depends on other settings; pass it")
        default = setting.default
        if setting.base_relative and default is not None:
            default = str(BASE_DIR / default)
    elif not setting.default_text:
        raise TypeError(f"{name}: the default is defined in coronacheck/configuration.py, not at the reader")
    reader = _READERS.get(setting.type)
    if reader is None:
        return env_str(name, default)
    return reader(name, default)


def _default_markdown(setting: Setting) -> str:
    if setting.default_text:
        return setting.default_text
    if setting.required:
        return "**required**"
    if setting.default is None or setting.default == "":
        return "empty"
    if setting.base_relative:
        return f"`{setting.default}` in the checkout"
    if isinstance(setting.default, bool):
        return f"`{str(setting.default).lower()}`"
    if isinstance(setting.default, list):
        return "`[" + ", ".join(f'"{item}"' for item in setting.default) + "]`" if setting.default else "`[]`"
    return f"`{setting.default}`"


def markdown() -> str:
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated from coronacheck/configuration.py by `python -m coronacheck.configuration`; do not edit. -->",
        "",
        "The service reads these environment variables at start (a change needs a restart). Lists are JSON arrays",
        "of strings or comma-separated. **Secret** settings hold or name secrets: keep them out of logs, images and",
        "version control. In development mode (`DEBUG`, the default of `manage.py`) unset secrets and downstream",
        "URLs get generated development values in `.dev/`; with `DEBUG=false` every required setting must be set,",
        "and `manage.py check_config` names those that are missing. The business rules are not environment",
        "settings: staff edit them in the admin.",
        "",
    ]
    for section in SECTIONS:
        lines += [f"## {section}", ""]
        if section in SECTION_NOTES:
            lines += [SECTION_NOTES[section], ""]
        lines += ["| setting | type | default | secret | what it does |", "|---|---|---|---|---|"]
        for setting in SETTINGS:
            if setting.section != section:
                continue
            description = setting.description
            if setting.read_by:
                description += f" Read by {setting.read_by}."
            secret = "yes" if setting.secret else ""
            lines.append(f"| `{setting.name}` | {setting.type} | {_default_markdown(setting)} | {secret} | {description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
