"""api/renderers.py: the API's JSON renderer writes DRF's bytes."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from rest_framework import renderers

from api.renderers import JSONRenderer

DATA = [
    None,
    {},
    [],
    {"a": 1, "b": [1.5, None, True], "c": {"d": 'ünï \u2028 \u2029 \\ " €'}},
    "text",
    0,
    {"when": datetime.datetime(2026, 12, 5, 16, 16, 22, 2453, tzinfo=datetime.UTC), "day": datetime.date(2026, 12, 5)},
    {"amount": decimal.Decimal("1.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
]
MEDIA_TYPES = [
    None,
    "",
    "application/json",
    "application/json; indent=4",
    "application/json; indent=0",
    "application/json; indent=12",
    "application/json; indent=x",
    "application/json; charset=utf-8",
    "application/json; indent=2" + " " * 250,
]
CONTEXTS = [None, {}, {"indent": 3}, {"view": object()}]


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_the_bytes_are_drfs(media_type):
    for context in CONTEXTS:
        for _ in range(2):  # the indent and the encoder worked out, then remembered
            for data in DATA:
                expected = renderers.JSONRenderer().render(data, media_type, context)
                assert JSONRenderer().render(data, media_type, context) == expected, (data, media_type, context)


def test_out_of_range_floats_are_refused_as_drf_refuses_them():
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            renderers.JSONRenderer().render({"x": value})
        with pytest.raises(ValueError):
            JSONRenderer().render({"x": value})


def test_the_remembered_indents_and_encoders_are_bounded():
    for number in range(JSONRenderer.max_entries * 2):
        JSONRenderer().render({"a": 1}, f"application/json; indent={number % 9}; n={number}")
        renderer_class = type(f"Renderer{number}", (JSONRenderer,), {})  # an encoder per class
        assert renderer_class().render({"a": 1}) == b'{"a":1}'
    assert len(JSONRenderer._indents) <= JSONRenderer.max_entries
    assert len(JSONRenderer._encoders) <= JSONRenderer.max_entries
