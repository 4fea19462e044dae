"""Field tables and the reader that applies them, collecting every problem of one result (§4.4).

A `Field` states one key of a JSON object once: its attribute name, its converter (from
`coercions`) and what absent or null mean. The readers report problems in pydantic v1's order:
the fields in table order, nested objects where the table puts them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import RequestValidationError, validation_item
from events.decoding.payloads.coercions import Invalid

Loc = list[Any]


class Problems:
    """Collects the 422 items of one result (§4.4); `loc` = prefix + path inside the payload."""

    def __init__(self, loc_prefix: Sequence[Any]) -> None:
        self.loc_prefix = list(loc_prefix)
        self.items: list[dict[str, Any]] = []

    def add(self, path: Sequence[Any], msg: str, type_: str) -> None:
        self.items.append(validation_item([*self.loc_prefix, *path], msg, type_))

    def raise_if_any(self) -> None:
        if self.items:
            raise RequestValidationError(self.items)


INVALID: Any = object()  # marks a field that produced a problem


@dataclass(frozen=True)
class Field:
    """One field of a JSON object: key, attribute name, converter, and what absent/null mean."""

    key: str
    attr: str
    convert: Callable[[object], Any]
    required: bool = False
    default: Any = None


def read_field(problems: Problems, obj: Mapping[str, Any], path: Loc, field: Field) -> Any:
    loc = [*path, field.key]
    if field.key not in obj:
        if field.required:
            problems.add(loc, "field required", "value_error.missing")
            return INVALID
        return field.default
    value = obj[field.key]
    if value is None:
        if field.required:
            problems.add(loc, "none is not an allowed value", "type_error.none.not_allowed")
            return INVALID
        return field.default
    try:
        return field.convert(value)
    except Invalid as problem:
        problems.add(loc, problem.msg, problem.type)
        return INVALID


def read_fields(problems: Problems, obj: Mapping[str, Any], path: Loc, fields: Sequence[Field]) -> dict[str, Any] | None:
    """The converted fields by attribute name, or None when any of them had a problem."""
    values = {field.attr: read_field(problems, obj, path, field) for field in fields}
    if any(value is INVALID for value in values.values()):
        return None
    return values


def read_object(problems: Problems, obj: Mapping[str, Any], path: Loc, key: str, *, required: bool) -> dict[str, Any] | None:
    """A nested JSON object; None when absent/null (a problem if required) or not an object."""
    loc = [*path, key]
    value = obj.get(key)
    if value is None:
        if required:
            if key in obj:
                problems.add(loc, "none is not an allowed value", "type_error.none.not_allowed")
            else:
                problems.add(loc, "field required", "value_error.missing")
        return None
    if not isinstance(value, dict):
        problems.add(loc, "value is not a valid dict", "type_error.dict")
        return None
    return value


def read_list(problems: Problems, obj: Mapping[str, Any], path: Loc, key: str) -> list[Any] | None:
    loc = [*path, key]
    if key not in obj:
        problems.add(loc, "field required", "value_error.missing")
        return None
    value = obj[key]
    if value is None:
        problems.add(loc, "none is not an allowed value", "type_error.none.not_allowed")
        return None
    if not isinstance(value, list):
        problems.add(loc, "value is not a valid list", "type_error.list")
        return None
    return value
