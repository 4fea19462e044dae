"""Provider results: protocol detection, validation and the 2.0 upgrade (events.md §3–§6).

The steps, each a plain function over the decoded JSON value:

- `detect_protocol` (§3, 422 with the exact upstream messages);
- `structure_v3` / `structure_v2` (§4.1, §4.2, §5.1, §6): shapes, lenient type coercion, dates,
  datetimes and countries; every problem of one result is collected into one 422
  (`RequestValidationError`, pydantic-style items, §4.4);
- `semantics_v3` / `semantics_v2` (§4.3, §5.2): 400s with a stable code; events without a
  payload object are dropped here;
- `upgrade_v2` (§5.2): one protocol 3.0 result with one negative test.

`validate_provider_result` chains the first three for one blob; the intake runs the provider
lookup and the signature check before calling `upgrade`.

Nothing here may raise anything but `RequestValidationError` or `ServiceError` for any JSON
value: hostile input (huge numbers, long strings, odd types) always ends as a 4xx.
"""

from __future__ import annotations

import calendar
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pycountry

from common.errors import RequestValidationError, ServiceError, validation_item
from events.types import (
    EVENT_TYPES,
    V2_BIRTH_YEAR,
    Event,
    Holder,
    NegativeTest,
    Payload,
    PositiveTest,
    ProviderResult,
    Recovery,
    Vaccination,
)

logger = logging.getLogger(__name__)

Loc = list[Any]

PROTOCOL_V3 = "3.0"
PROTOCOL_V2 = "2.0"
STATUS_COMPLETE = "complete"
STATUS_PENDING = "pending"

# `type` of a 3.0 event (§4.1): the four payload kinds plus `test` of early 3.0 examples.
EVENT_TYPE_CHOICES: tuple[str, ...] = (*EVENT_TYPES, "test")

BIRTH_DATE_PATTERN = r"^[0-9]{4}-([0-9]{2}|XX)-([0-9]{2}|XX)$"
_BIRTH_DATE = re.compile(BIRTH_DATE_PATTERN)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]{1,12}))?)?"
    r"(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_COUNTRY = re.compile(r"[A-Z]{2,3}")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_TRUE_TEXTS = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE_TEXTS = frozenset({"0", "off", "f", "false", "n", "no"})

# 2.0 `testType` → 3.0 test-type code (§5.2).
V2_TEST_TYPES: Mapping[str, str] = {"antigen": "LP217198-3", "pcr": "LP6464-4", "pcr-lamp": "LP6464-4"}
V2_UNKNOWN_TEST_TYPE = "unknown"
NOT_AVAILABLE = "not available"

# Days of each month in a leap year, so that 29 February is a valid 2.0 birth day (§5.2).
_LEAP_YEAR_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


# --------------------------------------------------------------------------------------------
# Structural results (§4.1, §5.1): what passed the 422 checks, before the 400 checks.


@dataclass
class StructuredEvent:
    """One 3.0 event after the structural check; `payloads` holds its non-null payload objects."""

    index: int
    type: str
    unique: str | None
    is_specimen: bool
    payloads: dict[str, Payload]


@dataclass
class StructuredHolderV3:
    first_name: str
    last_name: str
    infix: str | None
    birth_date: str


@dataclass
class StructuredResultV3:
    """A 3.0 result after the structural check; `holder` is None only for a pending result (§6)."""

    provider_identifier: str
    status: str
    holder: StructuredHolderV3 | None
    events: list[StructuredEvent]


@dataclass
class StructuredHolderV2:
    first_name_initial: str
    last_name_initial: str
    birth_day: str
    birth_month: str


@dataclass
class StructuredTestResultV2:
    unique: str
    sample_date: datetime
    test_type: str
    negative_result: bool
    is_specimen: bool
    holder: StructuredHolderV2


@dataclass
class StructuredResultV2:
    """A 2.0 result after the structural check; `result` is None only for a pending result (§6)."""

    provider_identifier: str
    status: str
    result: StructuredTestResultV2 | None


@dataclass
class ValidatedResult:
    """One provider result that passed §3–§6: the identifier to look up and what becomes of it.

    Exactly one of `v3` (already a `ProviderResult`) and `v2` (upgraded by `upgrade`) is set.
    """

    protocol_version: str
    provider_identifier: str
    status: str
    v3: ProviderResult | None = None
    v2: StructuredResultV2 | None = None

    @property
    def pending(self) -> bool:
        return self.status == STATUS_PENDING


