"""The shapes of a provider result (events.md §4.1, §5.1, §6), stated once.

Each class validates (pydantic v1's coercions, `fields.Coerced`), reports (v1's items,
`fields.validate`) and documents (its JSON schema is the OpenAPI component) one JSON object.
Attribute names are the `events.types` field names, so a payload object becomes its dataclass
field for field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from events.decoding.payloads.coercions import Invalid, to_bool, to_country, to_date, to_datetime, to_int, to_plain_str, to_str
from events.decoding.payloads.fields import Coerced, NotNull, Shape
from events.types import EVENT_TYPES, NegativeTest, Payload, PositiveTest, Recovery, Vaccination

PROTOCOL_V3 = "3.0"
PROTOCOL_V2 = "2.0"
STATUS_COMPLETE = "complete"
STATUS_PENDING = "pending"

# `type` of a 3.0 event (§4.1): the four payload kinds plus `test` of early 3.0 examples.
EVENT_TYPE_CHOICES: tuple[str, ...] = (*EVENT_TYPES, "test")

BIRTH_DATE_PATTERN = r"^[0-9]{4}-([0-9]{2}|XX)-([0-9]{2}|XX)$"
BIRTH_DATE = re.compile(BIRTH_DATE_PATTERN)


def to_event_type(value: object) -> str:
    if isinstance(value, str) and value in EVENT_TYPE_CHOICES:
        return value
    permitted = ", ".join(f"'{choice}'" for choice in EVENT_TYPE_CHOICES)
    raise Invalid(f"value is not a valid enumeration member; permitted: {permitted}", "type_error.enum")


def to_birth_date(value: object) -> str:
    text = to_plain_str(value)
    if not BIRTH_DATE.fullmatch(text):
        raise Invalid(f'string does not match regex "{BIRTH_DATE_PATTERN}"', "value_error.str.regex")
    return text


# The JSON types, as the OpenAPI document shows them; validation is more lenient (v1 coercions).
_STRING: dict[str, Any] = {"type": "string"}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_COUNTRY: dict[str, Any] = {"type": "string", "description": "ISO 3166-1 alpha-2 or alpha-3; default NL"}

Str = Annotated[str, Coerced(to_str, _STRING)]
OptionalStr = Annotated[str | None, Coerced(to_str, _STRING, nullable=True)]
Bool = Annotated[bool, Coerced(to_bool, _BOOLEAN)]
OptionalBool = Annotated[bool | None, Coerced(to_bool, _BOOLEAN, nullable=True)]
DefaultFalse = Annotated[bool, Coerced(to_bool, _BOOLEAN, nullable=True)]
OptionalInt = Annotated[int | None, Coerced(to_int, {"type": "integer"}, nullable=True)]
Date = Annotated[date, Coerced(to_date, {"type": "string", "format": "date"})]
DateTime = Annotated[datetime, Coerced(to_datetime, {"type": "string", "format": "date-time"})]
Country = Annotated[str, Coerced(to_country, _COUNTRY, nullable=True)]
EventType = Annotated[str, Coerced(to_event_type, {"type": "string", "enum": list(EVENT_TYPE_CHOICES)})]
BirthDate = Annotated[str, Coerced(to_birth_date, {"type": "string", "pattern": BIRTH_DATE_PATTERN})]


# --------------------------------------------------------------------------------------------
# Protocol 3.0 (§4.1, §6).


class VaccinationV3(Shape):
    date: Date
    hpk_code: OptionalStr = None
    type: OptionalStr = None
    manufacturer: OptionalStr = None
    brand: OptionalStr = None
    completed_by_medical_statement: OptionalBool = None
    completed_by_personal_statement: OptionalBool = None
    country: Country = "NL"
    dose_number: OptionalInt = None
    total_doses: OptionalInt = None


class NegativeTestV3(Shape):
    sample_date: DateTime
    negative_result: Bool
    facility: Str
    type: Str
    name: Str
    manufacturer: Str
    country: Country = "NL"


class PositiveTestV3(Shape):
    sample_date: DateTime
    positive_result: Bool
    facility: Str
    type: Str
    name: Str
    manufacturer: Str
    country: Country = "NL"


class RecoveryV3(Shape):
    sample_date: Date
    valid_from: Date
    valid_until: Date
    country: Country = "NL"


# The four payload objects (§4.1): the event's key → the dataclass its shape becomes.
PAYLOAD_KINDS: Mapping[str, type[Payload]] = {
    "vaccination": Vaccination,
    "negativetest": NegativeTest,
    "positivetest": PositiveTest,
    "recovery": Recovery,
}


class EventV3(Shape):
    type: EventType
    unique: OptionalStr = None
    is_specimen: DefaultFalse = False
    vaccination: VaccinationV3 | None = None
    negativetest: NegativeTestV3 | None = None
    positivetest: PositiveTestV3 | None = None
    recovery: RecoveryV3 | None = None

    def payloads(self) -> dict[str, Payload]:
        """The event's non-null payload objects by key, as `events.types` dataclasses."""
        found: dict[str, Payload] = {}
        for kind, payload_class in PAYLOAD_KINDS.items():
            shape = getattr(self, kind)
            if shape is not None:
                found[kind] = payload_class(**shape.__dict__)
        return found


class HolderV3(Shape):
    first_name: Str
    last_name: Str
    infix: OptionalStr = None
    birth_date: BirthDate


class ProtocolVersionV3(Shape):
    """`protocolVersion` as upstream's 3.0 model had it: an optional string, value unchecked (api.md §8)."""

    protocol_version: OptionalStr = None


class PendingResultV3(ProtocolVersionV3):
    """What a 3.0 result must have in any case; all a pending result is checked for (§6)."""

    provider_identifier: Str
    status: Annotated[str, Coerced(to_str, _STRING, nullable=True)] = STATUS_COMPLETE


# events.md §4.1
class ResultV3(PendingResultV3):
    """A complete provider result of protocol 3.0: the holder and the events."""

    holder: Annotated[HolderV3, NotNull]
    events: Annotated[list[EventV3], NotNull]


# --------------------------------------------------------------------------------------------
# Protocol 2.0 (§5.1, §6).


class HolderV2(Shape):
    first_name_initial: Str
    last_name_initial: Str
    birth_day: Str
    birth_month: Str


class V2TestResult(Shape):
    unique: Str
    sample_date: DateTime
    test_type: Str
    negative_result: Bool
    is_specimen: DefaultFalse = False
    holder: Annotated[HolderV2, NotNull]


class ProtocolVersionV2(Shape):
    """`protocolVersion` as upstream's 2.0 model had it: a required string, value unchecked (api.md §8)."""

    protocol_version: Str


class PendingResultV2(ProtocolVersionV2):
    """What a 2.0 result must have in any case; all a pending result is checked for (§6)."""

    provider_identifier: Str
    status: Str


# events.md §5.1
class ResultV2(PendingResultV2):
    """A complete provider result of protocol 2.0: one test result."""

    result: Annotated[V2TestResult, NotNull]
