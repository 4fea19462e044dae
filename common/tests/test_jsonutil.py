"""`common.jsonutil.dumps_bytes` writes the standard library's bytes (orjson where it writes the same)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from common.jsonutil import ParsedFloat, dumps_bytes, loads


def stdlib(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


EVERY_CHARACTER = "".join(chr(code) for code in range(0xD800)) + "".join(chr(code) for code in range(0xE000, 0x110000, 7))


@pytest.mark.parametrize(
    "value",
    [
        EVERY_CHARACTER,
        {EVERY_CHARACTER[:300]: EVERY_CHARACTER[300:900]},
        [0, 1, -1, 2**63 - 1, -(2**63), True, False, None, "", [], {}, (1, "a")],
        {"credentialsAttributes": [{"isSpecimen": "0", "firstNameInitial": "É"}] * 30, "credentialVersion": 3},
        2**64,  # beyond orjson's integers
        {1: "a key that is not a string"},
        [1.5, 0.1, -2.25e300, 1e16],
        loads('{"tiny": 1e-05, "small": -3.5e-7, "zero": 0.0, "n": [1e-10, 12.5]}'),
        loads('{"nan": NaN, "inf": Infinity, "-inf": [-Infinity]}'),
    ],
)
def test_the_bytes_are_the_standard_librarys(value):
    assert dumps_bytes(value) == stdlib(value)


def test_floats_read_from_outside_are_written_as_the_standard_library_writes_them():
    value = loads('{"a": 1e-05, "b": 2}')
    assert isinstance(value["a"], ParsedFloat) and value["a"] == 1e-05
    assert dumps_bytes(value) == b'{"a":1e-05,"b":2}'


@pytest.mark.parametrize("value", ["\ud800", {"a": ["\udfff"]}])
def test_a_lone_surrogate_fails_as_before(value):
    with pytest.raises(UnicodeEncodeError):
        stdlib(value)
    with pytest.raises(UnicodeEncodeError):
        dumps_bytes(value)


def test_what_the_standard_library_refuses_is_refused():
    with pytest.raises(TypeError):
        dumps_bytes({"at": datetime(2026, 1, 1, tzinfo=UTC)})


def shape(value):
    """A parsed document with its numbers left out: what a shape check can see."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "<number>"
    return value


SHAPE_DOCUMENTS = [
    b'[{"issueSignatureMessage": {"proof": {"c": "AA==", "e_response": "AA=="}, '
    b'"signature": {"A": "AA==", "KeyshareP": null}}, "attributes": ["AQ==", "x"]}]',
    b'{"a": 1, "a": [true, false, null]}',
    b'{"n": 123456789012345678901234567890, "m": -0.0, "e": 1E5, "big": 1e308}',
    b'{"too big": 1e400}',
    b"[NaN]",
    b"[Infinity, -Infinity]",
    b'["\\ud800"]',
    b'["\\ud83d\\ude00", "\\u0000", "\\/", "\xc3\xa9"]',
    b'"\xff"',
    b'\xef\xbb\xbf{"bom": true}',
    '{"utf16": "\u00e9"}'.encode("utf-16"),
    '{"utf32": []}'.encode("utf-32-le"),
    b'["raw \x01 control"]',
    b" \n\t[ ] \r\n",
    b"",
    b"[1,]",
    b'{"a" 1}',
    b"[1] [2]",
    b"'single'",
    b"[" * 500 + b"]" * 500,
    b'{"deep": ' + b"[" * 2000 + b"]" * 2000 + b"}",
]


@pytest.mark.parametrize("document", SHAPE_DOCUMENTS, ids=range(len(SHAPE_DOCUMENTS)))
def test_a_shape_is_read_as_the_standard_library_reads_it(document):
    from common.jsonutil import loads_shape

    try:
        expected = ("parsed", shape(json.loads(document)))
    except (ValueError, RecursionError) as exc:
        expected = ("refused", type(exc) if isinstance(exc, RecursionError) else ValueError)
    try:
        got = ("parsed", shape(loads_shape(document)))
    except (ValueError, RecursionError) as exc:
        got = ("refused", type(exc) if isinstance(exc, RecursionError) else ValueError)
    assert got == expected


def test_a_nesting_the_standard_library_has_no_stack_for_is_read_by_orjson():
    from common.jsonutil import loads_shape
    from signing.clients import _json_or_none

    document = b"[" * 1010 + b"]" * 1010
    with pytest.raises(RecursionError):
        json.loads(document)
    assert _json_or_none(document) is None  # 502, not a bare 500
    parsed = loads_shape(document)
    depth = 0
    while parsed:
        parsed, depth = parsed[0], depth + 1
    assert depth == 1009
