"""The HC1 pipeline of signers.md §3.3, checked byte by byte and with pycose."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from devtools.reference import hcert
from devtools.reference.hcert import (
    SPECIMEN_EXPIRATION_TIME,
    SigningError,
    dcc_to_cbor_map,
    parse_expiration_time,
    protected_header,
    sign_dcc,
    sign_es256,
)

NOW = datetime(2021, 7, 1, 12, 0, 30, tzinfo=UTC)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def cose_of(credential: str) -> bytes:
    assert credential.startswith("HC1:")
    compressed = base45.b45decode(credential[4:])
    assert compressed[:2] == b"\x78\xda"  # zlib level 9
    return zlib.decompress(compressed)


def test_kid_of_the_test_dsc(test_dsc):
    assert test_dsc.kid.hex() == "d6a9d5d2d6d1dcc4"


def test_protected_header_bytes(test_dsc):
    assert protected_header(test_dsc.kid) == bytes.fromhex("a20448d6a9d5d2d6d1dcc40126")


def test_credential_structure(test_dsc, vaccination_dcc):
    signed = sign_dcc(vaccination_dcc, key=test_dsc, expiration_time="2021-12-10T19:20:21+00:00", now=NOW)
    tagged = cbor2.loads(cose_of(signed.credential))
    assert tagged.tag == 18
    protected, unprotected, payload, signature = tagged.value
    assert protected == bytes.fromhex("a20448d6a9d5d2d6d1dcc40126")
    assert unprotected == {}
    assert len(signature) == 64
    assert list(cbor2.loads(payload)) == [1, 4, 6, -260]
    claims = cbor2.loads(payload)
    assert claims[1] == "NL"
    assert claims[4] == int(datetime(2021, 12, 10, 19, 20, 21, tzinfo=UTC).timestamp())
    assert claims[6] == int(NOW.timestamp()) - 3600
    assert claims[-260][1] == vaccination_dcc
    assert signed.proof_identifier == base64.b64encode(hashlib.sha256(signature).digest()[:16]).decode()


def test_signature_verifies_with_pycose(test_dsc, vaccination_dcc):
    signed = sign_dcc(vaccination_dcc, key=test_dsc, expiration_time="2030-01-01T00:00:00Z", now=NOW)
    message = Sign1Message.decode(cose_of(signed.credential))
    numbers = test_dsc.certificate.public_key().public_numbers()
    message.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert message.verify_signature()


def test_tampered_payload_fails_pycose(test_dsc, vaccination_dcc):
    signed = sign_dcc(vaccination_dcc, key=test_dsc, expiration_time="2030-01-01T00:00:00Z", now=NOW)
    tagged = cbor2.loads(cose_of(signed.credential))
    claims = cbor2.loads(tagged.value[2])
    claims[4] += 1
    tagged.value[2] = cbor2.dumps(claims)
    message = Sign1Message.decode(cbor2.dumps(tagged))
    numbers = test_dsc.certificate.public_key().public_numbers()
    message.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert not message.verify_signature()


def test_specimen_expiration_is_42(test_dsc, vaccination_dcc):
    signed = sign_dcc(vaccination_dcc, key=test_dsc, expiration_time=SPECIMEN_EXPIRATION_TIME, now=NOW)
    assert signed.expiration == 42
    assert cbor2.loads(cbor2.loads(cose_of(signed.credential)).value[2])[4] == 42


def test_issuer_and_backdate_are_configurable(test_dsc, vaccination_dcc):
    signed = sign_dcc(
        vaccination_dcc, key=test_dsc, expiration_time="2030-01-01T00:00:00Z", now=NOW, issuer="BE", backdate_seconds=0
    )
    claims = cbor2.loads(cbor2.loads(cose_of(signed.credential)).value[2])
    assert (claims[1], claims[6]) == ("BE", int(NOW.timestamp()))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2021-12-10T19:20:21+00:00", 1639164021),
        ("2021-12-10T19:20:21Z", 1639164021),
        ("2021-12-10T20:20:21.999+01:00", 1639164021),
        ("1970-01-01T00:00:42+00:00", 42),
    ],
)
def test_parse_expiration_time(value, expected):
    assert parse_expiration_time(value) == expected


@pytest.mark.parametrize("value", ["2021-12-10", "2021-12-10T19:20:21", "tomorrow", "", 1639164021])
def test_unparsable_expiration_time_is_refused(value):
    with pytest.raises(SigningError):
        parse_expiration_time(value)


def test_dcc_map_orders_keys_and_drops_unknown_fields():
    dcc = {
        "v": [{"ci": "X", "tg": "840539006", "dn": 1, "sd": 2, "extra": "dropped"}],
        "nam": {"fnt": "BAR", "gnt": "FOO"},
        "dob": "1980",
        "ver": "1.3.0",
        "unknown": 1,
        "t": [],
    }
    result = dcc_to_cbor_map(dcc)
    assert list(result) == ["ver", "dob", "nam", "v"]
    assert result["nam"] == {"fn": "", "fnt": "BAR", "gn": "", "gnt": "FOO"}
    assert list(result["v"][0]) == ["tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "is", "ci"]
    assert result["v"][0]["dn"] == 1 and result["v"][0]["vp"] == ""


def test_dcc_map_writes_whole_float_doses_as_integers():
    entry = {"tg": "840539006", "dn": 2.0, "sd": 2.0}
    result = dcc_to_cbor_map({"ver": "1.3.0", "nam": {}, "dob": "", "v": [entry]})["v"][0]
    assert cbor2.dumps(result["dn"]) == b"\x02" and cbor2.dumps(result["sd"]) == b"\x02"


def test_dcc_map_test_entry_omits_empty_nm_and_ma_and_writes_tc():
    entry = {
        "tg": "840539006",
        "tt": "LP6464-4",
        "nm": "",
        "sc": "2021-06-01T10:00:00+02:00",
        "tr": "260415000",
        "co": "NL",
        "is": "Ministry",
        "ci": "URN:UVCI:01:NL:X",
    }
    result = dcc_to_cbor_map({"ver": "1.3.0", "nam": {}, "dob": "", "t": [entry]})["t"][0]
    assert list(result) == ["tg", "tt", "sc", "tr", "tc", "co", "is", "ci"]
    assert result["tc"] == ""


def test_dcc_map_recovery_entry_always_writes_df():
    entry = {"tg": "840539006", "fr": "2021-05-01", "co": "NL", "is": "M", "du": "2021-11-01", "ci": "X"}
    result = dcc_to_cbor_map({"ver": "1.3.0", "nam": {}, "dob": "", "r": [entry]})["r"][0]
    assert list(result) == ["tg", "fr", "co", "is", "df", "du", "ci"]
    assert result["df"] == ""


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_signatures_are_low_s_and_verify(data):
    key = ec.derive_private_key(123456789, ec.SECP256R1())
    signature = sign_es256(key, data)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    assert s <= P256_ORDER // 2
    key.public_key().verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))


def test_issuer_must_be_two_capitals(test_dsc, vaccination_dcc):
    with pytest.raises(ValueError):
        hcert.cwt_payload({}, issuer="nl", expiration=1, issued_at=0)
