"""Compact JSON encoding of outbound request bodies, reading JSON that is sent on, and reading a
downstream answer whose shape alone is checked.

`dumps_bytes` writes the bytes of `json.dumps(value, separators=(",", ":"), ensure_ascii=False)`
in UTF-8, with orjson: the domestic signer's body of a credentials request (~13 KB, the issue
commitment message with it) took ~74 µs with the standard library and takes ~5 µs with orjson
(benchmarks/PROFILE.md). The two write the same bytes for strings (every character, escapes
included), integers, booleans, None, lists, tuples and dicts with string keys
(`common/tests/test_jsonutil.py`). Where they differ or orjson refuses, the standard library
writes the value:

- integers beyond 64 bits, keys that are not strings, strings with a lone surrogate (the
  standard library then raises as before), datetimes, dataclasses and subclasses of the built-in
  types: orjson refuses them here and the standard library takes over;
- orjson writes `uuid.UUID`s and enum members, which the standard library refuses: the bodies
  hold none;
- floats between -1e-4 and 1e-4 (orjson writes 1e-05 as 0.00001), NaN and Infinity (orjson
  writes null): the JSON read from outside and sent on (`loads`) keeps its floats as
  `ParsedFloat`, a subclass, so such a value goes to the standard library; the bodies this
  service builds itself hold no floats.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# Subclasses (`ParsedFloat`), datetimes and dataclasses are refused, not written by orjson.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class ParsedFloat(float):
    """A number with a fraction or an exponent read by `loads`."""

    __slots__ = ()


def loads(text: str | bytes, **hooks: Any) -> Any:
    """`json.loads(text)` for JSON that is sent on: its floats, NaN and Infinity included, are
    `ParsedFloat`s (see above; orjson would write NaN and Infinity as null)."""
    hooks.setdefault("parse_float", ParsedFloat)
    hooks.setdefault("parse_constant", ParsedFloat)
    return json.loads(text, **hooks)


def dumps_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads_shape(content: bytes) -> Any:
    """The JSON document `content` for a check of its shape (objects, arrays, strings, booleans,
    null; not the numbers): orjson's parse, or where orjson refuses the text (NaN, Infinity, a
    lone surrogate escape, a number out of a double's range, a byte-order mark or a UTF-16/32
    text, invalid JSON), `json.loads`'s, which accepts or refuses it as before. orjson refuses no
    text the standard library accepts with other objects, arrays, strings, booleans or nulls: it
    differs only in the numbers (an integer beyond 64 bits is a float), so a shape check sees the
    same answer; and it reads nesting up to 1,024 levels, where the standard library runs out of
    stack (`RecursionError`) somewhat below 1,000. The domestic signer's answer of a credentials
    request (~7–50 KB) took 33–69 µs to parse and takes 19–34 µs (benchmarks/PROFILE.md);
    `common/tests/test_jsonutil.py` compares."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)
