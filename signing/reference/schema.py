"""DCC schema 1.3.0 validation before signing (decision x, rules-eu.md §4; signers.md §3)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "resources" / "DCC.combined-schema-1.3.0.json"


@lru_cache(maxsize=1)
def dcc_validator() -> jsonschema.Draft202012Validator:
    """A draft 2020-12 validator for the bundled schema, with date/date-time format checks."""
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        schema = json.load(handle)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def dcc_schema_errors(dcc: Mapping[str, Any] | Any) -> list[str]:
    """Human-readable schema violations of `dcc` (empty when valid); paths only, no values."""
    return [
        "/".join(str(part) for part in error.absolute_path) + f": {error.validator}"
        for error in dcc_validator().iter_errors(dcc)
    ]


def is_valid_dcc(dcc: Mapping[str, Any] | Any) -> bool:
    return dcc_validator().is_valid(dcc)
