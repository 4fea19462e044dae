"""Rule data in the six upstream file formats: load (validated, in one transaction) and export
(settings.md §1.4, rules-domestic.md §0). Shared by `load_rule_data`, `export_rule_data` and the
admin's import and export views.

A load replaces the rule data with the files' content by applying only the differences, row by
row, so that the change history shows what a load added, changed and removed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from django.db import models as django_models
from django.db import transaction

from events import models
from events.rules.config import HpkEntry
from events.seed import RuleData, parse_allowlist, parse_hpk_codes, parse_required_doses, parse_value_set
from events.services import configuration_version_bump, rule_history_baseline_ensure
from events.validation import rule_data_problems

HPK_FILE = "hpk-codes.json"
VALUE_SET_FILES = {
    "vaccine_manufacturers": "vaccine-mah-manf.json",
    "vaccine_products": "vaccine-medicinal-product.json",
    "test_types": "test-type.json",
}
REQUIRED_DOSES_FILE = "required-doses-per-brand.json"
ALLOWLIST_FILE = "partial_issuance_allowlist.csv"
RULE_DATA_FILES = (HPK_FILE, *VALUE_SET_FILES.values(), REQUIRED_DOSES_FILE, ALLOWLIST_FILE)

# The EU value-set identifiers of the upstream snapshots, written back on export.
VALUE_SET_IDS = {
    "vaccine_manufacturers": "vaccines-covid-19-auth-holders",
    "vaccine_products": "vaccines-covid-19-names",
    "test_types": "covid-19-lab-test-type",
}
_KIND_OF_PART = {
    "vaccine_manufacturers": models.ValueSetEntry.Kind.VACCINE_MANUFACTURER,
    "vaccine_products": models.ValueSetEntry.Kind.VACCINE_PRODUCT,
    "test_types": models.ValueSetEntry.Kind.TEST_TYPE,
}


class RuleDataError(ValueError):
    """A rule-data file that cannot be read or data that fails validation; names the file."""


@dataclass(frozen=True)
class ListChange:
    added: int = 0
    changed: int = 0
    removed: int = 0

    def __str__(self) -> str:
        return f"+{self.added} ~{self.changed} -{self.removed}"


def _parse(name: str, text: str, parser: Callable[[str], Any]) -> Any:
    try:
        return parser(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        detail = str(exc)[:120] if isinstance(exc, ValueError) else f"missing or malformed {exc}"
        raise RuleDataError(f"{name}: {detail}") from None


def rule_data_parse_files(files: dict[str, str], *, base: RuleData | None = None, hpk_file: str = HPK_FILE) -> RuleData:
    """Parse upstream files keyed by file name. With `base`, missing files keep its data;
    without it, all six files are required."""
    known = {hpk_file, *RULE_DATA_FILES[1:]}
    unknown = sorted(set(files) - known)
    if unknown:
        raise RuleDataError(f"unknown rule-data file(s): {', '.join(unknown)}; expected {', '.join(sorted(known))}")
    if base is None:
        missing = sorted(known - set(files))
        if missing:
            raise RuleDataError(f"missing rule-data file(s): {', '.join(missing)}")
    parts: dict[str, Any] = {}
    if hpk_file in files:
        parts["hpk_codes"] = _parse(hpk_file, files[hpk_file], parse_hpk_codes)
    for part, name in VALUE_SET_FILES.items():
        if name in files:
            parts[part] = _parse(name, files[name], parse_value_set)
    if REQUIRED_DOSES_FILE in files:
        parts["required_doses"] = _parse(REQUIRED_DOSES_FILE, files[REQUIRED_DOSES_FILE], parse_required_doses)
    if ALLOWLIST_FILE in files:
        parts["partial_disclosure"] = _parse(ALLOWLIST_FILE, files[ALLOWLIST_FILE], parse_allowlist)
    data = replace(base, **parts) if base is not None else RuleData(**parts)
    rule_data_validate(data)
    return data


def rule_data_read_folder(folder: Path, *, hpk_file: str = HPK_FILE) -> RuleData:
    """Read and validate the six files of a folder (nothing is stored)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RuleDataError(f"{folder} is not a folder")
    files = {}
    for name in (hpk_file, *RULE_DATA_FILES[1:]):
        path = folder / name
        if path.is_file():
            try:
                files[name] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RuleDataError(f"{name}: cannot be read ({type(exc).__name__})") from None
    return rule_data_parse_files(files, hpk_file=hpk_file)


