"""Tests for common/base64rule.py (events.md §1, base64 rule)."""

import base64
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.base64rule import decode_base64


def test_plain_padded_input_decodes():
    assert decode_base64("QUJDRA==") == b"ABCD"
    assert decode_base64("QUJDREU=") == b"ABCDE"
    assert decode_base64("QUJDREVG") == b"ABCDEF"
    assert decode_base64("QUJ=") == b"AB"
    assert decode_base64("QQ==") == b"A"


def test_empty_input_decodes_to_empty_bytes():
    assert decode_base64("") == b""


@pytest.mark.parametrize("width", [64, 76])
def test_line_wrapped_input_decodes(width):
    data = os.urandom(300)
    text = base64.b64encode(data).decode()
    wrapped = "\n".join(text[i : i + width] for i in range(0, len(text), width)) + "\n"
    assert decode_base64(wrapped) == data
    assert decode_base64(wrapped.replace("\n", "\r\n")) == data


def test_whitespace_anywhere_is_removed():
    assert decode_base64(" Q U\tJ\rD\nR A = = ") == b"ABCD"


@pytest.mark.parametrize(
    "text",
    [
        "QUJDRA=",  # length not a multiple of 4
        "QUJDRA",  # missing padding
        "QUJ",
        "QU=DRA==",  # misplaced padding
        "=QUJDRA=",
        "QQ==QQ==",  # padding in the middle
        "Q===",  # too much padding
        "QUJDR===",
        "QUJDRA===",
        "====",
        "QUJD*A==",  # character outside the alphabet
        "QUJD.RA=",
        "QUJDRA==\x00",
        "QUJD\x0bRA==",  # vertical tab is not one of the four whitespace characters
        "QUJD\x0cRA==",  # form feed neither
        "QUJD\u00a0RA==",  # nor a non-ASCII space
        "QUJDRé==",
    ],
)
def test_invalid_input_is_refused(text):
    with pytest.raises(ValueError):
        decode_base64(text)


def test_url_safe_alphabet_is_refused():
    data = bytes([0xFB, 0xFF, 0xBF])
    assert decode_base64(base64.b64encode(data).decode()) == data  # "+/+/"
    with pytest.raises(ValueError):
        decode_base64(base64.urlsafe_b64encode(data).decode())  # "-_-_"


def test_non_string_is_refused():
    with pytest.raises(ValueError):
        decode_base64(b"QUJDRA==")  # type: ignore[arg-type]


def test_error_message_does_not_echo_the_input():
    with pytest.raises(ValueError) as info:
        decode_base64("secret*payload==")
    assert "secret" not in str(info.value)


@given(st.binary(max_size=200))
def test_standard_encoding_round_trips(data):
    assert decode_base64(base64.b64encode(data).decode()) == data


@given(st.text(alphabet="AQgw+/=- \t\r\n*é", max_size=24))
def test_any_text_decodes_or_raises_value_error(text):
    try:
        result = decode_base64(text)
    except ValueError:
        return
    compact = "".join(ch for ch in text if ch not in " \t\r\n")
    assert len(compact) % 4 == 0
    assert set(compact) <= set("AQgw+/=")
    assert len(result) == len(compact) // 4 * 3 - compact.count("=")
