"""`manage.py set_rules` (api.md §8, settings.md §1.4)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from events.models import RuleConfiguration, ValueSetEntry
from events.selectors import config_snapshot_get_sync
from events.services import rules_seed_if_empty

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded():
    rules_seed_if_empty()


def test_set_rules_changes_values_given_as_json_and_records_history():
    out = StringIO()
    call_command(
        "set_rules",
        "DOMESTIC_MAXIMUM_ISSUANCE_DAYS=14",
        'EU_RECOVERY_TEST_TYPES=["LP6464-4"]',
        "EU_INTERNATIONAL_PRINT_EXPIRATION_TIME_DAYS=null",
        stdout=out,
    )
    row = RuleConfiguration.objects.get(pk=1)
    assert row.domestic_maximum_issuance_days == 14 and row.eu_recovery_test_types == ["LP6464-4"]
    assert "DOMESTIC_MAXIMUM_ISSUANCE_DAYS: 28 -> 14" in out.getvalue()
    assert config_snapshot_get_sync().rules.eu_recovery_test_types == ("LP6464-4",)
    latest = RuleConfiguration.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason.startswith("manage.py set_rules (by ")
    previous = latest.prev_record
    changed = {change.field for change in latest.diff_against(previous).changes}
    assert {"domestic_maximum_issuance_days", "eu_recovery_test_types"} <= changed


def test_invalid_values_change_nothing():
    err = StringIO()
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("set_rules", "DOMESTIC_STRIP_VALIDITY_HOURS=3", "DOMESTIC_MAXIMUM_ISSUANCE_DAYS=10", stderr=err)
    assert "DOMESTIC_STRIP_VALIDITY_HOURS: must exceed" in err.getvalue()
    assert RuleConfiguration.objects.get(pk=1).domestic_maximum_issuance_days == 28


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("NOT_A_RULE=1", "not a business-rule setting"),
        ("EU_INTERNATIONAL_OVERRIDE_TC=NL", "is not JSON"),
        ("DEDUPLICATION_MARGIN", "is not NAME=VALUE"),
    ],
)
def test_malformed_arguments_fail(argument, message):
    with pytest.raises(CommandError, match=message):
        call_command("set_rules", argument)


def test_without_arguments_prints_the_current_values():
    out = StringIO()
    call_command("set_rules", stdout=out)
    assert "DOMESTIC_STRIP_VALIDITY_HOURS=24" in out.getvalue().splitlines()
    assert 'EU_RECOVERY_TEST_TYPES=["LP6464-4", "LP217198-3"]' in out.getvalue()


def test_reset_restores_the_defaults_and_rule_data():
    call_command("set_rules", "DEDUPLICATION_MARGIN=5", stdout=StringIO())
    ValueSetEntry.objects.filter(kind="test-type").delete()
    call_command("set_rules", "--reset", stdout=StringIO())
    assert RuleConfiguration.objects.get(pk=1).deduplication_margin == 2
    assert ValueSetEntry.objects.filter(kind="test-type", code="LP6464-4").exists()
    assert (
        RuleConfiguration.history.order_by("-history_date", "-history_id")
        .first()
        .history_change_reason.startswith("manage.py set_rules --reset")
    )


def test_set_rules_with_the_current_value_writes_no_history_record():
    from io import StringIO

    from events.models import RuleConfiguration

    call_command("set_rules", "DOMESTIC_MAXIMUM_ISSUANCE_DAYS=21", stdout=StringIO())
    records = RuleConfiguration.history.count()
    out = StringIO()
    call_command("set_rules", "DOMESTIC_MAXIMUM_ISSUANCE_DAYS=21", stdout=out)
    assert RuleConfiguration.history.count() == records
    assert "DOMESTIC_MAXIMUM_ISSUANCE_DAYS: 21 (unchanged)" in out.getvalue()
    assert "nothing changed" in out.getvalue()
