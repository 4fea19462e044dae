"""The business-rule constants and the snapshot the pure rules read (settings.md §1.4,
rules-domestic.md §0, rules-eu.md §0).

Each constant is stated once, here, as a field of `RuleConfig`: its name (the spec's setting name
in lower case), type, default, unit, bounds, label and help text. The database model and its
migration, the admin form, the validation, `set_rules`, the snapshot loader and
`docs/rule-constants.md` all derive from these fields; adding a constant is one field here plus a
generated migration. Loading the snapshot from the database is `events.selectors`; the rules only
ever see this dataclass. One immutable snapshot is read per request (decision w).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeGuard, TypeVar

T = TypeVar("T")

SWITCHES = "Signer switches"
DOMESTIC = "Domestic strips and origins"
EU = "EU certificates"
EVENTS = "Events"

EU_RECOVERY_MAXIMUM_DAYS = 180  # the EU's maximum validity of a recovery certificate (rules-eu.md §5)


@dataclass(frozen=True)
class RuleConstant:
    """How one constant is stated; `kind` follows from the field's type."""

    name: str
    kind: str  # "switch" (bool), "count" (int), "optional count" (int | None), "codes" (tuple[str, ...]), "text" (str)
    default: Any
    group: str
    label: str
    help: str
    unit: str = ""
    minimum: int = 0
    maximum: int | None = None
    maximum_reason: str = ""
    max_length: int = 80

    @property
    def setting_name(self) -> str:
        return self.name.upper()

    @property
    def help_text(self) -> str:
        return f"{self.unit.capitalize()}. {self.help}" if self.unit else self.help


def constant(
    default: T,
    *,
    group: str,
    label: str,
    help: str,
    unit: str = "",
    minimum: int = 0,
    maximum: int | None = None,
    maximum_reason: str = "",
    max_length: int = 80,
) -> T:
    """A `RuleConfig` field that is a business-rule constant (see the module docstring)."""
    spec = {
        "group": group,
        "label": label,
        "help": help,
        "unit": unit,
        "minimum": minimum,
        "maximum": maximum,
        "maximum_reason": maximum_reason,
        "max_length": max_length,
    }
    result: T = field(default=default, metadata={"rule_constant": spec})
    return result


@dataclass(frozen=True)
class HpkEntry:
    vp: str
    mp: str
    ma: str


