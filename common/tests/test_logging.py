"""The JSON log lines of common/logging.py."""

from __future__ import annotations

import json
import logging
from datetime import date

from common.logging import JsonFormatter, request_id_var


def test_a_line_is_one_json_object_with_the_records_extra_fields():
    record = logging.makeLogRecord(
        {"name": "coronacheck.access", "levelno": logging.INFO, "levelname": "INFO", "msg": "request %s", "args": ("done",)}
    )
    record.created = 1764944100.5  # 2025-12-05T14:15:00.5Z
    record.request_id = "abc"
    record.status, record.day, record.ratio, record._private = 200, date(2026, 12, 5), 0.5, "left out"
    line = JsonFormatter().format(record)
    assert line == (
        '{"time": "2025-12-05T14:15:00Z", "level": "INFO", "logger": "coronacheck.access", "message": "request done", '
        '"request_id": "abc", "status": 200, "day": "2026-12-05", "ratio": 0.5}'
    )
    assert json.loads(line)["day"] == "2026-12-05"  # what json does not know is written as text


def test_a_line_without_a_request_id_has_a_dash():
    assert request_id_var.get() == "-"
    record = logging.makeLogRecord({"msg": "x"})
    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"
