"""Tests of `events/decoding/envelope.py`: the base64 rule and UTF-8 JSON (events.md §1)."""

from __future__ import annotations

import base64
import json
import textwrap

import pytest

from common.errors import ServiceError
from events.decoding.envelope import decode_payload

DOCUMENT = {"protocolVersion": "3.0", "providerIdentifier": "ZZZ", "name": "Ĳsbrand ✓"}
RAW = json.dumps(DOCUMENT, ensure_ascii=False).encode("utf-8")
ENCODED = base64.b64encode(RAW).decode("ascii")


def test_valid_payload_gives_exact_bytes_and_json() -> None:
    data, document = decode_payload(ENCODED, blob_index=0)
    assert data == RAW
    assert document == DOCUMENT


@pytest.mark.parametrize(
    "wrapped",
    [
        "\n".join(textwrap.wrap(ENCODED, 76)) + "\n",  # `base64`
        "\r\n".join(textwrap.wrap(ENCODED, 64)),  # `openssl base64`, CRLF
        " \t" + ENCODED + " ",
    ],
)
def test_ascii_whitespace_anywhere_is_removed(wrapped: str) -> None:
    assert decode_payload(wrapped, blob_index=0)[0] == RAW


@pytest.mark.parametrize(
    "payload",
    [
        ENCODED[:-1],  # length not a multiple of 4
        ENCODED.rstrip("=") if ENCODED.endswith("=") else ENCODED[:-2] + "==",  # padding missing/misplaced
        "AA==AA==",  # padding in the middle
        ENCODED[:8] + "-_" + ENCODED[10:],  # URL-safe alphabet
        ENCODED[:8] + "\u00a0" + ENCODED[8:],  # non-ASCII whitespace is not discarded
        ENCODED[:8] + "\v" + ENCODED[8:],  # vertical tab is not in the whitespace list
        "@@@@",
    ],
)
def test_bad_base64_is_invalid_payload_encoding(payload: str) -> None:
    with pytest.raises(ServiceError) as raised:
        decode_payload(payload, blob_index=3)
    assert (raised.value.status, raised.value.code, raised.value.loc) == (
        400,
        "invalid_payload_encoding",
        ["events", 3, "payload"],
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe{}",  # not UTF-8
        b'{"a": "\xc3"}',  # truncated UTF-8 sequence
        b"{",  # not JSON
        b"",  # empty
        b"NaN",  # not a JSON constant
        b'{"a": Infinity}',
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the parser follows
        b'{"a": ' + b"9" * 5000 + b"}",  # beyond Python's int digit limit
        "\ufeff{}".encode("utf-8"),  # UTF-8 BOM
    ],
)
def test_bad_utf8_or_json_is_invalid_payload_json(data: bytes) -> None:
    with pytest.raises(ServiceError) as raised:
        decode_payload(_b64(data), blob_index=1)
    assert (raised.value.status, raised.value.code, raised.value.loc) == (400, "invalid_payload_json", ["events", 1, "payload"])


def test_error_detail_does_not_echo_the_payload() -> None:
    with pytest.raises(ServiceError) as raised:
        decode_payload(_b64(b'{"firstName": "Geheim'), blob_index=0)
    assert "Geheim" not in json.dumps(raised.value.body())


@pytest.mark.parametrize("value", ["[]", '"text"', "42", "null"])
def test_json_values_that_are_not_objects_still_decode(value: str) -> None:
    # Protocol detection (§3) turns them into a 422; decoding itself accepts any JSON value.
    assert decode_payload(_b64(value.encode()), blob_index=0)[1] == json.loads(value)