@dataclass(frozen=True)
class RuleConfig:
    domestic_nl_dynamic_signer_enabled: bool = constant(
        True, group=SWITCHES, label="Domestic app signer on", help="Off: the app's domesticGreencard is always null."
    )
    domestic_nl_print_signer_enabled: bool = constant(
        True, group=SWITCHES, label="Domestic print signer on", help="Off: the print response's domestic part is always null."
    )
    eu_international_dynamic_signer_enabled: bool = constant(
        True, group=SWITCHES, label="EU app signer on", help="Off: the app's euGreencards is always empty."
    )
    eu_international_print_signer_enabled: bool = constant(
        True, group=SWITCHES, label="EU print signer on", help="Off: the print response's european part is always null."
    )
    domestic_strip_validity_hours: int = constant(
        24,
        group=DOMESTIC,
        unit="hours",
        minimum=1,
        label="Strip validity",
        help="Length of one domestic strip; must exceed the maximum overlap.",
    )
    domestic_maximum_randomized_overlap_hours: int = constant(
        4, group=DOMESTIC, unit="hours", label="Maximum random strip overlap", help="Strips overlap by a random 0…N hours."
    )
    domestic_maximum_issuance_days: int = constant(
        28,
        group=DOMESTIC,
        unit="days",
        minimum=1,
        label="Issuance horizon",
        help="Strips are issued for at most this many days ahead.",
    )
    domestic_nl_expiry_days_vaccination: int = constant(
        1461,
        group=DOMESTIC,
        unit="days",
        minimum=1,
        label="Vaccination origin length",
        help="Length of a domestic vaccination origin from the vaccination date.",
    )
    domestic_nl_positive_test_recovery_days: int = constant(
        11,
        group=DOMESTIC,
        unit="days",
        label="Recovery start after a positive test",
        help="A positive test counts as recovery from sample time + this.",
    )
    domestic_nl_expiry_days_positive_test: int = constant(
        180,
        group=DOMESTIC,
        unit="days",
        minimum=1,
        label="Recovery length",
        help="How long the recovery from a positive test lasts after its start.",
    )
    domestic_nl_expiry_hours_negative_test: int = constant(
        40,
        group=DOMESTIC,
        unit="hours",
        minimum=1,
        label="Negative test validity",
        help="Validity of a negative test; also its maximum age for NL and EU.",
    )
    domestic_print_proof_validity_hours_vaccination: int = constant(
        2016,
        group=DOMESTIC,
        unit="hours",
        minimum=1,
        label="Paper proof validity (vaccination)",
        help="Validity of a paper proof for a vaccination.",
    )
    domestic_print_proof_validity_hours_recovery: int = constant(
        2016,
        group=DOMESTIC,
        unit="hours",
        minimum=1,
        label="Paper proof validity (recovery)",
        help="Validity of a paper proof for a recovery.",
    )
    eu_international_greencard_expiration_time_days: int = constant(
        28, group=EU, unit="days", minimum=1, label="App DCC expiry", help="App flow: every DCC expires now + this."
    )
    eu_international_print_expiration_time_days: int | None = constant(
        None,
        group=EU,
        unit="days",
        minimum=1,
        label="Paper DCC expiry",
        help="Print flow: a paper DCC expires now + this; empty = the app value.",
    )
    eu_international_positive_test_recovery_days: int = constant(
        11,
        group=EU,
        unit="days",
        label="EU recovery start",
        help="Days after the first positive test from which an EU recovery is valid (df).",
    )
    eu_international_positivetest_recovery_du_days: int = constant(
        180,
        group=EU,
        unit="days",
        minimum=1,
        maximum=EU_RECOVERY_MAXIMUM_DAYS,
        maximum_reason="EU maximum",
        label="EU recovery end",
        help="EU recovery valid-until after the first positive test; at most 180.",
    )
    eu_recovery_test_types: tuple[str, ...] = constant(
        ("LP6464-4", "LP217198-3"),
        group=EU,
        label="Recovery test types",
        help='JSON list of positive-test types that yield an EU recovery, e.g. ["LP6464-4"].',
    )
    eu_international_override_tc: str = constant(
        "",
        group=EU,
        label="Test centre override",
        help="Replaces the test centre of every EU test DCC; empty = the provider's facility.",
    )
    deduplication_margin: int = constant(
        2,
        group=EVENTS,
        unit="days",
        label="Deduplication margin",
        help="Days within which two similar events are the same event.",
    )
    cms_signing_time_skew_seconds: int = constant(
        300,
        group=EVENTS,
        unit="seconds",
        label="Signing time skew",
        help="Allowed future skew of a provider signature's signing time.",
    )
    # Rule data (rules-domestic.md §0), edited as lists in the admin.
    hpk_codes: Mapping[str, HpkEntry] = field(default_factory=lambda: MappingProxyType({}))
    vaccine_manufacturers: frozenset[str] = frozenset()
    vaccine_products: frozenset[str] = frozenset()
    test_types: frozenset[str] = frozenset()
    required_doses: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    partial_disclosure: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def eu_print_expiration_days(self) -> int:
        """`EU_INTERNATIONAL_PRINT_EXPIRATION_TIME_DAYS`, empty = the app value (rules-eu.md §0)."""
        if self.eu_international_print_expiration_time_days is None:
            return self.eu_international_greencard_expiration_time_days
        return self.eu_international_print_expiration_time_days


_KINDS = {bool: "switch", int: "count", int | None: "optional count", tuple[str, ...]: "codes", str: "text"}


def _rule_constants() -> tuple[RuleConstant, ...]:
    hints = typing.get_type_hints(RuleConfig)
    return tuple(
        RuleConstant(name=f.name, kind=_KINDS[hints[f.name]], default=f.default, **f.metadata["rule_constant"])
        for f in dataclasses.fields(RuleConfig)
        if "rule_constant" in f.metadata
    )


