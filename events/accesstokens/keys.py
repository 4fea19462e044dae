"""Key material of the access-token flow, read once per process from the files named in the
settings (settings.md §1.1, §3). Nothing here is ever logged; errors name the setting only."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from django.conf import settings

from common.envtools import ConfigurationError
from common.keyfiles import key32_read


@functools.lru_cache(maxsize=16)
def _read(setting: str, path: str) -> bytes:
    if not path:
        raise ConfigurationError(f"{setting} is not set")
    try:
        return Path(path).read_bytes()
    except OSError:
        raise ConfigurationError(f"{setting} cannot be read") from None


@functools.lru_cache(maxsize=16)
def _nacl_key(setting: str, path: str) -> str:
    if not path:
        raise ConfigurationError(f"{setting} is not set")
    try:
        return base64.b64encode(key32_read(path)).decode("ascii")
    except OSError:
        raise ConfigurationError(f"{setting} cannot be read") from None
    except ValueError:
        raise ConfigurationError(f"{setting} is not base64 of 32 bytes") from None


@functools.lru_cache(maxsize=8)
def _rsa_private(setting: str, path: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(setting, path), password=None)
    except ValueError:
        raise ConfigurationError(f"{setting} is not a PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigurationError(f"{setting} is not an RSA key")
    return key


@functools.lru_cache(maxsize=8)
def _rsa_public(setting: str, path: str) -> RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(_read(setting, path))
    except ValueError:
        raise ConfigurationError(f"{setting} is not a PEM public key") from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigurationError(f"{setting} is not an RSA key")
    return key


def access_token_signing_key() -> RSAPrivateKey:
    """The RSA key that signs the provider JWTs (access-tokens.md §4)."""
    name = "DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME"
    return _rsa_private(name, getattr(settings, name))


def inge6_jwt_public_key() -> RSAPublicKey:
    """The key that verifies Inge-6 JWTs (a PEM `PUBLIC KEY` despite the setting's name)."""
    name = "INGE6_JWT_PUBLIC_CRT_FILE"
    return _rsa_public(name, getattr(settings, name))


def inge4_nacl_private_key() -> str:
    """Base64 of this service's X25519 private key (box with Inge-6)."""
    name = "INGE4_NACL_PRIVATE_KEY_FILE"
    return _nacl_key(name, getattr(settings, name))


def inge6_nacl_public_key() -> str:
    """Base64 of Inge-6's X25519 public key."""
    name = "INGE6_NACL_PUBLIC_KEY_FILE"
    return _nacl_key(name, getattr(settings, name))


def keys_cache_clear() -> None:
    for cached in (_read, _nacl_key, _rsa_private, _rsa_public):
        cached.cache_clear()
