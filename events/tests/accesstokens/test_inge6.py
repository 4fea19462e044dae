"""Tests of events/accesstokens/inge6.py (signers.md §4 steps 1, 2 and 4)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.public import Box, PrivateKey, PublicKey

from common.errors import ServiceError, UpstreamError
from events.accesstokens.inge6 import bearer_token, decrypt_bsn, verify_inge6_jwt

from .conftest import EVENTS, UPSTREAM_KEYS, read_json

INGE6_PUBLIC_PEM = (UPSTREAM_KEYS / "inge6_jwt_public.pem").read_bytes()
INGE4_PRIVATE = (UPSTREAM_KEYS / "inge4_NaCl").read_text()
INGE6_NACL_PUBLIC = (UPSTREAM_KEYS / "inge6_NaCl.pub").read_text()
REFERENCE_JWT, REFERENCE_BSN = read_json(EVENTS / "bsn_jwts.json")[0]
# Between the reference JWT's iat (1623066242) and exp (1623069842).
PINNED = datetime.fromtimestamp(1623066242 + 60, tz=UTC)
ISSUER = "https://tvs-connect.acc.coronacheck.nl"


def assert_invalid_token(excinfo):
    assert isinstance(excinfo.value, UpstreamError)
    assert excinfo.value.status == 401
    assert excinfo.value.body() == {"detail": ["Invalid Authorization Token"]}


# --- step 1: bearer header ------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Bearer", "bearer abc", "Basic abc", "Bearerabc", " Bearer abc"])
def test_header_without_bearer_prefix_is_invalid_token_type(header):
    with pytest.raises(UpstreamError) as excinfo:
        bearer_token(header)
    assert excinfo.value.status == 401
    assert excinfo.value.body() == {"detail": ["Invalid Authorization Token type"]}


def test_bearer_token_strips_surrounding_whitespace():
    assert bearer_token("Bearer  abc.def.ghi \t") == "abc.def.ghi"


def test_bearer_with_only_whitespace_is_an_invalid_token():
    with pytest.raises(UpstreamError) as excinfo:
        bearer_token("Bearer   ")
    assert_invalid_token(excinfo)


# --- step 2: JWT check --------------------------------------------------------------------------


def test_reference_jwt_verifies_with_pinned_clock():
    claims = verify_inge6_jwt(REFERENCE_JWT, public_key_pem=INGE6_PUBLIC_PEM, audiences=["test_client"], issuer="", now=PINNED)
    assert claims["aud"] == ["test_client"]


def test_reference_jwt_verifies_with_configured_issuer():
    claims = verify_inge6_jwt(
        REFERENCE_JWT,
        public_key_pem=INGE6_PUBLIC_PEM,
        audiences=["other", "test_client"],
        issuer=ISSUER,
        now=PINNED,
    )
    assert claims["iss"] == ISSUER


@pytest.mark.parametrize(
    ("audiences", "issuer", "now"),
    [
        (["cc_app"], "", PINNED),  # wrong audience
        ([], "", PINNED),  # no audience configured
        (["test_client"], "https://other.example", PINNED),  # wrong issuer
        (["test_client"], "", datetime.fromtimestamp(1623069842, tz=UTC)),  # expired (exp == now)
        (["test_client"], "", datetime.fromtimestamp(1623066242 - 10, tz=UTC)),  # iat in the future
    ],
)
def test_reference_jwt_refused(audiences, issuer, now):
    with pytest.raises(UpstreamError) as excinfo:
        verify_inge6_jwt(REFERENCE_JWT, public_key_pem=INGE6_PUBLIC_PEM, audiences=audiences, issuer=issuer, now=now)
    assert_invalid_token(excinfo)


def test_reference_jwt_with_wrong_key_refused():
    other = (UPSTREAM_KEYS / "inge6_jwt_public.crt").read_bytes()
    with pytest.raises(UpstreamError) as excinfo:
        verify_inge6_jwt(REFERENCE_JWT, public_key_pem=other, audiences=["test_client"], issuer="", now=PINNED)
    assert_invalid_token(excinfo)


NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
OWN_PRIVATE = (UPSTREAM_KEYS / "inge6_jwt_private.key").read_bytes()
OWN_PUBLIC = (UPSTREAM_KEYS / "inge6_jwt_public.crt").read_bytes()


def mint(claims, *, key=OWN_PRIVATE, algorithm="RS256", headers=None):
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def base_claims(**overrides):
    ts = int(NOW.timestamp())
    claims = {"aud": "cc_app", "iss": "inge6", "iat": ts - 10, "nbf": ts - 10, "exp": ts + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def verify(token, issuer="inge6"):
    return verify_inge6_jwt(token, public_key_pem=OWN_PUBLIC, audiences=["cc_app"], issuer=issuer, now=NOW)


def test_fresh_token_verifies():
    assert verify(mint(base_claims()))["aud"] == "cc_app"


def test_token_without_iss_verifies_when_no_issuer_configured():
    assert verify(mint(base_claims(iss=None)), issuer="")["aud"] == "cc_app"


@pytest.mark.parametrize(
    "claims",
    [
        base_claims(exp=None),  # no exp
        base_claims(exp="never"),  # exp not a number
        base_claims(exp=True),
        base_claims(exp=int(NOW.timestamp()) - 1),  # expired
        base_claims(nbf=int(NOW.timestamp()) + 60),  # not yet valid
        base_claims(iat=int(NOW.timestamp()) + 60),  # issued in the future
        base_claims(aud="someone-else"),
        base_claims(aud=None),
        base_claims(iss=None),  # issuer configured but absent
        base_claims(iss="evil"),
    ],
)
def test_bad_claims_are_invalid_tokens(claims):
    with pytest.raises(UpstreamError) as excinfo:
        verify(mint(claims))
    assert_invalid_token(excinfo)


def test_audience_list_needs_one_match():
    assert verify(mint(base_claims(aud=["x", "cc_app"])))["aud"] == ["x", "cc_app"]


def test_other_signing_key_is_refused():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(UpstreamError) as excinfo:
        verify(mint(base_claims(), key=pem))
    assert_invalid_token(excinfo)


def test_other_algorithms_are_refused():
    unsigned = jwt.encode(base_claims(), None, algorithm="none")
    for token in (unsigned, "garbage", "a.b.c", ""):
        with pytest.raises(UpstreamError) as excinfo:
            verify(token)
        assert_invalid_token(excinfo)


def test_rs512_is_refused():
    with pytest.raises(UpstreamError) as excinfo:
        verify(mint(base_claims(), algorithm="RS512"))
    assert_invalid_token(excinfo)


# --- step 4: the BSN box ------------------------------------------------------------------------


def inge6_answer(plaintext: bytes, nonce: bytes = bytes(range(24))) -> str:
    """What Inge-6 sends: base64(nonce || box). The box is symmetric, so the reference keys make it."""
    box = Box(PrivateKey(base64.b64decode(INGE4_PRIVATE)), PublicKey(base64.b64decode(INGE6_NACL_PUBLIC)))
    return base64.b64encode(bytes(box.encrypt(plaintext, nonce))).decode()


def decrypt(body: str) -> str:
    return decrypt_bsn(body, private_key_b64=INGE4_PRIVATE, inge6_public_key_b64=INGE6_NACL_PUBLIC)


def test_reference_bsn_decrypts():
    # bsn_jwts.json holds [JWT, BSN] pairs only (no encrypted body), so the body is made here.
    assert decrypt(inge6_answer(REFERENCE_BSN.encode())) == REFERENCE_BSN


def test_whitespace_in_body_is_removed():
    body = inge6_answer(b"999999138")
    assert decrypt(body[:10] + "\n" + body[10:] + "\r\n") == "999999138"


@pytest.mark.parametrize(
    "body",
    [
        "",  # empty
        "not base64!",
        "AAAA",  # too short for nonce and box
        base64.b64encode(bytes(80)).decode(),  # not a box
        base64.b64encode(bytes(range(24)) + bytes(30)).decode(),
    ],
)
def test_bad_bodies_are_bad_responses(body):
    with pytest.raises(ServiceError) as excinfo:
        decrypt(body)
    assert (excinfo.value.status, excinfo.value.code) == (502, "downstream_bad_response")


@pytest.mark.parametrize("plaintext", [b"", b"12a4", "１２３".encode(), b" 123", b"123\n"])
def test_plaintext_must_be_ascii_digits(plaintext):
    with pytest.raises(ServiceError) as excinfo:
        decrypt(inge6_answer(plaintext))
    assert excinfo.value.code == "downstream_bad_response"


def test_tampered_box_is_refused():
    raw = bytearray(base64.b64decode(inge6_answer(b"999999138")))
    raw[-1] ^= 1
    with pytest.raises(ServiceError):
        decrypt(base64.b64encode(bytes(raw)).decode())


def test_expiry_exactly_now_is_expired():
    with pytest.raises(UpstreamError):
        verify(mint(base_claims(exp=int(NOW.timestamp()))))
    assert verify(mint(base_claims(exp=int((NOW + timedelta(seconds=1)).timestamp()))))
