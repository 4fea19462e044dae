"""Tests of events/accesstokens/identity.py against the reference vectors (access-tokens.md §2–§4)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from nacl.public import Box, PrivateKey, PublicKey

from events.accesstokens.identity import (
    birth_day_digits,
    encrypt_bsn_for_provider,
    identity_hash,
    identity_message,
    provider_jwts,
    unix_seconds,
)

from .conftest import EVENTS, UPSTREAM_KEYS, read_json

FORMAT_SECRET = "735770c3112175051c99c3e2c3023ab7ed99f98c965c4e15a7c01da7370c5717"
# The fixed clock and nonce of event_data_provider_jwt.json, read off its own claims:
# iat = 1580601600 (2020-02-02T00:00:00Z), nonce hex = ASCII "012345678901234567890123".
EXAMPLE_NOW = datetime(2020, 2, 2, 0, 0, 0, 123456, tzinfo=UTC)
EXAMPLE_NONCE = b"012345678901234567890123"
EXAMPLE_BSN = "999999138"


@dataclass
class Holder:
    first_name: str
    last_name: str
    birth_date: str


def signing_key():
    return serialization.load_pem_private_key((UPSTREAM_KEYS / "jwt_private.key").read_bytes(), password=None)


def test_format_vector():
    holder = Holder("Naomi", "Goede", "1987-04-01")
    assert identity_message("999999138", holder) == "999999138-Naomi-Goede-01"
    assert identity_hash(FORMAT_SECRET, "999999138", holder) == (
        "e74bd4ced20748704a6526ac63ece6b8c9fa96a08aedd280573071b186ecf939"
    )


VECTORS = read_json(EVENTS / "identity_hashes.json")


@pytest.mark.parametrize("key", sorted(VECTORS))
def test_identity_hash_vectors(key):
    vector = VECTORS[key]
    h = vector["holder"]
    holder = Holder(h["firstName"], h["lastName"], h["birthDate"])
    assert identity_message(vector["bsn"], holder) == vector["identity"]
    assert identity_hash(FORMAT_SECRET, vector["bsn"], holder) == vector["hash"]


def test_vectors_are_all_there():
    assert len(VECTORS) == 52


@pytest.mark.parametrize(
    ("birth_date", "digits"),
    [("1960-01-01", "01"), ("1960-40-50", "50"), ("1983-12-XX", "00"), ("1900-XX-XX", "00"), ("1971-XX-07", "07")],
)
def test_birth_day_digits(birth_date, digits):
    assert birth_day_digits(birth_date) == digits


def test_secret_is_utf8_text_not_hex():
    holder = Holder("Naomi", "Goede", "1987-04-01")
    assert identity_hash(FORMAT_SECRET, "999999138", holder) != identity_hash(
        bytes.fromhex(FORMAT_SECRET).decode("latin-1"), "999999138", holder
    )


def test_names_are_not_trimmed():
    plain = Holder("Naomi", "Goede", "1987-04-01")
    padded = Holder("Naomi", "Goede\n   ", "1987-04-01")
    assert identity_hash(FORMAT_SECRET, "1", plain) != identity_hash(FORMAT_SECRET, "1", padded)


def test_bsn_box_is_openable_by_the_provider(upstream_provider):
    nonce = bytes(range(24))
    ciphertext_hex, nonce_hex = encrypt_bsn_for_provider(
        EXAMPLE_BSN, upstream_provider.bsn_public_key, upstream_provider.bsn_private_key, nonce
    )
    assert nonce_hex == nonce.hex()
    assert len(bytes.fromhex(ciphertext_hex)) == 25
    assert ciphertext_hex == ciphertext_hex.lower()
    box = Box(
        PrivateKey(base64.b64decode(upstream_provider.bsn_private_key)),
        PublicKey(base64.b64decode(upstream_provider.bsn_public_key)),
    )
    assert box.decrypt(bytes.fromhex(ciphertext_hex), nonce) == EXAMPLE_BSN.encode()


def test_bsn_box_refuses_short_nonce(upstream_provider):
    with pytest.raises(ValueError):
        encrypt_bsn_for_provider("1", upstream_provider.bsn_public_key, upstream_provider.bsn_private_key, b"x" * 23)


def test_example_response_reproduces_byte_for_byte(upstream_provider):
    expected = read_json(EVENTS / "event_data_provider_jwt.json")
    element = provider_jwts(
        upstream_provider,
        bsn=EXAMPLE_BSN,
        holder=Holder("Naomi", "Goede", "1987-04-01"),
        signing_key=signing_key(),
        issuer="jwt.test.coronacheck.nl",
        validity_seconds=86400,
        now=EXAMPLE_NOW,
        nonce=EXAMPLE_NONCE,
    )
    assert [element] == expected
    assert list(element) == ["provider_identifier", "unomi", "event"]


def test_tokens_verify_with_the_public_key(upstream_provider):
    element = provider_jwts(
        upstream_provider,
        bsn=EXAMPLE_BSN,
        holder=Holder("A", "B", "2000-01-XX"),
        signing_key=signing_key(),
        issuer="iss.example",
        validity_seconds=60,
        now=datetime(2030, 1, 1, tzinfo=UTC),
        nonce=bytes(24),
    )
    public = (UPSTREAM_KEYS / "jwt_public.crt").read_bytes()
    event = jwt.decode(
        element["event"],
        public,
        algorithms=["RS256"],
        audience=upstream_provider.event_url,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert event["exp"] - event["iat"] == 60
    assert event["roleIdentifier"] == "01"
    header = base64.urlsafe_b64decode(element["unomi"].split(".")[0] + "==")
    assert header == b'{"typ":"JWT","alg":"RS256"}'
    unomi_payload = json.loads(base64.urlsafe_b64decode(element["unomi"].split(".")[1] + "=="))
    assert list(unomi_payload) == ["aud", "exp", "iat", "identityHash", "iss", "nbf"]


def test_unix_seconds_drops_fractions_and_needs_aware_datetimes():
    assert unix_seconds(EXAMPLE_NOW) == 1580601600
    with pytest.raises(ValueError):
        unix_seconds(datetime(2020, 1, 1))
