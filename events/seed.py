"""Reading the bundled upstream rule-data files (rules-domestic.md §0, settings.md §1.4).

The database is seeded from these files (and reset to them); the parsed form is also handy for
tests that need the production rule data without a database.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from events.rules.config import HpkEntry, RuleConfig

BUNDLED_RESOURCE_FOLDER = Path(__file__).resolve().parent / "resources" / "valuesets"


@dataclass(frozen=True)
class RuleData:
    hpk_codes: dict[str, HpkEntry]
    vaccine_manufacturers: dict[str, str]  # code -> display text
    vaccine_products: dict[str, str]
    test_types: dict[str, str]
    required_doses: dict[str, int]
    partial_disclosure: dict[str, str]  # "XY" -> letters out of VFMD


def parse_hpk_codes(text: str) -> dict[str, HpkEntry]:
    """`hpk-codes.json`: one entry per lot; all entries of a code agree on vp/mp/ma."""
    result: dict[str, HpkEntry] = {}
    for item in json.loads(text)["hpk_codes"]:
        entry = HpkEntry(vp=item["vp"], mp=item["mp"], ma=item["ma"])
        existing = result.setdefault(str(item["hpk_code"]), entry)
        if existing != entry:
            raise ValueError(f"HPK code {item['hpk_code']} has conflicting vp/mp/ma entries")
    return result


def parse_value_set(text: str) -> dict[str, str]:
    """An EU value-set file: the keys of `valueSetValues` with their display text."""
    values = json.loads(text)["valueSetValues"]
    return {code: str(value.get("display", "")) for code, value in values.items()}


def parse_required_doses(text: str) -> dict[str, int]:
    data = json.loads(text)
    result = {}
    for brand, doses in data.items():
        if isinstance(doses, bool) or not isinstance(doses, int) or doses < 1:
            raise ValueError(f"required doses of {brand!r} must be an integer >= 1")
        result[brand] = doses
    return result


def parse_allowlist(text: str) -> dict[str, str]:
    """`partial_issuance_allowlist.csv`: lines `XY,<letters>` without header."""
    result = {}
    for row in csv.reader(text.splitlines()):
        if not row:
            continue
        key, letters = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
        result[key] = letters
    return result


def rule_data_from_folder(folder: Path = BUNDLED_RESOURCE_FOLDER, hpk_file: str = "hpk-codes.json") -> RuleData:
    def read(name: str) -> str:
        return (Path(folder) / name).read_text(encoding="utf-8")

    return RuleData(
        hpk_codes=parse_hpk_codes(read(hpk_file)),
        vaccine_manufacturers=parse_value_set(read("vaccine-mah-manf.json")),
        vaccine_products=parse_value_set(read("vaccine-medicinal-product.json")),
        test_types=parse_value_set(read("test-type.json")),
        required_doses=parse_required_doses(read("required-doses-per-brand.json")),
        partial_disclosure=parse_allowlist(read("partial_issuance_allowlist.csv")),
    )


def rule_config_with_data(data: RuleData, **constants: Any) -> RuleConfig:
    """A `RuleConfig` with the given rule data and constants (production defaults otherwise)."""
    return RuleConfig(
        hpk_codes=MappingProxyType(dict(data.hpk_codes)),
        vaccine_manufacturers=frozenset(data.vaccine_manufacturers),
        vaccine_products=frozenset(data.vaccine_products),
        test_types=frozenset(data.test_types),
        required_doses=MappingProxyType(dict(data.required_doses)),
        partial_disclosure=MappingProxyType(dict(data.partial_disclosure)),
        **constants,
    )


def seed_rule_config(**constants: object) -> RuleConfig:
    """The production-default configuration with the bundled seed data."""
    return rule_config_with_data(rule_data_from_folder(), **constants)
