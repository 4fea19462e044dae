"""`manage.py check_config` (signing/management/commands/check_config.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_valid_configuration_reports_success():
    out = StringIO()
    call_command("check_config", stdout=out)
    assert "configuration valid" in out.getvalue()


def test_a_problem_fails_and_names_the_setting_without_secrets(settings):
    settings.IDENTITY_HASH_JWT_ISSUER_CLAIM = ""
    settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT = 0
    out = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("check_config", stdout=out)
    report = out.getvalue()
    assert "IDENTITY_HASH_JWT_ISSUER_CLAIM is required" in report
    assert "DOMESTIC_NL_ISSUE_READ_TIMEOUT must be positive" in report
    secret = Path(settings.SESSION_HMAC_KEY_FILE).read_text().strip()
    assert secret not in report and settings.SECRET_KEY not in report


def test_an_invalid_rule_in_the_database_is_reported():
    from events.models import RuleConfiguration
    from events.services import rules_seed_if_empty

    rules_seed_if_empty()
    RuleConfiguration.objects.filter(pk=1).update(domestic_strip_validity_hours=2, domestic_maximum_randomized_overlap_hours=4)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_config", stdout=out)
    assert "rule setting DOMESTIC_STRIP_VALIDITY_HOURS" in out.getvalue()
