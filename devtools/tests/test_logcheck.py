"""The session-wide log check (devtools/testing/logcheck.py) can fail: each rule on its own
checker (never through the root logger, which would fail this session), and the plugin failing a
small pytest session of its own."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from devtools.testing.logcheck import CheckingHandler, SensitiveDataChecker, assert_clean

TOKEN = "tK9-" + "x" * 39


@pytest.mark.parametrize(
    "line, rule",
    [
        ("holder 999999138 looked up", "bsn"),
        ('{"bsn": "999995571"}', "bsn"),
        ("name Proefpersoon", "name"),
        ("dob 1980-05-17", "birth date"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt"),
        ("qr HC1:6BFOXN%TSMAHN-H", "hc1"),
        ("qr NL2:ABCDEF", "nl2"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "authorization"),
        (f"header Token {TOKEN}", "authorization"),
        (f"key={TOKEN}", "secret"),
    ],
)
def test_each_rule_finds_its_data(line, rule):
    checker = SensitiveDataChecker()
    checker.register_secret(TOKEN)
    assert rule in checker.scan_text(line, "test")
    with pytest.raises(AssertionError, match=rule):
        assert_clean(checker)


def test_ordinary_log_lines_pass():
    checker = SensitiveDataChecker()
    checker.scan_text(
        '{"time": "2026-01-01T00:00:00Z", "level": "INFO", "logger": "coronacheck.access", "message": "request", '
        '"request_id": "4f2c0b0e9d3b4b8e8a7c9e1d2f3a4b5c", "method": "POST", "path": "/app/print/", "status": 401, '
        '"duration_ms": 12.5, "code": "authentication_failed", "providers": ["ZZZ"]}',
        "test",
    )
    assert_clean(checker)
    assert checker.lines_checked == 1


def test_a_logged_bsn_is_caught_through_the_handler():
    checker = SensitiveDataChecker()
    logger = logging.getLogger("coronacheck.tests.logcheck-private")
    logger.propagate = False  # the session's own check must not see this record
    handler = CheckingHandler(checker)
    logger.addHandler(handler)
    try:
        logger.warning("lookup failed", extra={"bsn": "999999138"})
    finally:
        logger.removeHandler(handler)
    with pytest.raises(AssertionError, match="bsn from logger coronacheck.tests.logcheck-private"):
        assert_clean(checker)


def test_the_plugin_fails_a_session_that_logs_personal_data(tmp_path):
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent("""
        import logging

        def test_leaks():
            logging.getLogger("events.leaky").info("holder born 1980-05-17")
    """)
    )
    (tmp_path / "test_clean.py").write_text("def test_clean():\n    assert True\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:django",
        "-p",
        "no:cacheprovider",
        "-c",
        "/dev/null",
        "--rootdir",
        str(tmp_path),
        "-p",
        "devtools.testing.logcheck",
    ]
    leaky = subprocess.run([*command, str(tmp_path / "test_leak.py")], capture_output=True, text=True, timeout=60)
    assert leaky.returncode == 1, leaky.stdout
    assert "1 passed" in leaky.stdout and "log check FAILED" in leaky.stdout
    assert "birth date from logger events.leaky" in leaky.stdout and "1980-05-17" not in leaky.stdout
    clean = subprocess.run([*command, str(tmp_path / "test_clean.py")], capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0, clean.stdout


def test_a_request_id_with_a_run_of_digits_is_not_a_bsn():
    from devtools.testing.logcheck import PATTERNS

    assert not PATTERNS["bsn"].search('"request_id": "3f0a999912345b7c2e"')
    assert PATTERNS["bsn"].search('"bsn": "999912345"')
