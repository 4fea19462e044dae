"""The shapes of a provider result (events.md §4.1, §5.1): constants and field tables, stated once."""

from __future__ import annotations

import re
from collections.abc import Mapping

from events.decoding.payloads.coercions import Invalid, to_bool, to_country, to_date, to_datetime, to_int, to_plain_str, to_str
from events.decoding.payloads.fields import Field
from events.types import EVENT_TYPES, NegativeTest, PositiveTest, Recovery, Vaccination

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


STATUS_V3 = Field("status", "status", to_str, default=STATUS_COMPLETE)
STATUS_V2 = Field("status", "status", to_str, required=True)
PROVIDER_IDENTIFIER = Field("providerIdentifier", "provider_identifier", to_str, required=True)

HOLDER_V3 = (
    Field("firstName", "first_name", to_str, required=True),
    Field("lastName", "last_name", to_str, required=True),
    Field("infix", "infix", to_str),
    Field("birthDate", "birth_date", to_birth_date, required=True),
)

EVENT_V3 = (
    Field("type", "type", to_event_type, required=True),
    Field("unique", "unique", to_str),
    Field("isSpecimen", "is_specimen", to_bool, default=False),
)

COUNTRY_FIELD = Field("country", "country", to_country, default="NL")


def _test_fields(result_key: str, result_attr: str) -> tuple[Field, ...]:
    return (
        Field("sampleDate", "sample_date", to_datetime, required=True),
        Field(result_key, result_attr, to_bool, required=True),
        Field("facility", "facility", to_str, required=True),
        Field("type", "type", to_str, required=True),
        Field("name", "name", to_str, required=True),
        Field("manufacturer", "manufacturer", to_str, required=True),
        COUNTRY_FIELD,
    )


# The four payload objects (§4.1): dataclass and fields; unknown fields are ignored.
PAYLOAD_KINDS: Mapping[str, tuple[type, tuple[Field, ...]]] = {
    "vaccination": (
        Vaccination,
        (
            Field("date", "date", to_date, required=True),
            Field("hpkCode", "hpk_code", to_str),
            Field("type", "type", to_str),
            Field("manufacturer", "manufacturer", to_str),
            Field("brand", "brand", to_str),
            Field("completedByMedicalStatement", "completed_by_medical_statement", to_bool),
            Field("completedByPersonalStatement", "completed_by_personal_statement", to_bool),
            COUNTRY_FIELD,
            Field("doseNumber", "dose_number", to_int),
            Field("totalDoses", "total_doses", to_int),
        ),
    ),
    "negativetest": (NegativeTest, _test_fields("negativeResult", "negative_result")),
    "positivetest": (PositiveTest, _test_fields("positiveResult", "positive_result")),
    "recovery": (
        Recovery,
        (
            Field("sampleDate", "sample_date", to_date, required=True),
            Field("validFrom", "valid_from", to_date, required=True),
            Field("validUntil", "valid_until", to_date, required=True),
            COUNTRY_FIELD,
        ),
    ),
}


RESULT_V2 = (
    Field("unique", "unique", to_str, required=True),
    Field("sampleDate", "sample_date", to_datetime, required=True),
    Field("testType", "test_type", to_str, required=True),
    Field("negativeResult", "negative_result", to_bool, required=True),
    Field("isSpecimen", "is_specimen", to_bool, default=False),
)

HOLDER_V2 = (
    Field("firstNameInitial", "first_name_initial", to_str, required=True),
    Field("lastNameInitial", "last_name_initial", to_str, required=True),
    Field("birthDay", "birth_day", to_str, required=True),
    Field("birthMonth", "birth_month", to_str, required=True),
)