def rule_data_validate(data: RuleData) -> None:
    """The start-up checks of settings.md §2 for rule data; raises RuleDataError."""
    problems = rule_data_problems(
        hpk_codes=data.hpk_codes,
        value_sets={
            models.ValueSetEntry.Kind.VACCINE_MANUFACTURER.value: set(data.vaccine_manufacturers),
            models.ValueSetEntry.Kind.VACCINE_PRODUCT.value: set(data.vaccine_products),
            models.ValueSetEntry.Kind.TEST_TYPE.value: set(data.test_types),
        },
        required_doses=data.required_doses,
        allowlist=data.partial_disclosure,
    )
    for code in data.hpk_codes:
        if not code or len(code) > 32:
            problems.append(f"HPK code {code!r} must have 1 to 32 characters")
    if problems:
        raise RuleDataError("; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))


def rule_data_current() -> RuleData:
    """The rule data stored in the database."""
    value_sets: dict[str, dict[str, str]] = {part: {} for part in _KIND_OF_PART}
    part_of_kind = {kind.value: part for part, kind in _KIND_OF_PART.items()}
    for kind, code, display in models.ValueSetEntry.objects.values_list("kind", "code", "display"):
        value_sets[part_of_kind[kind]][code] = display
    return RuleData(
        hpk_codes={h.code: HpkEntry(vp=h.vp, mp=h.mp, ma=h.ma) for h in models.HpkCode.objects.all()},
        required_doses=dict(models.RequiredDoses.objects.values_list("brand", "doses")),
        partial_disclosure=dict(models.PartialDisclosureRule.objects.values_list("initials", "letters")),
        **value_sets,
    )


def _apply(
    queryset: django_models.QuerySet, key: str, wanted: dict[Any, dict[str, Any]], create: Callable[..., Any]
) -> ListChange:
    """Make the rows of `queryset` (keyed by field `key`) equal `wanted`; saves one row at a time so
    that simple-history records each change."""
    added = changed = removed = 0
    existing = {getattr(row, key): row for row in queryset}
    for value, row in existing.items():
        if value not in wanted:
            row.delete()
            removed += 1
    for value, fields in wanted.items():
        row = existing.get(value)
        if row is None:
            create(**{key: value}, **fields)
            added += 1
        elif any(getattr(row, name) != new for name, new in fields.items()):
            for name, new in fields.items():
                setattr(row, name, new)
            row.save()
            changed += 1
    return ListChange(added, changed, removed)


@transaction.atomic
def rule_data_replace(data: RuleData) -> dict[str, ListChange]:
    """Validate, then make the stored rule data equal `data` in one transaction."""
    rule_data_validate(data)
    rule_history_baseline_ensure()
    result = {
        "HPK codes": _apply(
            models.HpkCode.objects.all(),
            "code",
            {code: {"vp": e.vp, "mp": e.mp, "ma": e.ma} for code, e in data.hpk_codes.items()},
            models.HpkCode.objects.create,
        )
    }
    for part, kind in _KIND_OF_PART.items():
        result[kind.label] = _apply(
            models.ValueSetEntry.objects.filter(kind=kind),
            "code",
            {code: {"display": display[:200]} for code, display in getattr(data, part).items()},
            lambda kind=kind, **fields: models.ValueSetEntry.objects.create(kind=kind, **fields),
        )
    result["required doses"] = _apply(
        models.RequiredDoses.objects.all(),
        "brand",
        {brand: {"doses": doses} for brand, doses in data.required_doses.items()},
        models.RequiredDoses.objects.create,
    )
    result["partial-disclosure allowlist"] = _apply(
        models.PartialDisclosureRule.objects.all(),
        "initials",
        {initials: {"letters": letters} for initials, letters in data.partial_disclosure.items()},
        models.PartialDisclosureRule.objects.create,
    )
    configuration_version_bump()
    return result


def rule_data_files(data: RuleData, *, export_date: date, hpk_file: str = HPK_FILE) -> dict[str, str]:
    """The six upstream files for `data`. The HPK file has one entry per code (the upstream file
    had one per lot; lot details are not kept), value sets keep only their display texts."""
    files = {
        hpk_file: json.dumps(
            {
                "version": export_date.strftime("%Y%m%d") + "00",
                "hpk_codes": [
                    {"hpk_code": code, "vp": e.vp, "mp": e.mp, "ma": e.ma} for code, e in sorted(data.hpk_codes.items())
                ],
            },
            indent=2,
        )
        + "\n"
    }
    for part, name in VALUE_SET_FILES.items():
        values = {
            code: {"display": display, "lang": "en", "active": True} for code, display in sorted(getattr(data, part).items())
        }
        files[name] = (
            json.dumps(
                {"valueSetId": VALUE_SET_IDS[part], "valueSetDate": export_date.isoformat(), "valueSetValues": values},
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    files[REQUIRED_DOSES_FILE] = json.dumps(dict(sorted(data.required_doses.items())), indent=2) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for initials, letters in sorted(data.partial_disclosure.items()):
        writer.writerow([initials, letters])
    files[ALLOWLIST_FILE] = out.getvalue()
    return files
