"""Decoding one blob's payload: base64 rule, then UTF-8 JSON (events.md §1).

Both failures are 400s with a stable code (decision k); the error never echoes the input.
"""

from __future__ import annotations

import json
import re
from typing import Any

from common.base64rule import decode_base64
from common.errors import ServiceError


def payload_loc(blob_index: int) -> list[Any]:
    """`loc` of a blob's payload in this project's 400 bodies (api.md §9)."""
    return ["events", blob_index, "payload"]


def _reject_constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are not JSON (RFC 8259); Python's parser accepts them by default.
    raise ValueError("non-standard JSON constant")


# A \uD800–\uDFFF escape: only then can the parsed value hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _contains_lone_surrogate(value: Any) -> bool:
    """True when a key or string is not encodable as UTF-8 (a lone surrogate escape)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def decode_payload_bytes(payload: str, *, blob_index: int) -> bytes:
    """The payload bytes by the base64 rule (events.md §1); 400 `invalid_payload_encoding` otherwise."""
    try:
        return decode_base64(payload)
    except ValueError:
        raise ServiceError(400, "invalid_payload_encoding", "The payload is not valid base64.", payload_loc(blob_index)) from None


def parse_payload_json(data: bytes, *, blob_index: int) -> object:
    """The JSON value of UTF-8 payload bytes (events.md §1); 400 `invalid_payload_json` otherwise.

    Also refused as not JSON: NaN/Infinity constants, integers beyond Python's digit limit,
    nesting deeper than the parser can follow, and strings with a lone surrogate escape such as
    `"\\ud800"` (not Unicode text: it cannot be encoded as UTF-8 again further on).
    """
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant)
        if _SURROGATE_ESCAPE.search(text) and _contains_lone_surrogate(value):
            raise ValueError("lone surrogate")
        return value
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ServiceError(400, "invalid_payload_json", "The payload is not UTF-8 JSON.", payload_loc(blob_index)) from None


def decode_payload(payload: str, *, blob_index: int) -> tuple[bytes, object]:
    """Decode one blob's payload (events.md §1): the exact bytes (signed content) and the JSON value."""
    data = decode_payload_bytes(payload, blob_index=blob_index)
    return data, parse_payload_json(data, blob_index=blob_index)
