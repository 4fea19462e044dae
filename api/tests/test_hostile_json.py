"""Deeply nested and huge JSON bodies (issue "Reliability across processes"; api.md §1): nesting
past `REQUEST_MAX_JSON_DEPTH` is a 422 `value_error.jsondepth` whatever the depth, also past the
parser's own recursion limit (it used to say "body is not valid JSON" there); invalid JSON keeps
its `value_error.jsondecode` body; bodies over `REQUEST_MAX_BYTES` are 413."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

DEPTH_ERROR = {"detail": [{"loc": ["body"], "msg": "JSON nesting is too deep", "type": "value_error.jsondepth"}]}
PATHS = ["/app/credentials/", "/documentation/V2Event/", "/documentation/DataProviderEventsResult/"]


def nested(depth: int, kind: str) -> bytes:
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return (opening * depth + "1" + closing * depth).encode()


async def post(path: str, body: bytes):
    return await AsyncClient().post(path, body, content_type="application/json")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("depth", [64, 500, 999, 1000, 5000, 100_000, 150_000])
async def test_nesting_past_the_limit_is_a_depth_error(path, kind, depth):
    response = await post(path, nested(depth, kind))
    assert response.status_code == 422
    assert response.json() == DEPTH_ERROR


@pytest.mark.parametrize("kind", ["list", "dict"])
async def test_nesting_at_the_limit_is_read(kind):
    response = await post("/app/credentials/", nested(63, kind))  # 63 containers and the value: 64 levels
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] != "value_error.jsondepth"  # a structure error instead


async def test_deep_nesting_inside_an_object_is_a_depth_error():
    body = b'{"events": [], "stoken": "x", "extra": ' + nested(5000, "list") + b"}"
    response = await post("/app/credentials/", body)
    assert response.json() == DEPTH_ERROR


@pytest.mark.parametrize(
    "body, loc, message",
    [
        (b"[" * 10, ["body", 10], "Expecting value"),
        (b'{"a": 1', ["body", 7], "Expecting ',' delimiter"),
        (b"[1, 2,]", ["body", 6], "Expecting value"),
    ],
)
async def test_invalid_json_keeps_its_decode_error(body, loc, message):
    response = await post("/app/credentials/", body)
    assert response.status_code == 422
    assert response.json() == {"detail": [{"loc": loc, "msg": message, "type": "value_error.jsondecode"}]}


async def test_a_wide_body_under_the_size_limit_is_parsed_and_refused_by_structure():
    body = b'{"events": [' + b",".join([b"1"] * 300_000) + b"]}"  # 600 KB, 300,000 items
    response = await post("/app/credentials/", body)
    assert response.status_code == 422
    assert {item["type"] for item in response.json()["detail"]} >= {"type_error.dict", "value_error.missing"}


@pytest.mark.parametrize("size", [1_048_577, 5_000_000])
async def test_a_body_over_the_size_limit_is_413(size):
    response = await post("/app/credentials/", b"[" + b"1," * (size // 2) + b"1]")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is too large.", "code": "request_too_large"}
