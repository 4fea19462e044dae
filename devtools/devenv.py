"""The development environment of `bin/run`: generated secrets, loopback URLs of the reference
signers and fake identity services, a dev test provider and a print token. Everything lives in
the git-ignored `.dev/` folder; nothing here is used by a production deployment."""

from __future__ import annotations

import base64
import json
import secrets
import shlex
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from nacl.public import PrivateKey

from devtools.devsecrets import ensure_dev_secrets
from devtools.testprovider import ensure_dev_test_provider
from events.models import Provider
from events.providers import provider_certificate_set
from signing.services import print_token_create

DEV_FOLDER = Path(settings.BASE_DIR) / ".dev"
DEV_PROVIDER = "ZZZ"


def dev_environment(
    host: str = "127.0.0.1", domestic_port: int = 4001, eu_port: int = 4002, inge6_port: int = 4003, rvig_port: int = 4004
) -> dict[str, str]:
    env = ensure_dev_secrets(DEV_FOLDER / "secrets")
    env.update(
        {
            "DEBUG": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DOMESTIC_NL_VWS_PREPARE_ISSUE_URL": f"http://{host}:{domestic_port}/prepare_issue",
            "DOMESTIC_NL_VWS_ONLINE_SIGNING_URL": f"http://{host}:{domestic_port}/issue",
            "DOMESTIC_NL_VWS_PAPER_SIGNING_URL": f"http://{host}:{domestic_port}/issue_static",
            "EU_INTERNATIONAL_SIGNING_URL": f"http://{host}:{eu_port}/get_credential",
            "INGE6_BSN_RETRIEVAL_URL": f"http://{host}:{inge6_port}/bsn_attribute",
            "RVIG_URL": f"http://{host}:{rvig_port}/gba-v/online/lo3services/adhoc",
            "EU_SIGNER_KEY_FOLDER": str(DEV_FOLDER / "signer-keys"),
            "DEV_PROVIDER_FOLDER": str(DEV_FOLDER / "test-provider"),
        }
    )
    return env


def env_file_write(env: dict[str, str], path: Path) -> None:
    lines = [f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def dev_provider_register() -> None:
    """Register the dev test provider (its CA-issued leaf pinned) if it is missing."""

    signer = ensure_dev_test_provider(DEV_FOLDER / "test-provider")
    if not Provider.objects.filter(identifier=DEV_PROVIDER).exists():
        key = PrivateKey.generate()
        Provider.objects.create(
            identifier=DEV_PROVIDER,
            unomi_url="https://dev-provider.invalid/unomi",
            event_url="https://dev-provider.invalid/events",
            identity_hash_secret=secrets.token_hex(32),
            bsn_public_key=base64.b64encode(bytes(key.public_key)).decode(),
            bsn_private_key=base64.b64encode(bytes(key)).decode(),
        )
    pem = signer.cert.public_bytes(Encoding.PEM).decode()
    provider_certificate_set(identifier=DEV_PROVIDER, pem=pem, match="pinned", status=None, retired_at=None)


def dev_print_token() -> str:
    """The dev print-portal token, created once and kept in `.dev/print_token`."""

    path = DEV_FOLDER / "print_token"
    if path.exists():
        return path.read_text().strip()
    _, key = print_token_create(client_name="dev print portal")
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def dev_summary(env: dict[str, str]) -> str:
    return json.dumps({k: v for k, v in env.items() if k.endswith("_URL")}, indent=2)
