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


def test_lines_in_different_seconds_have_their_own_time():
    formatter = JsonFormatter()
    times = []
    for created in (1764944100.5, 1764944100.9, 1764944101.0, 1764944100.1):
        record = logging.makeLogRecord({"msg": "x"})
        record.created = created
        times.append(json.loads(formatter.format(record))["time"])
    assert times == ["2025-12-05T14:15:00Z", "2025-12-05T14:15:00Z", "2025-12-05T14:15:01Z", "2025-12-05T14:15:00Z"]


def test_records_are_made_without_caller_thread_or_process_lookups(caplog):
    # Django configures logging with `common.logging.configure` (settings.LOGGING_CONFIG).
    with caplog.at_level(logging.INFO, logger="coronacheck.test"):
        logging.getLogger("coronacheck.test").info("x")
    (record,) = caplog.records
    assert (record.lineno, record.funcName) == (0, "(unknown function)")
    assert record.thread is None and record.process is None and record.processName is None


def test_a_new_request_id_is_a_random_version_4_uuid(monkeypatch):
    import os
    import uuid

    from common.logging import random_uuid_hex, request_id_accepted

    for raw in (b"\x00" * 16, b"\xff" * 16, bytes(range(16))):
        monkeypatch.setattr(os, "urandom", lambda count, raw=raw: raw)
        assert random_uuid_hex() == uuid.UUID(bytes=raw, version=4).hex
    monkeypatch.undo()
    ids = {request_id_accepted(None) for _ in range(100)}
    assert len(ids) == 100
    assert all(uuid.UUID(hex=value).version == 4 and uuid.UUID(hex=value).hex == value for value in ids)
    assert request_id_accepted("client-id") == "client-id"
