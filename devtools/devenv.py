"""The development environment of `bin/run`: generated secrets, loopback URLs of the reference
signers and fake identity services, a dev test provider and a print token. Everything lives in
the git-ignored `.dev/` folder; nothing here is used by a production deployment."""

from __future__ import annotations

import base64
import secrets
import shlex
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from nacl.public import PrivateKey

from common.devdefaults import dev_service_urls
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
            **dev_service_urls(host, domestic_port, eu_port, inge6_port, rvig_port),
            "EU_SIGNER_KEY_FOLDER": str(DEV_FOLDER / "signer-keys"),
            "METRICS_TOKEN": dev_metrics_token(),
            "DEV_PROVIDER_FOLDER": str(DEV_FOLDER / "test-provider"),
        }
    )
    return env


def dev_metrics_token() -> str:
    """The bearer token of /metrics under bin/run, created once in `.dev/metrics_token`."""
    path = DEV_FOLDER / "metrics_token"
    if not path.exists():
        DEV_FOLDER.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


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
