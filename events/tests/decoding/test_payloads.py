"""Tests of `events/decoding/payloads/`: detection, validation and the 2.0 upgrade (events.md §3–§6)."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from common.errors import RequestValidationError, ServiceError
from devtools.testing.reference import REFERENCE as SHARED_REFERENCE
from events.decoding.payloads import (
    detect_protocol,
    upgrade,
    validate_provider_result,
    validate_structure,
)
from events.types import Holder, NegativeTest, PositiveTest, Recovery, Vaccination

REFERENCE = SHARED_REFERENCE / "events"
PREFIX = ["body", 0, "payload"]


def v3_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "protocolVersion": "3.0",
        "providerIdentifier": "ZZZ",
        "status": "complete",
        "holder": {"firstName": "Top", "infix": "", "lastName": "Pertje", "birthDate": "1950-01-01"},
        "events": [
            {
                "type": "vaccination",
                "unique": "v1",
                "isSpecimen": False,
                "vaccination": {
                    "date": "2021-06-01",
                    "hpkCode": "2924528",
                    "type": "1119349007",
                    "manufacturer": "ORG-100030215",
                    "brand": "EU/1/20/1507",
                    "completedByMedicalStatement": False,
                    "completedByPersonalStatement": False,
                    "country": "NLD",
                    "doseNumber": 1,
                    "totalDoses": 2,
                },
            },
            {
                "type": "negativetest",
                "unique": "n1",
                "negativetest": {
                    "sampleDate": "2021-05-27T19:23:00+02:00",
                    "resultDate": "2021-05-27T19:38:00+00:00",
                    "negativeResult": True,
                    "facility": "Facility1",
                    "type": "LP6464-4",
                    "name": "Test1",
                    "manufacturer": "1232",
                    "country": "BEL",
                },
            },
            {
                "type": "positivetest",
                "unique": "p1",
                "positivetest": {
                    "sampleDate": "2021-05-01T10:00:00Z",
                    "positiveResult": True,
                    "facility": "GGD",
                    "type": "LP6464-4",
                    "name": "PCR",
                    "manufacturer": "1232",
                },
            },
            {
                "type": "recovery",
                "unique": "r1",
                "recovery": {"sampleDate": "2021-05-01", "validFrom": "2021-05-12", "validUntil": "2021-11-01"},
            },
        ],
    }
    document.update(overrides)
    return document


def v2_document(**result_overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "unique": "19ba0f739ee8b6d98950f1a30e58bcd1996d7b3e",
        "sampleDate": "2021-06-01T05:40:00Z",
        "testType": "antigen",
        "negativeResult": True,
        "isSpecimen": True,
        "holder": {"firstNameInitial": "T", "lastNameInitial": "P", "birthDay": "1", "birthMonth": "1"},
    }
    result.update(result_overrides)
    return {"protocolVersion": "2.0", "providerIdentifier": "ZZZ", "status": "complete", "result": result}


def with_v2_holder(**holder: Any) -> dict[str, Any]:
    document = v2_document()
    document["result"]["holder"].update(holder)
    return document


def errors_of(document: object, blob_index: int = 0) -> list[dict[str, Any]]:
    with pytest.raises(RequestValidationError) as raised:
        validate_provider_result(document, blob_index=blob_index)
    return raised.value.errors


def service_error_of(document: object, blob_index: int = 0) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        validate_provider_result(document, blob_index=blob_index)
    assert raised.value.status == 400
    return raised.value


def first_event(document: dict[str, Any], event_index: int = 0) -> Any:
    return upgrade(validate_provider_result(document, blob_index=0)).events[event_index]


# --- §3 protocol detection ---------------------------------------------------------------


@pytest.mark.parametrize("document", [{}, [], [{"protocolVersion": "3.0"}], "3.0", 3, None, {"protocolversion": "3.0"}])
def test_missing_protocol_version_is_field_required(document: object) -> None:
    assert errors_of(document, blob_index=2) == [
        {"loc": ["body", 2, "payload", "protocolVersion"], "msg": "field required", "type": "value_error.missing"}
    ]


@pytest.mark.parametrize("version", ["1.0", "3", "3.0 ", 3.0, 2, None, ["3.0"], "4.0"])
def test_other_protocol_version_is_invalid(version: object) -> None:
    assert errors_of({"protocolVersion": version}) == [
        {"loc": [*PREFIX, "protocolVersion"], "msg": "value should be 2.0 or 3.0", "type": "value_error.invalid"}
    ]


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_known_protocol_versions_are_detected(version: str) -> None:
    assert detect_protocol({"protocolVersion": version}, loc_prefix=PREFIX) == version


# --- §4.1, §4.2 protocol 3.0 structure ----------------------------------------------------


def test_valid_v3_result_becomes_events_with_holder_and_provider() -> None:
    result = upgrade(validate_provider_result(v3_document(), blob_index=0))
    holder = Holder("Top", "Pertje", "", 1950, 1, 1)
    assert result.provider_identifier == "ZZZ" and result.status == "complete" and result.holder == holder
    assert [event.type for event in result.events] == ["vaccination", "negativetest", "positivetest", "recovery"]
    assert all(event.holder == holder and event.source_provider == "ZZZ" for event in result.events)
    assert result.events[0].payload == Vaccination(
        date=date(2021, 6, 1),
        hpk_code="2924528",
        type="1119349007",
        manufacturer="ORG-100030215",
        brand="EU/1/20/1507",
        completed_by_medical_statement=False,
        completed_by_personal_statement=False,
        country="NL",
        dose_number=1,
        total_doses=2,
    )
    assert result.events[1].payload == NegativeTest(
        sample_date=datetime(2021, 5, 27, 19, 23, tzinfo=timezone(timedelta(hours=2))),
        negative_result=True,
        facility="Facility1",
        type="LP6464-4",
        name="Test1",
        manufacturer="1232",
        country="BE",
    )
    assert result.events[2].payload == PositiveTest(
        sample_date=datetime(2021, 5, 1, 10, tzinfo=UTC),
        positive_result=True,
        facility="GGD",
        type="LP6464-4",
        name="PCR",
        manufacturer="1232",
        country="NL",
    )
    assert result.events[3].payload == Recovery(date(2021, 5, 1), date(2021, 5, 12), date(2021, 11, 1), "NL")
    assert [event.unique for event in result.events] == ["v1", "n1", "p1", "r1"]
    assert not any(event.is_specimen for event in result.events)


def test_offset_is_kept_and_z_is_utc() -> None:
    result = upgrade(validate_provider_result(v3_document(), blob_index=0))
    assert result.events[1].payload.sample_date.isoformat() == "2021-05-27T19:23:00+02:00"
    assert result.events[2].payload.sample_date.isoformat() == "2021-05-01T10:00:00+00:00"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2021-06-01T05:40:00.123456-05:30", datetime(2021, 6, 1, 5, 40, 0, 123456, timezone(-timedelta(hours=5, minutes=30)))),
        ("2021-06-01T05:40:00.1234567Z", datetime(2021, 6, 1, 5, 40, 0, 123456, UTC)),
        ("2021-06-01 05:40+0100", datetime(2021, 6, 1, 5, 40, tzinfo=timezone(timedelta(hours=1)))),
        ("2021-06-01T05:40:00+00:00", datetime(2021, 6, 1, 5, 40, tzinfo=UTC)),
    ],
)
def test_datetime_forms(text: str, expected: datetime) -> None:
    document = v3_document()
    document["events"][1]["negativetest"]["sampleDate"] = text
    value = first_event(document, 1).payload.sample_date
    assert value == expected and value.utcoffset() == expected.utcoffset()


def test_status_defaults_to_complete_and_other_statuses_count_as_complete() -> None:
    document = v3_document()
    del document["status"]
    assert validate_provider_result(document, blob_index=0).status == "complete"
    assert len(upgrade(validate_provider_result(v3_document(status="done"), blob_index=0)).events) == 4


@pytest.mark.parametrize(
    "country, expected",
    [
        ("NLD", "NL"),
        ("BES", "BQ"),
        ("ABW", "AW"),
        ("CUW", "CW"),
        ("SXM", "SX"),
        ("BEL", "BE"),
        ("NL", "NL"),
        ("DE", "DE"),
        (None, "NL"),
    ],
)
def test_country_becomes_alpha2(country: str | None, expected: str) -> None:
    document = v3_document()
    document["events"][0]["vaccination"]["country"] = country
    assert first_event(document).payload.country == expected


def test_absent_country_is_nl() -> None:
    document = v3_document()
    del document["events"][0]["vaccination"]["country"]
    assert first_event(document).payload.country == "NL"


@pytest.mark.parametrize(
    "country, msg",
    [
        ("nld", "ISO 3166-1 alpha-2|3 requires two or three characters."),
        ("N", "ISO 3166-1 alpha-2|3 requires two or three characters."),
        ("NLDX", "ISO 3166-1 alpha-2|3 requires two or three characters."),
        (528, "ISO 3166-1 alpha-2|3 requires two or three characters."),
        ("QQQ", "Given country is not known to ISO 3166-1 alpha-2|3."),
        ("XK", "Given country is not known to ISO 3166-1 alpha-2|3."),
    ],
)
def test_bad_country_is_422(country: object, msg: str) -> None:
    document = v3_document()
    document["events"][3]["recovery"]["country"] = country
    assert errors_of(document) == [{"loc": [*PREFIX, "events", 3, "recovery", "country"], "msg": msg, "type": "value_error"}]


def test_lenient_coercion() -> None:
    document = v3_document()
    vaccination = document["events"][0]["vaccination"]
    vaccination.update(
        doseNumber="2",
        totalDoses=3.0,
        manufacturer=1232,
        hpkCode=2924528,
        completedByMedicalStatement="yes",
        completedByPersonalStatement=0,
    )
    document["events"][0]["isSpecimen"] = "true"
    document["events"][1]["negativetest"].update(negativeResult="False", manufacturer=12.5)
    vaccination_event = first_event(document, 0)
    assert (vaccination_event.payload.dose_number, vaccination_event.payload.total_doses) == (2, 3)
    assert (vaccination_event.payload.manufacturer, vaccination_event.payload.hpk_code) == ("1232", "2924528")
    assert vaccination_event.payload.completed_by_medical_statement is True
    assert vaccination_event.payload.completed_by_personal_statement is False
    assert vaccination_event.is_specimen is True
    test_event = first_event(document, 1)
    assert test_event.payload.negative_result is False and test_event.payload.manufacturer == "12.5"


def test_null_optionals() -> None:
    document = v3_document()
    document["holder"]["infix"] = None
    document["events"][0].update(isSpecimen=None, unique=None)
    document["events"][0]["vaccination"].update(hpkCode=None, doseNumber=None)
    result = upgrade(validate_provider_result(document, blob_index=0))
    assert result.holder.infix is None
    event = result.events[0]
    assert (event.is_specimen, event.unique, event.payload.hpk_code, event.payload.dose_number) == (False, None, None, None)


def _set(document: dict[str, Any], path: list[Any], value: Any) -> None:
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


DELETE = object()


@pytest.mark.parametrize(
    "path, value, msg, type_",
    [
        (["providerIdentifier"], DELETE, "field required", "value_error.missing"),
        (["providerIdentifier"], None, "none is not an allowed value", "type_error.none.not_allowed"),
        (["providerIdentifier"], {"a": 1}, "str type expected", "type_error.str"),
        (["holder"], DELETE, "field required", "value_error.missing"),
        (["holder"], "Top", "value is not a valid dict", "type_error.dict"),
        (["holder", "firstName"], DELETE, "field required", "value_error.missing"),
        (["holder", "lastName"], True, "str type expected", "type_error.str"),
        (["holder", "birthDate"], 19500101, "str type expected", "type_error.str"),
        (["holder", "birthDate"], "1960-01-01T10:00:00:123456Z", None, "value_error.str.regex"),
        (["holder", "birthDate"], "1960-xx-01", None, "value_error.str.regex"),
        (["holder", "birthDate"], "١٩٦٠-01-01", None, "value_error.str.regex"),
        (["events"], DELETE, "field required", "value_error.missing"),
        (["events"], {"type": "vaccination"}, "value is not a valid list", "type_error.list"),
        (["events", 0], "vaccination", "value is not a valid dict", "type_error.dict"),
        (["events", 0, "type"], "positive", None, "type_error.enum"),
        (["events", 0, "type"], DELETE, "field required", "value_error.missing"),
        (["events", 0, "isSpecimen"], "maybe", "value could not be parsed to a boolean", "type_error.bool"),
        (["events", 0, "vaccination"], [], "value is not a valid dict", "type_error.dict"),
        (["events", 0, "vaccination", "date"], DELETE, "field required", "value_error.missing"),
        (["events", 0, "vaccination", "date"], "2021-06-01T00:00:00Z", "invalid date format", "value_error.date"),
        (["events", 0, "vaccination", "date"], "2021-02-30", "invalid date format", "value_error.date"),
        (["events", 0, "vaccination", "date"], 20210601, "invalid date format", "value_error.date"),
        (["events", 0, "vaccination", "doseNumber"], "one", "value is not a valid integer", "type_error.integer"),
        (["events", 0, "vaccination", "doseNumber"], 1.5, "value is not a valid integer", "type_error.integer"),
        (["events", 0, "vaccination", "doseNumber"], True, "value is not a valid integer", "type_error.integer"),
        (["events", 0, "vaccination", "doseNumber"], "9" * 5000, "value is not a valid integer", "type_error.integer"),
        (["events", 0, "vaccination", "completedByMedicalStatement"], 2, None, "type_error.bool"),
        (["events", 1, "negativetest", "sampleDate"], "2021-05-27", "invalid datetime format", "value_error.datetime"),
        (["events", 1, "negativetest", "sampleDate"], "2021-05-27T25:00:00Z", "invalid datetime format", "value_error.datetime"),
        (
            ["events", 1, "negativetest", "sampleDate"],
            "2021-05-27T10:00:00+24:00",
            "invalid datetime format",
            "value_error.datetime",
        ),
        (["events", 1, "negativetest", "sampleDate"], 1622525000, "invalid datetime format", "value_error.datetime"),
        (["events", 1, "negativetest", "negativeResult"], DELETE, "field required", "value_error.missing"),
        (["events", 1, "negativetest", "facility"], DELETE, "field required", "value_error.missing"),
        (["events", 1, "negativetest", "name"], [], "str type expected", "type_error.str"),
        (["events", 2, "positivetest", "positiveResult"], "positive", None, "type_error.bool"),
        (["events", 2, "positivetest", "manufacturer"], float("inf"), "str type expected", "type_error.str"),
        (["events", 3, "recovery", "validUntil"], DELETE, "field required", "value_error.missing"),
        (["events", 3, "recovery", "validFrom"], "12-05-2021", "invalid date format", "value_error.date"),
    ],
)
def test_v3_field_errors_are_422(path: list[Any], value: Any, msg: str | None, type_: str) -> None:
    document = v3_document()
    _set(document, path, value)
    [item] = errors_of(document)
    assert item["loc"] == [*PREFIX, *path]
    assert item["type"] == type_
    if msg is not None:
        assert item["msg"] == msg


def test_all_problems_of_a_blob_are_collected() -> None:
    document = v3_document()
    del document["providerIdentifier"]
    document["holder"]["birthDate"] = "01-01-1950"
    document["events"][0]["vaccination"]["doseNumber"] = "x"
    document["events"][1]["negativetest"]["sampleDate"] = "2021-05-27"
    document["events"][2]["type"] = "pos"
    document["events"].append(7)
    errors = errors_of(document, blob_index=4)
    assert [item["loc"] for item in errors] == [
        ["body", 4, "payload", "providerIdentifier"],
        ["body", 4, "payload", "holder", "birthDate"],
        ["body", 4, "payload", "events", 0, "vaccination", "doseNumber"],
        ["body", 4, "payload", "events", 1, "negativetest", "sampleDate"],
        ["body", 4, "payload", "events", 2, "type"],
        ["body", 4, "payload", "events", 4],
    ]


def test_enum_message_lists_permitted_values() -> None:
    document = v3_document()
    document["events"][0]["type"] = "Vaccination"
    [item] = errors_of(document)
    assert item["msg"] == (
        "value is not a valid enumeration member; permitted: 'vaccination', 'negativetest', 'positivetest', 'recovery', 'test'"
    )


def test_unknown_fields_are_ignored() -> None:
    document = v3_document(extra={"deep": [1, 2]})
    document["events"][0]["vaccination"]["administeringCenter"] = {"x": 1}
    assert len(upgrade(validate_provider_result(document, blob_index=0)).events) == 4


def test_empty_events_is_valid() -> None:
    assert upgrade(validate_provider_result(v3_document(events=[]), blob_index=0)).events == []


# --- §4.3 semantic validation ------------------------------------------------------------


@pytest.mark.parametrize(
    "birth_date",
    [
        "1960-40-50",
        "1960-02-30",
        "1900-02-29",
        "0000-01-01",
        "1960-13-XX",
        "1960-00-01",
        "1960-XX-32",
        "1960-XX-00",
        "1960-04-31",
    ],
)
def test_impossible_birth_date_is_400(birth_date: str) -> None:
    document = v3_document()
    document["holder"]["birthDate"] = birth_date
    error = service_error_of(document, blob_index=1)
    assert (error.code, error.loc) == ("invalid_birth_date", ["events", 1, "payload", "holder", "birthDate"])


@pytest.mark.parametrize(
    "birth_date, parts",
    [
        ("2000-02-29", (2000, 2, 29)),
        ("1980-XX-XX", (1980, None, None)),
        ("1980-01-XX", (1980, 1, None)),
        ("1980-XX-31", (1980, None, 31)),
        ("1800-01-01", (1800, 1, 1)),
        ("4000-12-31", (4000, 12, 31)),
    ],
)
def test_possible_birth_dates(birth_date: str, parts: tuple[int, int | None, int | None]) -> None:
    document = v3_document()
    document["holder"]["birthDate"] = birth_date
    holder = validate_provider_result(document, blob_index=0).v3.holder
    assert (holder.birth_year, holder.birth_month, holder.birth_day) == parts


def test_two_payload_objects_are_event_type_mismatch() -> None:
    document = v3_document()
    document["events"][1]["vaccination"] = copy.deepcopy(document["events"][0]["vaccination"])
    error = service_error_of(document, blob_index=2)
    assert (error.code, error.loc) == ("event_type_mismatch", ["events", 2, "payload", "events", 1])


@pytest.mark.parametrize("event_type", ["test", "negativetest", "recovery"])
def test_payload_named_differently_from_type_is_event_type_mismatch(event_type: str) -> None:
    document = v3_document()
    document["events"][0]["type"] = event_type
    error = service_error_of(document)
    assert (error.code, error.loc) == ("event_type_mismatch", ["events", 0, "payload", "events", 0])


def test_null_payload_objects_do_not_count() -> None:
    document = v3_document()
    document["events"][0].update(negativetest=None, recovery=None)
    assert first_event(document).type == "vaccination"


def test_event_without_payload_object_is_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    document = v3_document()
    document["events"].insert(1, {"type": "test", "unique": "t", "test": {"sampleDate": "2021-05-01T10:00:00Z"}})
    document["events"].insert(0, {"type": "vaccination"})
    with caplog.at_level(logging.WARNING):
        result = upgrade(validate_provider_result(document, blob_index=3))
    assert [event.unique for event in result.events] == ["v1", "n1", "p1", "r1"]
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "event without payload object dropped: blob 3, event 0, type vaccination",
        "event without payload object dropped: blob 3, event 2, type test",
    ]
    assert not any("Pertje" in message or "1950" in message for message in messages)


@pytest.mark.parametrize("kind, event_index", [("negativetest", 1), ("positivetest", 2)])
def test_naive_datetime_is_400(kind: str, event_index: int) -> None:
    document = v3_document()
    document["events"][event_index][kind]["sampleDate"] = "2021-05-01T10:00:00"
    error = service_error_of(document, blob_index=1)
    assert (error.code, error.loc) == ("naive_datetime", ["events", 1, "payload", "events", event_index, kind, "sampleDate"])


def test_structure_errors_come_before_semantic_errors() -> None:
    document = v3_document()
    document["holder"]["birthDate"] = "1960-40-50"
    document["events"][0]["vaccination"]["date"] = "bad"
    assert [item["loc"][-1] for item in errors_of(document)] == ["date"]


# --- §6 pending results ------------------------------------------------------------------


def test_pending_v3_needs_only_provider_and_status() -> None:
    document = {"protocolVersion": "3.0", "providerIdentifier": "ZZZ", "status": "pending", "pollToken": "abc"}
    validated = validate_provider_result(document, blob_index=0)
    assert validated.pending and validated.provider_identifier == "ZZZ"
    result = upgrade(validated)
    assert (result.status, result.holder, result.events) == ("pending", None, [])


def test_pending_contents_are_not_validated() -> None:
    document = v3_document(status="pending", holder={"birthDate": "1960-40-50"}, events=[{"type": "x", "vaccination": 1}])
    assert validate_provider_result(document, blob_index=0).pending


def test_pending_still_needs_a_provider_identifier() -> None:
    assert errors_of({"protocolVersion": "3.0", "status": "pending"}) == [
        {"loc": [*PREFIX, "providerIdentifier"], "msg": "field required", "type": "value_error.missing"}
    ]


def test_pending_v2_needs_no_result() -> None:
    validated = validate_provider_result(
        {"protocolVersion": "2.0", "providerIdentifier": "ZZZ", "status": "pending"}, blob_index=0
    )
    assert validated.pending
    assert upgrade(validated).events == []


def test_only_exact_pending_is_pending() -> None:
    document = v3_document(status="Pending")
    del document["holder"]
    assert errors_of(document)[0]["loc"] == [*PREFIX, "holder"]


# --- §5 protocol 2.0 ---------------------------------------------------------------------


def test_v2_upgrade() -> None:
    result = upgrade(validate_provider_result(v2_document(), blob_index=0))
    assert (result.protocol_version, result.provider_identifier, result.status) == ("3.0", "ZZZ", "complete")
    holder = Holder(first_name="T", last_name="P", infix="", birth_year=1883, birth_month=1, birth_day=1)
    assert result.holder == holder
    [event] = result.events
    assert (event.type, event.unique, event.is_specimen, event.source_provider, event.holder) == (
        "negativetest",
        "19ba0f739ee8b6d98950f1a30e58bcd1996d7b3e",
        True,
        "ZZZ",
        holder,
    )
    assert event.payload == NegativeTest(
        sample_date=datetime(2021, 6, 1, 5, 40, tzinfo=UTC),
        negative_result=True,
        facility="not available",
        type="LP217198-3",
        name="not available",
        manufacturer="not available",
        country="NL",
    )


@pytest.mark.parametrize(
    "test_type, code",
    [("antigen", "LP217198-3"), ("pcr", "LP6464-4"), ("pcr-lamp", "LP6464-4"), ("PCR", "unknown"), ("breath", "unknown")],
)
def test_v2_test_type_mapping(test_type: str, code: str) -> None:
    assert first_event(v2_document(testType=test_type)).payload.type == code


def test_v2_is_specimen_is_optional() -> None:
    document = v2_document()
    del document["result"]["isSpecimen"]
    assert first_event(document).is_specimen is False


@pytest.mark.parametrize(
    "day, month, expected",
    [
        ("29", "2", (2, 29)),
        ("09", "06", (6, 9)),
        ("9", "6", (6, 9)),
        ("31", "12", (12, 31)),
        (1, 1, (1, 1)),
        ("0001", "001", (1, 1)),
    ],
)
def test_v2_birth_day_and_month(day: object, month: object, expected: tuple[int, int]) -> None:
    holder = first_event(with_v2_holder(birthDay=day, birthMonth=month)).holder
    assert (holder.birth_month, holder.birth_day, holder.birth_year) == (*expected, 1883)


@pytest.mark.parametrize(
    "day, month, field",
    [
        ("30", "2", "birthDay"),
        ("31", "4", "birthDay"),
        ("0", "1", "birthDay"),
        ("1", "13", "birthMonth"),
        ("1", "0", "birthMonth"),
        ("", "1", "birthDay"),
        ("1a", "1", "birthDay"),
        (" 1", "1", "birthDay"),
        ("1", "-1", "birthMonth"),
        ("١", "1", "birthDay"),
        ("1", "9" * 5000, "birthMonth"),
        ("32", "1", "birthDay"),
    ],
)
def test_v2_impossible_birth_fields_are_400(day: str, month: str, field: str) -> None:
    error = service_error_of(with_v2_holder(birthDay=day, birthMonth=month), blob_index=2)
    assert (error.code, error.loc) == ("invalid_birth_date", ["events", 2, "payload", "result", "holder", field])


def test_v2_naive_sample_date_is_400() -> None:
    error = service_error_of(v2_document(sampleDate="2021-06-01T05:40:00"))
    assert (error.code, error.loc) == ("naive_datetime", ["events", 0, "payload", "result", "sampleDate"])


@pytest.mark.parametrize(
    "path, value, type_",
    [
        (["status"], DELETE, "value_error.missing"),
        (["result"], DELETE, "value_error.missing"),
        (["result", "unique"], DELETE, "value_error.missing"),
        (["result", "sampleDate"], "2021-06-01", "value_error.datetime"),
        (["result", "testType"], DELETE, "value_error.missing"),
        (["result", "negativeResult"], "nope", "type_error.bool"),
        (["result", "isSpecimen"], [], "type_error.bool"),
        (["result", "holder"], DELETE, "value_error.missing"),
        (["result", "holder", "firstNameInitial"], DELETE, "value_error.missing"),
        (["result", "holder", "birthDay"], {"d": 1}, "type_error.str"),
    ],
)
def test_v2_field_errors_are_422(path: list[Any], value: Any, type_: str) -> None:
    document = v2_document()
    _set(document, path, value)
    [item] = errors_of(document)
    assert (item["loc"], item["type"]) == ([*PREFIX, *path], type_)


# --- reference data ----------------------------------------------------------------------


def test_every_entry_of_test_data_combined_validates_or_is_4xx() -> None:
    entries = json.loads((REFERENCE / "test-data-combined.1.0.json").read_text())
    outcomes: dict[str, str] = {}
    for key, document in entries.items():
        try:
            upgrade(validate_provider_result(document, blob_index=0))
            outcomes[key] = "ok"
        except RequestValidationError:
            outcomes[key] = "422"
        except ServiceError as error:
            assert error.status == 400
            outcomes[key] = error.code
    # 1960-40-50, but its "2021 June 09" dates are structural errors, which come first.
    assert outcomes["999997336"] == "422"
    assert outcomes["999990123"] == "422"  # countries "XYZ" and "Netherlands"
    assert outcomes["999997439"] == "422"  # country "FALSE"
    assert outcomes["999990147"] == "422"  # birth date with a time part
    assert outcomes["999991103"] == "422"  # event type "positive"
    assert outcomes["testresult"] == "422"  # fields shifted by one
    assert outcomes["999990159"] == outcomes["999990160"] == "ok"  # years 1800 and 4000 pass here
    assert list(outcomes.values()).count("ok") == 63


# --- documentation routes (api.md §8) ----------------------------------------------------


def test_documentation_validation_accepts_valid_documents() -> None:
    assert validate_structure(v3_document(), protocol="3.0", loc_prefix=["body"]) is None
    assert validate_structure(v2_document(), protocol="2.0", loc_prefix=["body"]) is None


def test_documentation_validation_has_no_blob_index() -> None:
    document = v3_document()
    del document["holder"]["lastName"]
    with pytest.raises(RequestValidationError) as raised:
        validate_structure(document, protocol="3.0", loc_prefix=["body"])
    assert raised.value.errors[0]["loc"] == ["body", "holder", "lastName"]
    with pytest.raises(RequestValidationError) as raised:
        validate_structure([], protocol="2.0", loc_prefix=["body"])
    assert raised.value.errors[0]["type"] == "type_error.dict"
