"""Development defaults, created on first use: what makes `manage.py migrate`, `runserver`,
`createsuperuser` and `check_config` work on a fresh clone with nothing configured.

They apply only in development mode (`DEBUG` on; `manage.py` defaults `DEBUG` to true, the ASGI
application to false) and only to settings that are not set. Everything lives in the
git-ignored `.dev/` folder of the checkout: generated secrets (fresh random keys on each machine,
never the TEST ONLY keys of the reference data) and the loopback URLs of the reference signers
and fake identity services that `bin/run` starts. With `DEBUG=false` nothing is defaulted and the
start-up validation names every missing secret.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.public import PrivateKey

# The ports of bin/run's development services (bin/run can move them; it then exports the URLs).
DEV_DOMESTIC_SIGNER_PORT = 4001
DEV_EU_SIGNER_PORT = 4002
DEV_INGE6_PORT = 4003
DEV_RVIG_PORT = 4004


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _rsa_pair(folder: Path, private_name: str, public_name: str) -> None:
    if (folder / private_name).exists() and (folder / public_name).exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(
        folder / private_name,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write(
        folder / public_name,
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _nacl_pair(folder: Path, private_name: str, public_name: str) -> None:
    if (folder / private_name).exists() and (folder / public_name).exists():
        return
    key = PrivateKey.generate()
    _write(folder / private_name, base64.b64encode(bytes(key)) + b"\n")
    _write(folder / public_name, base64.b64encode(bytes(key.public_key)) + b"\n")


def _random_b64(folder: Path, name: str) -> None:
    if not (folder / name).exists():
        _write(folder / name, base64.b64encode(secrets.token_bytes(32)) + b"\n")


def ensure_dev_secrets(folder: Path) -> dict[str, str]:
    """Create the service's secrets in `folder` when missing; return the environment for them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _rsa_pair(folder, "jwt_private.key", "jwt_public.pem")
    _rsa_pair(folder, "inge6_jwt_private.key", "inge6_jwt_public.pem")
    _nacl_pair(folder, "inge4_NaCl", "inge4_NaCl.pub")
    _nacl_pair(folder, "inge6_NaCl", "inge6_NaCl.pub")
    _random_b64(folder, "session_hmac_key")
    _random_b64(folder, "submission_pseudonym_key")
    if not (folder / "django_secret_key").exists():
        _write(folder / "django_secret_key", secrets.token_urlsafe(50).encode())
    return {
        "SECRETS_FOLDER": str(folder),
        "SECRET_KEY": (folder / "django_secret_key").read_text().strip(),
        "DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME": "jwt_private.key",
        "DYNAMIC_FLOW_JWT_PUBLIC_KEY_FILENAME": "jwt_public.pem",
        "INGE4_NACL_PRIVATE_KEY_FILE": "inge4_NaCl",
        "INGE4_NACL_PUBLIC_KEY_FILE": "inge4_NaCl.pub",
        "INGE6_NACL_PUBLIC_KEY_FILE": "inge6_NaCl.pub",
        "INGE6_JWT_PUBLIC_CRT_FILE": "inge6_jwt_public.pem",
        "SESSION_HMAC_KEY_FILE": "session_hmac_key",
        "SUBMISSION_PSEUDONYM_KEY_FILE": "submission_pseudonym_key",
        "IDENTITY_HASH_JWT_ISSUER_CLAIM": "jwt.dev.coronacheck.local",
        "INGE4_JWT_AUDIENCE": json.dumps(["cc_app"]),
    }


def dev_service_urls(
    host: str = "127.0.0.1",
    domestic_port: int = DEV_DOMESTIC_SIGNER_PORT,
    eu_port: int = DEV_EU_SIGNER_PORT,
    inge6_port: int = DEV_INGE6_PORT,
    rvig_port: int = DEV_RVIG_PORT,
) -> dict[str, str]:
    """The downstream URLs of bin/run's reference signers and fake identity services."""
    return {
        "DOMESTIC_NL_VWS_PREPARE_ISSUE_URL": f"http://{host}:{domestic_port}/prepare_issue",
        "DOMESTIC_NL_VWS_ONLINE_SIGNING_URL": f"http://{host}:{domestic_port}/issue",
        "DOMESTIC_NL_VWS_PAPER_SIGNING_URL": f"http://{host}:{domestic_port}/issue_static",
        "EU_INTERNATIONAL_SIGNING_URL": f"http://{host}:{eu_port}/get_credential",
        "INGE6_BSN_RETRIEVAL_URL": f"http://{host}:{inge6_port}/bsn_attribute",
        "RVIG_URL": f"http://{host}:{rvig_port}/gba-v/online/lo3services/adhoc",
    }


def apply_development_defaults(dev_folder: Path) -> list[str]:
    """Set (in `os.environ`) every development default whose setting is not set; return their
    names. Secrets are only defaulted as a whole, when `SECRETS_FOLDER` is not set."""
    defaults: dict[str, str] = {}
    if not os.environ.get("SECRETS_FOLDER"):
        defaults.update(ensure_dev_secrets(dev_folder / "secrets"))
    defaults.update(dev_service_urls())
    applied = []
    for name, value in defaults.items():
        if name not in os.environ:
            os.environ[name] = value
            applied.append(name)
    return applied
