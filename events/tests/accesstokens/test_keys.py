"""Tests of events/accesstokens/keys.py: read once per process, errors name the setting only."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from common.envtools import ConfigurationError
from events.accesstokens import keys

from .conftest import UPSTREAM_KEYS


@pytest.fixture(autouse=True)
def fresh_cache():
    keys.keys_cache_clear()
    yield
    keys.keys_cache_clear()


def test_reference_keys_load(settings):
    settings.DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME = str(UPSTREAM_KEYS / "jwt_private.key")
    settings.INGE6_JWT_PUBLIC_CRT_FILE = str(UPSTREAM_KEYS / "inge6_jwt_public.pem")
    settings.INGE4_NACL_PRIVATE_KEY_FILE = str(UPSTREAM_KEYS / "inge4_NaCl")
    settings.INGE6_NACL_PUBLIC_KEY_FILE = str(UPSTREAM_KEYS / "inge6_NaCl.pub")
    assert isinstance(keys.access_token_signing_key(), RSAPrivateKey)
    assert isinstance(keys.inge6_jwt_public_key(), RSAPublicKey)
    assert keys.inge4_nacl_private_key() == "xvHbPMOHJ+cwT8wZImTDXjt0k3vIxA412uo8xn8+GUg="  # newline stripped
    assert len(base64.b64decode(keys.inge6_nacl_public_key())) == 32


def test_files_are_read_once(settings, tmp_path):
    path = tmp_path / "nacl"
    path.write_text(base64.b64encode(bytes(32)).decode() + "\n")
    settings.INGE4_NACL_PRIVATE_KEY_FILE = str(path)
    first = keys.inge4_nacl_private_key()
    path.write_text(base64.b64encode(bytes([1] * 32)).decode())
    assert keys.inge4_nacl_private_key() == first


@pytest.mark.parametrize("content", [b"not base64!", base64.b64encode(bytes(31))])
def test_bad_nacl_key_names_the_setting_not_the_value(settings, tmp_path, content):
    path = tmp_path / "nacl"
    path.write_bytes(content)
    settings.INGE6_NACL_PUBLIC_KEY_FILE = str(path)
    with pytest.raises(ConfigurationError) as excinfo:
        keys.inge6_nacl_public_key()
    assert "INGE6_NACL_PUBLIC_KEY_FILE" in str(excinfo.value)
    assert content.decode() not in str(excinfo.value)


def test_missing_and_wrong_kind_of_files(settings, tmp_path):
    settings.DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME = str(tmp_path / "absent")
    with pytest.raises(ConfigurationError, match="DYNAMIC_FLOW_JWT_PRIVATE_KEY_FILENAME"):
        keys.access_token_signing_key()
    settings.INGE6_JWT_PUBLIC_CRT_FILE = str(UPSTREAM_KEYS / "jwt_private.key")
    with pytest.raises(ConfigurationError, match="INGE6_JWT_PUBLIC_CRT_FILE"):
        keys.inge6_jwt_public_key()
    settings.INGE6_JWT_PUBLIC_CRT_FILE = ""
    with pytest.raises(ConfigurationError, match="not set"):
        keys.inge6_jwt_public_key()