RULE_CONSTANTS: tuple[RuleConstant, ...] = _rule_constants()
RULE_CONSTANT_NAMES: tuple[str, ...] = tuple(c.name for c in RULE_CONSTANTS)


# --- Validation (settings.md §2): problems, keyed by field name; never raises ------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _constant_problem(rule: RuleConstant, value: Any) -> str | None:
    if rule.kind == "switch":
        return None if isinstance(value, bool) else "must be true or false"
    if rule.kind in ("count", "optional count"):
        if value is None and rule.kind == "optional count":
            return None
        if not _is_int(value) or value < rule.minimum:
            lowest = "a positive integer" if rule.minimum == 1 else f"an integer of {rule.minimum} or more"
            return f"must be empty or {lowest}" if rule.kind == "optional count" else f"must be {lowest}"
        if rule.maximum is not None and value > rule.maximum:
            reason = f" ({rule.maximum_reason})" if rule.maximum_reason else ""
            return f"must be at most {rule.maximum}{reason}"
        return None
    if rule.kind == "codes":
        ok = isinstance(value, (list, tuple)) and all(isinstance(t, str) and t.strip() for t in value)
        return None if ok else "must be a list of non-empty strings"
    ok = isinstance(value, str) and len(value) <= rule.max_length
    return None if ok else f"must be text of at most {rule.max_length} characters"


def _strips_end(values: Mapping[str, Any]) -> tuple[str, str] | None:
    strip, overlap = values.get("domestic_strip_validity_hours"), values.get("domestic_maximum_randomized_overlap_hours")
    if _is_int(strip) and _is_int(overlap) and strip <= overlap:
        message = "must exceed domestic_maximum_randomized_overlap_hours (otherwise strips never end)"
        return "domestic_strip_validity_hours", message
    return None


# Rules between constants: each returns (field, problem) or None.
CROSS_CONSTANT_CHECKS: tuple[Callable[[Mapping[str, Any]], tuple[str, str] | None], ...] = (_strips_end,)


def rule_constants_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Problems of a complete set of rule constants, keyed by field name (admin, `set_rules`,
    `check_config`)."""
    problems: dict[str, str] = {}
    for rule in RULE_CONSTANTS:
        problem = _constant_problem(rule, values.get(rule.name))
        if problem:
            problems[rule.name] = problem
    for check in CROSS_CONSTANT_CHECKS:
        found = check(values)
        if found:
            problems[found[0]] = found[1]
    return problems


def rule_constants_markdown() -> str:
    """`docs/rule-constants.md`: the reference table, generated from the definitions above."""
    lines = [
        "# Business-rule constants",
        "",
        "Generated from `events/rules/config.py` (`manage.py rule_constants_doc > docs/rule-constants.md`).",
        "Staff change them in the admin or with `manage.py set_rules NAME=VALUE`; every worker uses a",
        "change within `RULE_CACHE_SECONDS`.",
        "",
        "| setting | type | unit | default | bounds | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULE_CONSTANTS:
        bounds = ""
        if rule.kind in ("count", "optional count"):
            bounds = f"≥ {rule.minimum}" + (f", ≤ {rule.maximum}" if rule.maximum is not None else "")
        elif rule.kind == "text":
            bounds = f"≤ {rule.max_length} characters"
        default = "empty" if rule.default is None else repr(list(rule.default) if rule.kind == "codes" else rule.default)
        lines.append(f"| `{rule.setting_name}` | {rule.kind} | {rule.unit} | `{default}` | {bounds} | {rule.help} |")
    return "\n".join(lines) + "\n"


def credential_amount(config: RuleConfig) -> int:
    """`credentialAmount` for prepare-issue (rules-domestic.md §9)."""
    return math.ceil(
        config.domestic_maximum_issuance_days
        * 24
        / (config.domestic_strip_validity_hours - config.domestic_maximum_randomized_overlap_hours)
    )
