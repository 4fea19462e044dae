"""idemix.encoding: the wire formats of §2.1, §2.3, §2.4 and §2.7."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idemix import encoding
from idemix.encoding import EncodingError


def _reference_radix45(data: bytes) -> str:
    number, digits = int.from_bytes(data, "big"), ""
    while number:
        number, remainder = divmod(number, 45)
        digits = encoding.QR_ALPHABET[remainder] + digits
    return digits


def test_big_int_base64() -> None:
    assert encoding.decode_big_int("+KJehErEby+hB1ZxpE1eGA==").bit_length() == 128
    assert encoding.encode_big_int(0) == ""
    assert encoding.encode_big_int(255) == "/w=="
    assert encoding.encode_big_int(65537) == "AQAB"
    assert encoding.decode_big_int("AQAB") == 65537
    assert encoding.decode_big_int(12345) == 12345


@pytest.mark.parametrize(
    ("value", "message"),
    [("AQ!B", "illegal base64 data at input byte 2"), ("AQA", "illegal base64 data"), (-1, "negative"), (True, "not a big")],
)
def test_big_int_rejects(value: object, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        encoding.decode_big_int(value)


@given(st.integers(min_value=0, max_value=2**4096))
def test_big_int_round_trip(value: int) -> None:
    assert encoding.decode_big_int(encoding.encode_big_int(value)) == value


def test_metadata_attribute_matches_the_spec_bytes() -> None:
    assert encoding.metadata_attribute(3, "testPk").hex() == "300b040103130674657374506b"
    assert encoding.decode_metadata_attribute(encoding.metadata_attribute(2, "TST-KEY-01")) == (2, "TST-KEY-01")
    with pytest.raises(ValueError, match="PrintableString"):
        encoding.metadata_attribute(2, "key_with_underscore")
    with pytest.raises(EncodingError, match="Could not unmarshal metadata attribute"):
        encoding.decode_metadata_attribute(b"\x04\x01\x02")


def test_attribute_order_and_ints() -> None:
    assert encoding.ATTRIBUTE_NAMES[3][-1] == "category"
    assert encoding.ATTRIBUTE_NAMES[3][:-1] == encoding.ATTRIBUTE_NAMES[2]
    assert encoding.attribute_int(b"") == 1
    assert encoding.attribute_int(b"A") == (0x41 << 1) | 1
    assert encoding.decode_attribute_int(encoding.attribute_int(b"hello")) == b"hello"
    assert encoding.decode_attribute_int(0x82) == b""  # even: an absent optional attribute
    values = dict.fromkeys(encoding.ATTRIBUTE_NAMES[2], "x")
    attributes = encoding.credential_attributes(2, "TST-KEY-01", values)
    assert len(attributes) == 9 and attributes[1:] == [b"x"] * 8
    with pytest.raises(KeyError):
        encoding.credential_attributes(3, "TST-KEY-01", values)


@given(st.binary(min_size=1, max_size=1200).filter(lambda data: data[0] != 0))
def test_dutch_base45_round_trip_and_reference(data: bytes) -> None:
    text = encoding.dutch_base45_encode(data)
    assert text == _reference_radix45(data)
    assert encoding.dutch_base45_decode(text) == data


def test_dutch_base45_rejects_foreign_characters() -> None:
    with pytest.raises(EncodingError, match="not alphanumeric"):
        encoding.dutch_base45_decode("ab")
    assert encoding.dutch_base45_encode(b"\x2d") == "10"


@pytest.mark.parametrize(
    ("qr", "error"),
    [
        ("NL:ABC", "QR is not prefixed as an NL entry proof"),
        ("NL:", "abnormally short"),
        ("HC1:ABC", "QR is not prefixed as an NL entry proof"),
        ("NLx:ABC", "invalid context id byte"),
    ],
)
def test_split_qr_rejects(qr: str, error: str) -> None:
    assert not encoding.has_nl_prefix(qr)
    with pytest.raises(EncodingError, match=error):
        encoding.split_qr(qr)


def test_split_and_format_qr() -> None:
    assert encoding.split_qr("NL2:10") == ("2", "10")
    assert encoding.format_qr("3", b"\x2d") == "NL3:10"
    with pytest.raises(ValueError, match="zero-byte"):
        encoding.format_qr("2", b"\x00\x01")


@pytest.mark.parametrize(
    ("value", "der"),
    [(0, "020100"), (127, "02017f"), (128, "02020080"), (-1, "0201ff"), (-128, "020180"), (-129, "0202ff7f"), (256, "02020100")],
)
def test_der_integer(value: int, der: str) -> None:
    assert encoding.der_integer(value).hex() == der
    node, rest = encoding.parse_der(bytes.fromhex(der))
    assert node.integer() == value and rest == b""


@pytest.mark.parametrize("der", ["02020001", "0202ff80", "0200", "02810101", "0280"])
def test_der_rejects_non_minimal_or_broken(der: str) -> None:
    with pytest.raises(EncodingError):
        node, _rest = encoding.parse_der(bytes.fromhex(der))
        node.integer()


def test_long_length_form() -> None:
    value = 1 << 2000
    node, _rest = encoding.parse_der(encoding.der_integer(value))
    assert node.integer() == value


def test_hash_commit_is_sha256_of_the_der_sequence() -> None:
    der = bytes.fromhex("300c020103020101020105020107")
    assert encoding.hash_commit([1, 5, 7]) == int.from_bytes(hashlib.sha256(der).digest(), "big")


def test_time_based_challenge_and_proof_identifier() -> None:
    assert encoding.time_based_challenge(0) == int.from_bytes(hashlib.sha256(b"0").digest()[:16], "big")
    assert encoding.time_based_challenge(1644320000) == int.from_bytes(hashlib.sha256(b"1644320000").digest()[:16], "big")
    assert encoding.proof_identifier(0x0102) == hashlib.sha256(b"\x01\x02").digest()[:16]


def test_serialized_proof_layouts() -> None:
    proof = encoding.SerializedProof(0, 5, 6, 7, -8, (9,), (10, 11))
    v2 = proof.to_der("2")
    v3 = proof.to_der("3")
    assert v2.hex() == "301a0201000201050201060201070201f8020109300602010a02010b"
    assert v3.hex() == "301c0201000201050201060201070201f83003020109300602010a02010b"
    assert encoding.SerializedProof.from_der(v2, "2") == proof
    assert encoding.SerializedProof.from_der(v3, "3") == proof
    with pytest.raises(EncodingError, match="Could not unmarshal v3 proof"):
        encoding.SerializedProof.from_der(v2, "3")
    with pytest.raises(ValueError, match="more than one hidden"):
        encoding.SerializedProof(0, 5, 6, 7, 8, (9, 10), (10,)).to_der("2")


def test_real_qr_payloads_reencode_byte_for_byte(vectors) -> None:  # type: ignore[no-untyped-def]
    for vector in vectors["vectors"]:
        version, payload = encoding.split_qr(vector["qr"])
        der = encoding.dutch_base45_decode(payload)
        proof = encoding.SerializedProof.from_der(der, version)
        assert proof.to_der(version) == der
        assert base64.b64encode(encoding.proof_identifier(proof.c)).decode() == vector["proof_identifier"]
