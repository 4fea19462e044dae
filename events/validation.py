"""Validation of the rule data (settings.md §2), shared by the admin, `load_rule_data` and
`check_config`. Pure functions: they return problems, they do not raise. The rule constants
are validated from their definitions (`events.rules.config.rule_constants_problems`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
