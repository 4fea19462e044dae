"""Validation of the business-rule constants and rule data (settings.md §2), shared by the
admin, `set_rules` and `check_config`. Pure functions: they return problems, they do not raise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

POSITIVE_INTEGER_RULES = (
    "domestic_strip_validity_hours",
    "domestic_maximum_issuance_days",
    "domestic_nl_expiry_days_vaccination",
    "domestic_nl_expiry_days_positive_test",
    "domestic_nl_expiry_hours_negative_test",
    "domestic_print_proof_validity_hours_vaccination",
    "domestic_print_proof_validity_hours_recovery",
    "eu_international_greencard_expiration_time_days",
    "eu_international_positivetest_recovery_du_days",
)
NON_NEGATIVE_INTEGER_RULES = (
    "domestic_maximum_randomized_overlap_hours",
    "domestic_nl_positive_test_recovery_days",
    "eu_international_positive_test_recovery_days",
    "deduplication_margin",
    "cms_signing_time_skew_seconds",
)
BOOLEAN_RULES = (
    "domestic_nl_dynamic_signer_enabled",
    "domestic_nl_print_signer_enabled",
    "eu_international_dynamic_signer_enabled",
    "eu_international_print_signer_enabled",
)
EU_RECOVERY_MAXIMUM_DAYS = 180


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def rule_constants_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Problems of a complete set of rule constants, keyed by field name."""
    problems: dict[str, str] = {}
    for name in POSITIVE_INTEGER_RULES:
        if not _is_int(values.get(name)) or values[name] < 1:
            problems[name] = "must be a positive integer"
    for name in NON_NEGATIVE_INTEGER_RULES:
        if not _is_int(values.get(name)) or values[name] < 0:
            problems[name] = "must be an integer of 0 or more"
    for name in BOOLEAN_RULES:
        if not isinstance(values.get(name), bool):
            problems[name] = "must be true or false"
    print_days = values.get("eu_international_print_expiration_time_days")
    if print_days is not None and (not _is_int(print_days) or print_days < 1):
        problems["eu_international_print_expiration_time_days"] = "must be empty or a positive integer"
    strip = values.get("domestic_strip_validity_hours")
    overlap = values.get("domestic_maximum_randomized_overlap_hours")
    if _is_int(strip) and _is_int(overlap) and strip <= overlap:
        problems["domestic_strip_validity_hours"] = (
            "must exceed domestic_maximum_randomized_overlap_hours (otherwise strips never end)"
        )
    du_days = values.get("eu_international_positivetest_recovery_du_days")
    if _is_int(du_days) and du_days > EU_RECOVERY_MAXIMUM_DAYS:
        problems["eu_international_positivetest_recovery_du_days"] = "must be at most 180 (EU maximum)"
    types = values.get("eu_recovery_test_types")
    if not isinstance(types, (list, tuple)) or not all(isinstance(t, str) and t.strip() for t in types):
        problems["eu_recovery_test_types"] = "must be a list of non-empty strings"
    tc = values.get("eu_international_override_tc")
    if not isinstance(tc, str) or len(tc) > 80:
        problems["eu_international_override_tc"] = "must be text of at most 80 characters"
    return problems


def allowlist_letters_problem(initials: str, letters: str) -> str | None:
    if len(initials) != 2 or not initials.isascii() or not initials.isalpha() or not initials.isupper():
        return "initials must be two capital letters"
    if not set(letters) <= set("VFMD") or len(set(letters)) != len(letters):
        return "letters must be a subset of VFMD"
    return None


def rule_data_problems(
    *,
    hpk_codes: Mapping[str, Any],
    value_sets: Mapping[str, set[str]],
    required_doses: Mapping[str, int],
    allowlist: Mapping[str, str],
) -> list[str]:
    problems = []
    for code, entry in hpk_codes.items():
        if not (entry.vp and entry.mp and entry.ma):
            problems.append(f"HPK code {code} lacks vp, mp or ma")
    for kind, codes in value_sets.items():
        if not codes:
            problems.append(f"value set {kind} is empty")
    for brand, doses in required_doses.items():
        if not _is_int(doses) or doses < 1:
            problems.append(f"required doses of {brand} must be an integer >= 1")
    for initials, letters in allowlist.items():
        problem = allowlist_letters_problem(initials, letters)
        if problem:
            problems.append(f"allowlist entry {initials}: {problem}")
    return problems
