"""gabi wire encodings of the domestic signer (signers.md §2.1, §2.3, §2.4)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools.reference.gabi import (
    GabiDecodeError,
    attribute_int,
    credential_attributes,
    decode_big_int,
    dutch_base45_decode,
    dutch_base45_encode,
    encode_big_int,
    metadata_attribute,
)


def test_big_int_is_base64_of_the_magnitude():
    assert encode_big_int(0x0102) == "AQI="
    assert decode_big_int("+KJehErEby+hB1ZxpE1eGA==").bit_length() == 128


def test_big_int_reads_decimal_numbers_too():
    assert decode_big_int(258) == 258


@pytest.mark.parametrize("value", ["not base64!", None, 1.5, True, []])
def test_big_int_rejects_other_values(value):
    with pytest.raises(GabiDecodeError):
        decode_big_int(value)


@given(st.integers(min_value=0, max_value=2**2048))
def test_big_int_round_trip(value):
    assert decode_big_int(encode_big_int(value)) == value


def test_metadata_attribute_is_der_sequence_of_version_and_key_id():
    assert metadata_attribute(2, "TST-KEY-01") == bytes.fromhex("300f04010213") + bytes([10]) + b"TST-KEY-01"
    assert metadata_attribute(3, "TST-KEY-01")[4:5] == b"\x03"


def test_credential_attributes_follow_the_version_order():
    values = {
        "isSpecimen": "0",
        "isPaperProof": "1",
        "validFrom": "1622505600",
        "validForHours": "24",
        "firstNameInitial": "A",
        "lastNameInitial": "",
        "birthDay": "1",
        "birthMonth": "",
        "category": "2",
    }
    v3 = credential_attributes(3, "TST-KEY-01", values)
    assert v3[1:] == [b"0", b"1", b"1622505600", b"24", b"A", b"", b"1", b"", b"2"]
    assert len(credential_attributes(2, "TST-KEY-01", values)) == 9


def test_attribute_int_shifts_and_sets_the_low_bit():
    assert attribute_int(b"\x01") == 3
    assert attribute_int(b"") == 1


def test_dutch_base45_is_one_big_integer_in_radix_45():
    assert dutch_base45_encode(bytes([45])) == "10"
    assert dutch_base45_encode(bytes([44])) == ":"
    assert dutch_base45_decode("10") == bytes([45])


@given(st.binary(min_size=1, max_size=300).filter(lambda data: data[0] != 0))
def test_dutch_base45_round_trip(data):
    text = dutch_base45_encode(data)
    assert set(text) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert dutch_base45_decode(text) == data


def test_dutch_base45_rejects_other_characters():
    with pytest.raises(GabiDecodeError):
        dutch_base45_decode("abc")


def test_base64_sanity():
    assert base64.b64decode(encode_big_int(2**128 - 1)) == b"\xff" * 16
