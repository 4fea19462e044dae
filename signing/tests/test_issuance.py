"""The issue commitment message check of signing/issuance.py (api.md §5 step 5)."""

from __future__ import annotations

import base64
import json

import pytest

from common import errors
from signing.issuance import issue_commitment_message_decode


def former_decode(text: str) -> dict | None:
    """The check as it was before the parser refused the numbers: decode, then encode once more."""
    try:
        value = json.loads(base64.b64decode(text).decode("utf-8"))
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@pytest.mark.parametrize(
    "json_text",
    [
        '{"n_2": "abc", "combinedProofs": [{"U": "x", "c": 1}]}',
        '{"a": 1.5, "b": -0.0, "c": 1e300, "d": 12345678901234567890123}',
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": [-Infinity]}',
        '{"a": 1e400}',
        '{"a": -1e400}',
        '{"a": "\\ud800"}',
        '{"\\udfff": 1}',
        '{"a": "\\ud83d\\ude00 \\u00e9 \\\\u"}',
        '{"a": "\\\\ud800"}',
        '["not", "an", "object"]',
        '"text"',
        "{",
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_the_issue_commitment_message_is_accepted_exactly_as_before(json_text):
    text = base64.b64encode(json_text.encode("utf-8")).decode("ascii")
    expected = former_decode(text)
    if expected is None:
        with pytest.raises(errors.ServiceError) as refused:
            issue_commitment_message_decode(text)
        assert refused.value.code == "invalid_issue_commitment_message"
    else:
        assert issue_commitment_message_decode(text) == expected


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(errors.ServiceError):
        issue_commitment_message_decode(base64.b64encode(b'{"a": "\xff"}').decode("ascii"))