# --------------------------------------------------------------------------------------------
# Problem collection and field conversion (§4.1, §4.2, §4.4).


class _Invalid(Exception):
    """A value that cannot be converted; becomes one 422 item."""

    def __init__(self, msg: str, type_: str) -> None:
        super().__init__(type_)
        self.msg = msg
        self.type = type_


class _Problems:
    """Collects the 422 items of one result (§4.4); `loc` = prefix + path inside the payload."""

    def __init__(self, loc_prefix: Sequence[Any]) -> None:
        self.loc_prefix = list(loc_prefix)
        self.items: list[dict[str, Any]] = []

    def add(self, path: Sequence[Any], msg: str, type_: str) -> None:
        self.items.append(validation_item([*self.loc_prefix, *path], msg, type_))

    def raise_if_any(self) -> None:
        if self.items:
            raise RequestValidationError(self.items)


_INVALID: Any = object()  # marks a field that produced a problem


def _to_str(value: object) -> str:
    """A string; numbers become their decimal text (§4.1). Booleans are not numbers here."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # beyond Python's int-to-text digit limit
            raise _Invalid("str type expected", "type_error.str") from None
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise _Invalid("str type expected", "type_error.str")


def _to_plain_str(value: object) -> str:
    """A string without coercion (the holder's birth date, §4.1)."""
    if isinstance(value, str):
        return value
    raise _Invalid("str type expected", "type_error.str")


def _to_bool(value: object) -> bool:
    """A boolean: `true`/`false`, 0/1 and the usual string forms (§4.1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_TEXTS:
            return True
        if text in _FALSE_TEXTS:
            return False
    raise _Invalid("value could not be parsed to a boolean", "type_error.bool")


def _to_int(value: object) -> int:
    """An integer; integer strings and integral floats are accepted (§4.1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        try:
            return int(value.strip())
        except ValueError:  # beyond Python's text-to-int digit limit
            pass
    raise _Invalid("value is not a valid integer", "type_error.integer")


def _to_date(value: object) -> date:
    """An ISO date `YYYY-MM-DD` (§4.2)."""
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise _Invalid("invalid date format", "value_error.date")


def _to_datetime(value: object) -> datetime:
    """An ISO 8601 datetime with a time part (§4.2); the offset is kept, `Z` is UTC.

    A value without offset comes back naive: that is a 400 of the semantic step, not a 422.
    """
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match:
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        microsecond = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                microsecond,
                tzinfo=_offset(offset),
            )
        except ValueError:
            pass
    raise _Invalid("invalid datetime format", "value_error.datetime")


def _offset(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    if not delta:
        return UTC
    return timezone(-delta if text[0] == "-" else delta)


def _to_country(value: object) -> str:
    """ISO 3166-1 alpha-2 code of an alpha-2 or alpha-3 country (§4.2)."""
    text = _to_str(value)
    if not _COUNTRY.fullmatch(text):
        raise _Invalid("ISO 3166-1 alpha-2|3 requires two or three characters.", "value_error")
    if len(text) == 3:
        country = pycountry.countries.get(alpha_3=text)
    else:
        country = pycountry.countries.get(alpha_2=text)
    if country is None:
        raise _Invalid("Given country is not known to ISO 3166-1 alpha-2|3.", "value_error")
    return str(country.alpha_2)


def _to_event_type(value: object) -> str:
    if isinstance(value, str) and value in EVENT_TYPE_CHOICES:
        return value
    permitted = ", ".join(f"'{choice}'" for choice in EVENT_TYPE_CHOICES)
    raise _Invalid(f"value is not a valid enumeration member; permitted: {permitted}", "type_error.enum")


def _to_birth_date(value: object) -> str:
    text = _to_plain_str(value)
    if not _BIRTH_DATE.fullmatch(text):
        raise _Invalid(f'string does not match regex "{BIRTH_DATE_PATTERN}"', "value_error.str.regex")
    return text


@dataclass(frozen=True)
class _Field:
    """One field of a JSON object: key, attribute name, converter, and what absent/null mean."""

    key: str
    attr: str
    convert: Callable[[object], Any]
    required: bool = False
    default: Any = None


def _read_field(problems: _Problems, obj: Mapping[str, Any], path: Loc, field: _Field) -> Any:
    loc = [*path, field.key]
    if field.key not in obj:
        if field.required:
            problems.add(loc, "field required", "value_error.missing")
            return _INVALID
        return field.default
    value = obj[field.key]
    if value is None:
        if field.required:
            problems.add(loc, "none is not an allowed value", "type_error.none.not_allowed")
            return _INVALID
        return field.default
    try:
        return field.convert(value)
    except _Invalid as problem:
        problems.add(loc, problem.msg, problem.type)
        return _INVALID


def _read_fields(problems: _Problems, obj: Mapping[str, Any], path: Loc, fields: Sequence[_Field]) -> dict[str, Any] | None:
    """The converted fields by attribute name, or None when any of them had a problem."""
    values = {field.attr: _read_field(problems, obj, path, field) for field in fields}
    if any(value is _INVALID for value in values.values()):
        return None
    return values


def _read_object(problems: _Problems, obj: Mapping[str, Any], path: Loc, key: str, *, required: bool) -> dict[str, Any] | None:
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


def _read_list(problems: _Problems, obj: Mapping[str, Any], path: Loc, key: str) -> list[Any] | None:
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


# --------------------------------------------------------------------------------------------
# §3 Protocol detection.


def protocol_version_loc(loc_prefix: Sequence[Any]) -> Loc:
    return [*loc_prefix, "protocolVersion"]


def detect_protocol(document: object, *, loc_prefix: Sequence[Any]) -> str:
    """`"3.0"` or `"2.0"` (events.md §3); 422 with the exact upstream messages otherwise.

    A JSON value that is not an object counts as an object without `protocolVersion` (§1).
    """
    loc = protocol_version_loc(loc_prefix)
    if not isinstance(document, dict) or "protocolVersion" not in document:
        raise RequestValidationError([validation_item(loc, "field required", "value_error.missing")])
    version = document["protocolVersion"]
    if isinstance(version, str) and version in (PROTOCOL_V3, PROTOCOL_V2):
        return version
    raise RequestValidationError([validation_item(loc, "value should be 2.0 or 3.0", "value_error.invalid")])


# --------------------------------------------------------------------------------------------
# §4.1, §4.2, §6 Structural validation of protocol 3.0.

_STATUS_V3 = _Field("status", "status", _to_str, default=STATUS_COMPLETE)
_STATUS_V2 = _Field("status", "status", _to_str, required=True)
_PROVIDER_IDENTIFIER = _Field("providerIdentifier", "provider_identifier", _to_str, required=True)

_HOLDER_V3 = (
    _Field("firstName", "first_name", _to_str, required=True),
    _Field("lastName", "last_name", _to_str, required=True),
    _Field("infix", "infix", _to_str),
    _Field("birthDate", "birth_date", _to_birth_date, required=True),
)

_EVENT_V3 = (
    _Field("type", "type", _to_event_type, required=True),
    _Field("unique", "unique", _to_str),
    _Field("isSpecimen", "is_specimen", _to_bool, default=False),
)

_COUNTRY_FIELD = _Field("country", "country", _to_country, default="NL")


def _test_fields(result_key: str, result_attr: str) -> tuple[_Field, ...]:
    return (
        _Field("sampleDate", "sample_date", _to_datetime, required=True),
        _Field(result_key, result_attr, _to_bool, required=True),
        _Field("facility", "facility", _to_str, required=True),
        _Field("type", "type", _to_str, required=True),
        _Field("name", "name", _to_str, required=True),
        _Field("manufacturer", "manufacturer", _to_str, required=True),
        _COUNTRY_FIELD,
    )


# The four payload objects (§4.1): dataclass and fields; unknown fields are ignored.
PAYLOAD_KINDS: Mapping[str, tuple[type, tuple[_Field, ...]]] = {
    "vaccination": (
        Vaccination,
        (
            _Field("date", "date", _to_date, required=True),
            _Field("hpkCode", "hpk_code", _to_str),
            _Field("type", "type", _to_str),
            _Field("manufacturer", "manufacturer", _to_str),
            _Field("brand", "brand", _to_str),
            _Field("completedByMedicalStatement", "completed_by_medical_statement", _to_bool),
            _Field("completedByPersonalStatement", "completed_by_personal_statement", _to_bool),
            _COUNTRY_FIELD,
            _Field("doseNumber", "dose_number", _to_int),
            _Field("totalDoses", "total_doses", _to_int),
        ),
    ),
    "negativetest": (NegativeTest, _test_fields("negativeResult", "negative_result")),
    "positivetest": (PositiveTest, _test_fields("positiveResult", "positive_result")),
    "recovery": (
        Recovery,
        (
            _Field("sampleDate", "sample_date", _to_date, required=True),
            _Field("validFrom", "valid_from", _to_date, required=True),
            _Field("validUntil", "valid_until", _to_date, required=True),
            _COUNTRY_FIELD,
        ),
    ),
}


def _structure_event(problems: _Problems, value: object, index: int) -> StructuredEvent | None:
    path: Loc = ["events", index]
    if not isinstance(value, dict):
        problems.add(path, "value is not a valid dict", "type_error.dict")
        return None
    header = _read_fields(problems, value, path, _EVENT_V3)
    payloads: dict[str, Payload] = {}
    for kind, (payload_class, fields) in PAYLOAD_KINDS.items():
        obj = _read_object(problems, value, path, kind, required=False)
        if obj is None:
            continue
        values = _read_fields(problems, obj, [*path, kind], fields)
        if values is not None:
            payloads[kind] = payload_class(**values)
    if header is None:
        return None
    return StructuredEvent(index=index, payloads=payloads, **header)


def _is_pending(document: Mapping[str, Any]) -> bool:
    """A result whose `status` is exactly `"pending"` (§6)."""
    return document.get("status") == STATUS_PENDING


def structure_v3(document: Mapping[str, Any], *, loc_prefix: Sequence[Any]) -> StructuredResultV3:
    """Structural validation of a 3.0 result (§4.1, §4.2; reduced for a pending result, §6); 422."""
    problems = _Problems(loc_prefix)
    head = _read_fields(problems, document, [], (_PROVIDER_IDENTIFIER, _STATUS_V3))
    if _is_pending(document):
        problems.raise_if_any()
        assert head is not None
        return StructuredResultV3(head["provider_identifier"], head["status"], holder=None, events=[])
    holder_obj = _read_object(problems, document, [], "holder", required=True)
    holder_values = _read_fields(problems, holder_obj, ["holder"], _HOLDER_V3) if holder_obj is not None else None
    raw_events = _read_list(problems, document, [], "events")
    events = [_structure_event(problems, value, index) for index, value in enumerate(raw_events or [])]
    problems.raise_if_any()
    assert head is not None and holder_values is not None
    return StructuredResultV3(
        provider_identifier=head["provider_identifier"],
        status=head["status"],
        holder=StructuredHolderV3(**holder_values),
        events=[event for event in events if event is not None],
    )


# --------------------------------------------------------------------------------------------
# §5.1, §6 Structural validation of protocol 2.0.

_RESULT_V2 = (
    _Field("unique", "unique", _to_str, required=True),
    _Field("sampleDate", "sample_date", _to_datetime, required=True),
    _Field("testType", "test_type", _to_str, required=True),
    _Field("negativeResult", "negative_result", _to_bool, required=True),
    _Field("isSpecimen", "is_specimen", _to_bool, default=False),
)

_HOLDER_V2 = (
    _Field("firstNameInitial", "first_name_initial", _to_str, required=True),
    _Field("lastNameInitial", "last_name_initial", _to_str, required=True),
    _Field("birthDay", "birth_day", _to_str, required=True),
    _Field("birthMonth", "birth_month", _to_str, required=True),
)


def structure_v2(document: Mapping[str, Any], *, loc_prefix: Sequence[Any]) -> StructuredResultV2:
    """Structural validation of a 2.0 result (§5.1; reduced for a pending result, §6); 422."""
    problems = _Problems(loc_prefix)
    head = _read_fields(problems, document, [], (_PROVIDER_IDENTIFIER, _STATUS_V2))
    if _is_pending(document):
        problems.raise_if_any()
        assert head is not None
        return StructuredResultV2(head["provider_identifier"], head["status"], result=None)
    result_obj = _read_object(problems, document, [], "result", required=True)
    result_values = holder_values = None
    if result_obj is not None:
        result_values = _read_fields(problems, result_obj, ["result"], _RESULT_V2)
        holder_obj = _read_object(problems, result_obj, ["result"], "holder", required=True)
        if holder_obj is not None:
            holder_values = _read_fields(problems, holder_obj, ["result", "holder"], _HOLDER_V2)
    problems.raise_if_any()
    assert head is not None and result_values is not None and holder_values is not None
    return StructuredResultV2(
        provider_identifier=head["provider_identifier"],
        status=head["status"],
        result=StructuredTestResultV2(holder=StructuredHolderV2(**holder_values), **result_values),
    )


# --------------------------------------------------------------------------------------------
# §4.3 Semantic validation of protocol 3.0 (400).


def _semantic_error(code: str, detail: str, blob_index: int, path: Sequence[Any]) -> ServiceError:
    return ServiceError(400, code, detail, ["events", blob_index, "payload", *path])


def birth_date_parts(text: str) -> tuple[int, int | None, int | None] | None:
    """Year, month, day (None for `XX`) of a possible 3.0 birth date, or None if impossible (§4.3)."""
    year_text, month_text, day_text = text.split("-")
    year = int(year_text)
    month = None if month_text == "XX" else int(month_text)
    day = None if day_text == "XX" else int(day_text)
    if year == 0:
        return None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= 31:
        return None
    if month is not None and day is not None and day > calendar.monthrange(year, month)[1]:
        return None
    return year, month, day


def _holder_v3(structured: StructuredHolderV3, *, blob_index: int) -> Holder:
    parts = birth_date_parts(structured.birth_date)
    if parts is None:
        raise _semantic_error("invalid_birth_date", "The holder's birth date is impossible.", blob_index, ["holder", "birthDate"])
    year, month, day = parts
    return Holder(
        first_name=structured.first_name,
        last_name=structured.last_name,
        infix=structured.infix,
        birth_year=year,
        birth_month=month,
        birth_day=day,
    )


def _event_payload(event: StructuredEvent, *, blob_index: int) -> Payload:
    """The event's one payload object, whose name must equal its `type` (§4.3)."""
    if len(event.payloads) > 1 or event.type not in event.payloads:
        raise _semantic_error(
            "event_type_mismatch",
            "An event must have exactly one payload object, named after its type.",
            blob_index,
            ["events", event.index],
        )
    return event.payloads[event.type]


def _check_offset(value: datetime, *, blob_index: int, path: Sequence[Any]) -> None:
    """Datetimes carry a UTC offset (§4.2, §4.3)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise _semantic_error("naive_datetime", "A datetime has no UTC offset.", blob_index, path)


def semantics_v3(structured: StructuredResultV3, *, blob_index: int) -> ProviderResult:
    """Semantic validation of a complete 3.0 result (§4.3, 400); events without a payload are dropped."""
    assert structured.holder is not None
    holder = _holder_v3(structured.holder, blob_index=blob_index)
    events: list[Event] = []
    for event in structured.events:
        if not event.payloads:
            logger.warning(
                "event without payload object dropped: blob %d, event %d, type %s",
                blob_index,
                event.index,
                event.type,
            )
            continue
        payload = _event_payload(event, blob_index=blob_index)
        if isinstance(payload, (NegativeTest, PositiveTest)):
            _check_offset(payload.sample_date, blob_index=blob_index, path=["events", event.index, event.type, "sampleDate"])
        events.append(
            Event(
                type=event.type,
                unique=event.unique,
                is_specimen=event.is_specimen,
                source_provider=structured.provider_identifier,
                holder=holder,
                payload=payload,
            )
        )
    return ProviderResult(
        protocol_version=PROTOCOL_V3,
        provider_identifier=structured.provider_identifier,
        status=structured.status,
        holder=holder,
        events=events,
    )


# --------------------------------------------------------------------------------------------
# §5.2 Protocol 2.0: birth-field check and upgrade.


def v2_birth_number(text: str, *, maximum: int) -> int | None:
    """A 2.0 birth day or month: one or more ASCII digits, 1..maximum (§5.2); None otherwise."""
    if not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > 2:
        return None
    number = int(significant or "0")
    return number if 1 <= number <= maximum else None


def v2_birth_month_day(holder: StructuredHolderV2) -> tuple[int | None, int | None]:
    """Month and day of a 2.0 holder; day checked against the month's length in a leap year."""
    month = v2_birth_number(holder.birth_month, maximum=12)
    if month is None:
        return None, None
    return month, v2_birth_number(holder.birth_day, maximum=_LEAP_YEAR_MONTH_DAYS[month - 1])


def semantics_v2(structured: StructuredResultV2, *, blob_index: int) -> None:
    """Semantic checks of a complete 2.0 result: birth day/month (§5.2), sample-date offset (§4.2)."""
    result = structured.result
    assert result is not None
    month, day = v2_birth_month_day(result.holder)
    if month is None or day is None:
        field = "birthMonth" if month is None else "birthDay"
        raise _semantic_error(
            "invalid_birth_date",
            "The holder's birth day or month is impossible.",
            blob_index,
            ["result", "holder", field],
        )
    _check_offset(result.sample_date, blob_index=blob_index, path=["result", "sampleDate"])


def upgrade_v2(structured: StructuredResultV2) -> ProviderResult:
    """The 2.0 result as one 3.0 result with one negative test (§5.2); only after `semantics_v2`."""
    result = structured.result
    assert result is not None
    month, day = v2_birth_month_day(result.holder)
    holder = Holder(
        first_name=result.holder.first_name_initial,
        last_name=result.holder.last_name_initial,
        infix="",
        birth_year=V2_BIRTH_YEAR,
        birth_month=month,
        birth_day=day,
    )
    test = NegativeTest(
        sample_date=result.sample_date,
        negative_result=result.negative_result,
        facility=NOT_AVAILABLE,
        type=V2_TEST_TYPES.get(result.test_type, V2_UNKNOWN_TEST_TYPE),
        name=NOT_AVAILABLE,
        manufacturer=NOT_AVAILABLE,
        country="NL",
    )
    event = Event(
        type="negativetest",
        unique=result.unique,
        is_specimen=result.is_specimen,
        source_provider=structured.provider_identifier,
        holder=holder,
        payload=test,
    )
    return ProviderResult(
        protocol_version=PROTOCOL_V3,
        provider_identifier=structured.provider_identifier,
        status=structured.status,
        holder=holder,
        events=[event],
    )


# --------------------------------------------------------------------------------------------
# One blob: §3 → structure → semantics; the upgrade after the signature check.


def validate_provider_result(document: object, *, blob_index: int) -> ValidatedResult:
    """Protocol detection, structural and semantic validation of one blob's JSON (§3–§6).

    422 (`RequestValidationError`, loc `["body", i, "payload", …]`) for §3/§4.1/§5.1 problems,
    400 (`ServiceError`, loc `["events", i, "payload", …]`) for §4.3/§5.2 problems. A pending
    result gets the reduced checks of §6 only.
    """
    loc_prefix = ["body", blob_index, "payload"]
    protocol = detect_protocol(document, loc_prefix=loc_prefix)
    assert isinstance(document, dict)
    if protocol == PROTOCOL_V3:
        structured_v3 = structure_v3(document, loc_prefix=loc_prefix)
        if structured_v3.status == STATUS_PENDING:
            result = ProviderResult(PROTOCOL_V3, structured_v3.provider_identifier, STATUS_PENDING, None, [])
        else:
            result = semantics_v3(structured_v3, blob_index=blob_index)
        return ValidatedResult(protocol, result.provider_identifier, result.status, v3=result)
    structured_v2 = structure_v2(document, loc_prefix=loc_prefix)
    if structured_v2.status != STATUS_PENDING:
        semantics_v2(structured_v2, blob_index=blob_index)
    return ValidatedResult(protocol, structured_v2.provider_identifier, structured_v2.status, v2=structured_v2)


def upgrade(validated: ValidatedResult) -> ProviderResult:
    """The result in protocol 3.0 shape (§5.2); a pending result stays without holder and events (§6)."""
    if validated.v3 is not None:
        return validated.v3
    assert validated.v2 is not None
    if validated.pending:
        return ProviderResult(PROTOCOL_V3, validated.provider_identifier, STATUS_PENDING, None, [])
    return upgrade_v2(validated.v2)


def validate_structure(document: object, *, protocol: str, loc_prefix: Sequence[Any]) -> None:
    """Structural validation of a whole document as a `protocol` result (api.md §8); 422 on error.

    `protocolVersion` must be a string (required for 2.0, optional for 3.0, as upstream's models);
    its value is not checked.
    """
    if not isinstance(document, dict):
        raise RequestValidationError([validation_item(list(loc_prefix), "value is not a valid dict", "type_error.dict")])
    problems = _Problems(loc_prefix)
    _read_field(problems, document, [], _Field("protocolVersion", "protocol_version", _to_str, protocol == PROTOCOL_V2))
    problems.raise_if_any()
    if protocol == PROTOCOL_V2:
        structure_v2(document, loc_prefix=loc_prefix)
    else:
        structure_v3(document, loc_prefix=loc_prefix)
