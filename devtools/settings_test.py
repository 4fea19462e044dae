"""Test settings: the production settings module on generated test secrets.

Secrets are generated once in `.test-secrets/` (git-ignored). The database comes from
`DATABASE_URL`, which `bin/test` points at a PostgreSQL server it starts itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from devtools.devsecrets import ensure_dev_secrets

_BASE = Path(__file__).resolve().parent.parent
for _name, _value in ensure_dev_secrets(_BASE / ".test-secrets").items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("DEBUG", "false")
for _name, _path in {
    "DOMESTIC_NL_VWS_PREPARE_ISSUE_URL": "http://127.0.0.1:4001/prepare_issue",
    "DOMESTIC_NL_VWS_ONLINE_SIGNING_URL": "http://127.0.0.1:4001/issue",
    "DOMESTIC_NL_VWS_PAPER_SIGNING_URL": "http://127.0.0.1:4001/issue_static",
    "EU_INTERNATIONAL_SIGNING_URL": "http://127.0.0.1:4002/get_credential",
    "INGE6_BSN_RETRIEVAL_URL": "http://127.0.0.1:4003/bsn_attribute",
    "RVIG_URL": "http://127.0.0.1:4004/gba-v/online/lo3services/adhoc",
}.items():
    os.environ.setdefault(_name, _path)
os.environ.setdefault("VALIDATE_CONFIG_AT_START", "false")
os.environ.setdefault("RULE_CACHE_SECONDS", "0")
# Static files from the apps' folders (no collectstatic); the admin browser test collects them.
os.environ.setdefault("STATIC_MANIFEST", "false")
# /health runs its checks per request in tests (no background task outliving a test's event
# loop); api/tests/test_health.py covers the cached mode, the production default.
os.environ.setdefault("HEALTH_REFRESH_SECONDS", "0")

from coronacheck.settings import *  # noqa: E402,F401,F403

TEST_SETTINGS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
