"""The issue commitment message check of signing/issuance.py (api.md §5 step 5)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from common import errors
from common.jsonutil import dumps_bytes
from signing.issuance import _gather_all, issue_commitment_message_decode


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
        decoded = issue_commitment_message_decode(text)
        assert decoded == expected
        assert repr(decoded) == repr(expected)  # -0.0 and 0.0 are equal; their reprs are not
        assert dumps_bytes(decoded) == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()


def test_bytes_that_are_not_utf8_are_refused():
    with pytest.raises(errors.ServiceError):
        issue_commitment_message_decode(base64.b64encode(b'{"a": "\xff"}').decode("ascii"))


async def test_the_calls_run_together_and_answer_in_call_order():
    started: list[str] = []
    release = asyncio.Event()

    async def call(name: str, fail: bool = False) -> str:
        started.append(name)
        await release.wait()
        if fail:
            raise errors.ServiceError(503, "downstream_unavailable", name)
        return name

    gathering = asyncio.create_task(_gather_all([call("domestic"), call("eu", fail=True), call("eu2")]))
    while len(started) < 3:  # every call is under way before any has finished
        await asyncio.sleep(0)
    release.set()
    domestic, eu, eu2 = await gathering
    assert (domestic, eu2) == ("domestic", "eu2")
    assert isinstance(eu, errors.ServiceError) and eu.detail == "eu"
    assert await _gather_all([]) == []


@pytest.mark.parametrize("failing", [0, 1])
async def test_a_failure_of_either_call_is_returned_in_its_place(failing):
    async def ok() -> str:
        return "ok"

    async def fails() -> str:
        raise ValueError("failed")

    calls = [ok(), ok()]
    calls[failing].close()
    calls[failing] = fails()
    results = await _gather_all(calls)
    assert isinstance(results[failing], ValueError)
    assert results[1 - failing] == "ok"


async def test_a_cancelled_caller_cancels_every_call():
    cancelled: list[str] = []
    started = asyncio.Event()

    async def call(name: str) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    gathering = asyncio.create_task(_gather_all([call("first"), call("second")]))
    await started.wait()
    await asyncio.sleep(0)
    gathering.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gathering
    await asyncio.sleep(0)
    assert sorted(cancelled) == ["first", "second"]
