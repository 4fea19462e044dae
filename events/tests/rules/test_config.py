"""Tests of events/rules/config.py: one definition per rule constant, and what derives from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.models import RuleConfiguration
from events.rules.config import RULE_CONSTANTS, RuleConfig, credential_amount, rule_constants_markdown, rule_constants_problems

PROJECT = Path(__file__).resolve().parents[3]


def valid_values() -> dict:
    config = RuleConfig()
    return {rule.name: getattr(config, rule.name) for rule in RULE_CONSTANTS}


def test_the_defaults_are_valid():
    assert rule_constants_problems(valid_values()) == {}


def test_every_constant_has_a_column_with_its_default_and_label():
    columns = {f.name: f for f in RuleConfiguration._meta.concrete_fields if f.name not in ("id", "updated_at")}
    assert sorted(columns) == sorted(rule.name for rule in RULE_CONSTANTS)
    for rule in RULE_CONSTANTS:
        default = columns[rule.name].get_default()
        assert default == (list(rule.default) if rule.kind == "codes" else rule.default), rule.name
        assert columns[rule.name].verbose_name == rule.label


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("domestic_strip_validity_hours", "24", "must be a positive integer"),
        ("domestic_maximum_randomized_overlap_hours", -1, "must be an integer of 0 or more"),
        ("domestic_nl_print_signer_enabled", 1, "must be true or false"),
        ("eu_international_print_expiration_time_days", 0, "must be empty or a positive integer"),
        ("eu_international_positivetest_recovery_du_days", 181, "must be at most 180 (EU maximum)"),
        ("eu_recovery_test_types", ["LP6464-4", " "], "must be a list of non-empty strings"),
        ("eu_international_override_tc", "x" * 81, "must be text of at most 80 characters"),
        ("deduplication_margin", True, "must be an integer of 0 or more"),
    ],
)
def test_bounds_come_from_the_definitions(name, value, problem):
    assert rule_constants_problems({**valid_values(), name: value}) == {name: problem}


def test_strips_must_outlast_their_overlap():
    values = {**valid_values(), "domestic_strip_validity_hours": 4, "domestic_maximum_randomized_overlap_hours": 4}
    assert list(rule_constants_problems(values)) == ["domestic_strip_validity_hours"]


def test_an_empty_print_expiry_is_allowed_and_means_the_app_value():
    config = RuleConfig(eu_international_print_expiration_time_days=None, eu_international_greencard_expiration_time_days=9)
    assert rule_constants_problems({**valid_values(), "eu_international_print_expiration_time_days": None}) == {}
    assert config.eu_print_expiration_days == 9


def test_credential_amount_with_production_defaults_is_34():
    assert credential_amount(RuleConfig()) == 34


def test_the_reference_document_is_up_to_date():
    assert (PROJECT / "docs" / "rule-constants.md").read_text() == rule_constants_markdown()
