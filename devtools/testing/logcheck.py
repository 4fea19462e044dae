"""Session-wide check that no log line leaks personal data or tokens (settings.md §4).

A pytest plugin (registered in the root `conftest.py`): a handler on the root logger sees every
record of the whole test session, rendered exactly as production renders it
(`common.logging.JsonFormatter`), and the project's own loggers are lowered to DEBUG so that
debug lines are checked too. Helpers that run the service as a subprocess pass its captured
stderr to `scan_text`. At the end the session fails if any line contained a BSN, a name or birth
date of the test data, a JWT, an `HC1:` or `NL2:` string, an `Authorization` value or a print
token handed out by the `print_token` fixture. Findings name the rule and the logger, never the
value.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

import pytest

from common.logging import JsonFormatter, RequestIdFilter

# Personal data of the test fixtures (devtools/testing/api_fixtures.py, events/tests/factories.py, the
# RVIG and event samples of the shared reference data). Short or common words are left out.
TEST_NAMES = (
    "Pieter",
    "Proefpersoon",
    "Bouwer",
    "Pertje",
    "Naomi",
    "Goede",
    "Bernhard",
    "Holthuizen",
    "Musterfrau",
    "Gabriele",
)
TEST_BIRTH_DATES = ("1980-05-17", "19800517", "1987-04-01", "19870401", "1960-01-01", "1971-12-13", "1950-01-01")

PATTERNS: dict[str, re.Pattern[str]] = {
    # The test BSN range used throughout the suite; not inside a longer run of letters and digits
    # (a random hex request id or UUID may contain "9999" and five more digits).
    "bsn": re.compile(r"(?<![0-9A-Za-z])9999\d{5}(?![0-9A-Za-z])"),
    "name": re.compile("|".join(re.escape(name) for name in TEST_NAMES)),
    "birth date": re.compile("|".join(re.escape(date) for date in TEST_BIRTH_DATES)),
    "jwt": re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
    "hc1": re.compile(r"HC1:"),
    "nl2": re.compile(r"NL2:"),
    "authorization": re.compile(r"\b(?:Bearer|Token|Basic)\s+[A-Za-z0-9._~+/=-]{16,}"),
}
# Fixtures whose value is a secret that must never be logged.
SECRET_FIXTURES = frozenset({"print_token"})


@dataclass(frozen=True)
class Finding:
    rule: str
    source: str


class SensitiveDataChecker:
    """Collects findings; thread-safe (records arrive from worker threads)."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.secrets: set[str] = set()
        self.lines_checked = 0
        self._lock = threading.Lock()

    def register_secret(self, value: str) -> None:
        if isinstance(value, str) and len(value) >= 8:
            with self._lock:
                self.secrets.add(value)

    def rules_matching(self, text: str) -> list[str]:
        rules = [rule for rule, pattern in PATTERNS.items() if pattern.search(text)]
        with self._lock:
            secrets = tuple(self.secrets)
        if any(secret in text for secret in secrets):
            rules.append("secret")
        return rules

    def scan_text(self, text: str, source: str) -> list[str]:
        """Check every line of `text` (e.g. a subprocess's stderr); returns the rules matched."""
        matched: list[str] = []
        for line in text.splitlines():
            rules = self.rules_matching(line)
            matched.extend(rules)
            with self._lock:
                self.lines_checked += 1
                self.findings.extend(Finding(rule, source) for rule in rules)
        return matched


class CheckingHandler(logging.Handler):
    """Renders each record as production does and hands it to the checker."""

    def __init__(self, checker: SensitiveDataChecker) -> None:
        super().__init__(level=logging.DEBUG)

        self.checker = checker
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be rendered is checked by its raw parts
            text = f"{record.msg!r} {record.args!r}"
        self.checker.scan_text(text, f"logger {record.name}")


def assert_clean(checker: SensitiveDataChecker) -> None:
    """Raise AssertionError naming the rules and sources (never the values) of any finding."""
    if checker.findings:
        names = sorted({f"{finding.rule} from {finding.source}" for finding in checker.findings})
        raise AssertionError(f"personal data or tokens in log lines: {', '.join(names)}")


checker = SensitiveDataChecker()
_handler: CheckingHandler | None = None
PROJECT_LOGGERS = ("coronacheck", "common", "api", "events", "signing", "devtools")


def scan_text(text: str, source: str) -> list[str]:
    """For helpers that capture a subprocess's output."""
    return checker.scan_text(text, source)


def _attach() -> None:
    global _handler
    root = logging.getLogger()
    if _handler is None:
        _handler = CheckingHandler(checker)
        # Keep the console as quiet as configured while project loggers emit DEBUG records.
        for handler in root.handlers:
            if handler.level == logging.NOTSET:
                handler.setLevel(root.level)
        for name in PROJECT_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
    if _handler not in root.handlers:
        root.addHandler(_handler)


def pytest_sessionstart(session: pytest.Session) -> None:
    _attach()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _attach()  # a test may have re-run the logging configuration


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    value = yield
    if fixturedef.argname in SECRET_FIXTURES:
        checker.register_secret(value)
    return value


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if checker.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config) -> None:
    if not checker.findings:
        terminalreporter.write_line(f"log check: {checker.lines_checked} log lines, no personal data or tokens")
        return
    summary: dict[Finding, int] = {}
    for finding in checker.findings:
        summary[finding] = summary.get(finding, 0) + 1
    terminalreporter.section("log check FAILED: personal data or tokens in log lines", red=True)
    for finding, count in sorted(summary.items(), key=lambda item: (item[0].source, item[0].rule)):
        terminalreporter.write_line(f"{count} line(s) with a {finding.rule} from {finding.source}", red=True)
