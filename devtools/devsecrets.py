"""Development and test secrets, created on first use in a git-ignored folder.

`bin/run` and the test settings call `ensure_dev_secrets`; production deployments never do
(their secrets come from the environment). Nothing here is a TEST ONLY key of `reference/`:
every key is generated fresh on each machine.
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
