"""Every operator command explains itself in --help (signing and events management commands)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

COMMANDS = (
    "check_config",
    "check_signers",
    "import_providers",
    "provider_certificate",
    "create_print_token",
    "revoke_print_token",
    "set_rules",
    "load_rule_data",
    "export_rule_data",
    "purge_sessions",
    "purge_submissions",
    "uci_selftest",
)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_operator_help(name):
    command = load_command_class(get_commands()[name], name)
    text = command.create_parser("manage.py", name).format_help()
    assert len(command.help) > 60
    assert command.help.split()[0] in text


def test_help_runs_as_a_real_process():
    project = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "manage.py", "set_rules", "--help"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"DJANGO_SETTINGS_MODULE": "devtools.settings_test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "EU_RECOVERY_TEST_TYPES" in result.stdout and "--reset" in result.stdout


PROJECT_APPS = {"coronacheck", "api", "signing", "events", "devtools"}


@pytest.mark.parametrize("name", sorted(name for name, app in get_commands().items() if app in PROJECT_APPS))
def test_every_project_command_imports_and_builds_its_parser(name):
    """Catches stale imports in commands that only bin/run or bin/demo use."""
    command = load_command_class(get_commands()[name], name)
    assert command.create_parser("manage.py", name).format_help()
    assert command.help
