"""Tests of `events/intake.py`: the whole intake of the `events` array (events.md, processing order)."""

from __future__ import annotations

import base64
import copy
import json
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import json5
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import RequestValidationError, ServiceError, UpstreamError
from devtools.testing.reference import REFERENCE as SHARED_REFERENCE
from devtools.testprovider import TestSigner, create_test_ca, make_blob
from events.decoding.cms import CertificateEntry, ProviderTrust
from events.intake import (
    IntakeResult,
    events_intake,
    specimen_filter,
    validate_provider_result_document,
)
from events.types import Event, Holder, NegativeTest

REFERENCE = SHARED_REFERENCE / "events"
NOW = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)
SKEW = 300

_CA = create_test_ca(not_before=datetime(2021, 1, 1, tzinfo=UTC))
SIGNER = _CA.issue_signer(
    "Test Provider ZZZ", not_before=datetime(2021, 1, 1, tzinfo=UTC), not_after=datetime(2030, 1, 1, tzinfo=UTC)
)
OTHER_SIGNER = _CA.issue_signer(
    "Someone Else", not_before=datetime(2021, 1, 1, tzinfo=UTC), not_after=datetime(2030, 1, 1, tzinfo=UTC)
)


def pinned(signer_der: bytes) -> CertificateEntry:
    return CertificateEntry(der=signer_der, match="pinned", status="active")


PROVIDERS = {
    "ZZZ": ProviderTrust("ZZZ", True, (pinned(SIGNER.der),)),
    "GGD": ProviderTrust("GGD", True, (pinned(SIGNER.der),)),
    "OFF": ProviderTrust("OFF", False, (pinned(SIGNER.der),)),
}


def intake(blobs: list[dict[str, str]], providers: dict[str, ProviderTrust] = PROVIDERS) -> IntakeResult:
    return events_intake(blobs, providers=providers, trust_anchors=(), now=NOW, skew_seconds=SKEW)


def signed(document: dict[str, Any] | bytes, signer: TestSigner = SIGNER) -> dict[str, str]:
    return make_blob(document, signer, signing_time=NOW - timedelta(minutes=5))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def v3(*events: dict[str, Any], provider: str = "ZZZ", holder: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "protocolVersion": "3.0",
        "providerIdentifier": provider,
        "status": "complete",
        "holder": holder or {"firstName": "Top", "infix": "", "lastName": "Pertje", "birthDate": "1950-01-01"},
        "events": list(events),
        **extra,
    }


def vaccination(unique: str = "v1", *, specimen: bool = False, **fields: Any) -> dict[str, Any]:
    return {
        "type": "vaccination",
        "unique": unique,
        "isSpecimen": specimen,
        "vaccination": {"date": "2021-05-01", "hpkCode": "2924528", "doseNumber": 1, "totalDoses": 2, **fields},
    }


def negative_test(unique: str = "n1", *, specimen: bool = False, **fields: Any) -> dict[str, Any]:
    return {
        "type": "negativetest",
        "unique": unique,
        "isSpecimen": specimen,
        "negativetest": {
            "sampleDate": "2021-05-31T10:00:00+02:00",
            "negativeResult": True,
            "facility": "F",
            "type": "LP6464-4",
            "name": "PCR",
            "manufacturer": "1232",
            **fields,
        },
    }


def v2(birth_day: str = "1", birth_month: str = "1", **result: Any) -> dict[str, Any]:
    return {
        "protocolVersion": "2.0",
        "providerIdentifier": "ZZZ",
        "status": "complete",
        "result": {
            "unique": "19ba",
            "sampleDate": "2021-06-01T05:40:00Z",
            "testType": "pcr",
            "negativeResult": True,
            "holder": {"firstNameInitial": "T", "lastNameInitial": "P", "birthDay": birth_day, "birthMonth": birth_month},
            **result,
        },
    }


def pending(provider: str = "ZZZ", protocol: str = "3.0") -> dict[str, Any]:
    return {"protocolVersion": protocol, "providerIdentifier": provider, "status": "pending", "pollToken": "t"}


# --- the reference sample (events.md §2.2) -------------------------------------------------


def _reference_blobs() -> list[dict[str, str]]:
    return json5.loads((REFERENCE / "events1.json5").read_text())


def _reference_providers() -> dict[str, ProviderTrust]:
    chain = x509.load_pem_x509_certificates((REFERENCE / "events1-signer-chain.pem").read_bytes())
    leaf = chain[0]  # the file is leaf first; the last one is the EV root
    assert leaf.subject.rfc4514_string().startswith("CN=api-test.coronatester.nl")
    return {"ZZZ": ProviderTrust("ZZZ", True, (pinned(leaf.public_bytes(Encoding.DER)),))}


def test_reference_blob_0_passes_the_whole_intake() -> None:
    now = datetime(2021, 6, 1, tzinfo=UTC)
    result = events_intake(_reference_blobs()[:1], providers=_reference_providers(), trust_anchors=(), now=now, skew_seconds=SKEW)
    assert result.providers == ["ZZZ"]
    assert result.event_counts == {"negativetest": 1}
    [event] = result.events
    assert (event.type, event.unique, event.is_specimen, event.source_provider) == (
        "negativetest",
        "7ff88e852c9ebd843f4023d148b162e806c9c5fd",
        True,
        "ZZZ",
    )
    assert event.holder == Holder("Top", "Pertje", "", 1950, 1, 1)
    assert event.payload == NegativeTest(
        sample_date=datetime(2021, 5, 27, 19, 23, tzinfo=UTC),
        negative_result=True,
        facility="Facility1",
        type="LP6464-4",
        name="Test1",
        manufacturer="1232",
        country="NL",
    )


def test_reference_v2_blob_with_placeholder_signature_is_rejected() -> None:
    now = datetime(2021, 6, 1, tzinfo=UTC)
    with pytest.raises(ServiceError) as raised:
        events_intake(_reference_blobs(), providers=_reference_providers(), trust_anchors=(), now=now, skew_seconds=SKEW)
    assert (raised.value.status, raised.value.code, raised.value.loc) == (400, "invalid_signature", ["events", 2, "signature"])


def test_reference_blob_0_is_unknown_provider_without_registration() -> None:
    with pytest.raises(ServiceError) as raised:
        intake(_reference_blobs()[:1], providers={})
    assert (raised.value.code, raised.value.loc) == ("unknown_provider", ["events", 0, "payload", "providerIdentifier"])


# --- the error table (api.md §9, events.md §1–§8) ------------------------------------------


def _field_errors_blob() -> dict[str, str]:
    document = v3(vaccination())
    document["events"][0]["vaccination"]["doseNumber"] = "two"
    del document["holder"]["lastName"]
    return signed(document)


def _mismatched_type_blob() -> dict[str, str]:
    event = vaccination()
    event["type"] = "test"
    return signed(v3(event))


ERROR_TABLE: list[tuple[str, Callable[[], list[dict[str, str]]], int, str, Any]] = [
    (
        "invalid_payload_encoding",
        lambda: [signed(v3()), {"payload": "not base64!", "signature": ""}],
        400,
        "invalid_payload_encoding",
        ["events", 1, "payload"],
    ),
    (
        "invalid_payload_json",
        lambda: [{"payload": b64(b'{"protocolVersion": "3.0"'), "signature": ""}],
        400,
        "invalid_payload_json",
        ["events", 0, "payload"],
    ),
    (
        "unknown_provider",
        lambda: [signed(v3(provider="NOPE"))],
        400,
        "unknown_provider",
        ["events", 0, "payload", "providerIdentifier"],
    ),
    (
        "provider_events_not_accepted",
        lambda: [signed(v3(provider="OFF"))],
        400,
        "unknown_provider",
        ["events", 0, "payload", "providerIdentifier"],
    ),
    (
        "invalid_signature_untrusted_signer",
        lambda: [signed(v3(vaccination()), OTHER_SIGNER)],
        400,
        "invalid_signature",
        ["events", 0, "signature"],
    ),
    (
        "invalid_signature_garbage",
        lambda: [{"payload": signed(v3())["payload"], "signature": "AAAA"}],
        400,
        "invalid_signature",
        ["events", 0, "signature"],
    ),
    (
        "invalid_signature_empty",
        lambda: [{"payload": signed(v3())["payload"], "signature": ""}],
        400,
        "invalid_signature",
        ["events", 0, "signature"],
    ),
    (
        "invalid_signature_other_payload",
        lambda: [{"payload": signed(v3())["payload"], "signature": signed(v3(vaccination()))["signature"]}],
        400,
        "invalid_signature",
        ["events", 0, "signature"],
    ),
    ("event_type_mismatch", lambda: [_mismatched_type_blob()], 400, "event_type_mismatch", ["events", 0, "payload", "events", 0]),
    (
        "invalid_birth_date_v3",
        lambda: [signed(v3(holder={"firstName": "A", "lastName": "B", "birthDate": "1960-02-30"}))],
        400,
        "invalid_birth_date",
        ["events", 0, "payload", "holder", "birthDate"],
    ),
    (
        "invalid_birth_date_v2",
        lambda: [signed(v2("30", "2"))],
        400,
        "invalid_birth_date",
        ["events", 0, "payload", "result", "holder", "birthDay"],
    ),
    (
        "naive_datetime",
        lambda: [signed(v3(negative_test(sampleDate="2021-05-31T10:00:00")))],
        400,
        "naive_datetime",
        ["events", 0, "payload", "events", 0, "negativetest", "sampleDate"],
    ),
    (
        "missing_protocol_version",
        lambda: [signed(v3()), signed({"providerIdentifier": "ZZZ"})],
        422,
        "validation_error",
        [{"loc": ["body", 1, "payload", "protocolVersion"], "msg": "field required", "type": "value_error.missing"}],
    ),
    (
        "bad_protocol_version",
        lambda: [signed({**v3(), "protocolVersion": "1.0"})],
        422,
        "validation_error",
        [{"loc": ["body", 0, "payload", "protocolVersion"], "msg": "value should be 2.0 or 3.0", "type": "value_error.invalid"}],
    ),
    (
        "payload_not_an_object",
        lambda: [signed(b"[1, 2]")],
        422,
        "validation_error",
        [{"loc": ["body", 0, "payload", "protocolVersion"], "msg": "field required", "type": "value_error.missing"}],
    ),
    (
        "field_errors",
        lambda: [_field_errors_blob()],
        422,
        "validation_error",
        [
            {"loc": ["body", 0, "payload", "holder", "lastName"], "msg": "field required", "type": "value_error.missing"},
            {
                "loc": ["body", 0, "payload", "events", 0, "vaccination", "doseNumber"],
                "msg": "value is not a valid integer",
                "type": "type_error.integer",
            },
        ],
    ),
    (
        "holder_mismatch",
        lambda: [signed(v3(vaccination())), signed(v2("2", "1"))],
        400,
        "holder_mismatch",
        {"detail": ["error code 99966"]},
    ),
]


@pytest.mark.parametrize("name, blobs, status, code, expected", ERROR_TABLE, ids=[row[0] for row in ERROR_TABLE])
def test_error_table(name: str, blobs: Callable[[], list[dict[str, str]]], status: int, code: str, expected: Any) -> None:
    with pytest.raises((ServiceError, RequestValidationError, UpstreamError)) as raised:
        intake(blobs())
    error = raised.value
    assert (error.status, error.code) == (status, code)
    if isinstance(error, ServiceError):
        assert error.loc == expected
        assert error.body() == {"detail": error.detail, "code": code, "loc": expected}
    elif isinstance(error, RequestValidationError):
        assert error.body() == {"detail": expected}
    else:
        assert error.body() == expected


def test_content_errors_come_before_the_signature_check() -> None:
    blob = {
        "payload": signed(v3(holder={"firstName": "A", "lastName": "B", "birthDate": "1960-40-50"}))["payload"],
        "signature": "garbage",
    }
    with pytest.raises(ServiceError) as raised:
        intake([blob])
    assert raised.value.code == "invalid_birth_date"


def test_provider_lookup_comes_before_the_signature_check() -> None:
    with pytest.raises(ServiceError) as raised:
        intake([{"payload": signed(v3(provider="NOPE"))["payload"], "signature": "garbage"}])
    assert raised.value.code == "unknown_provider"


@pytest.mark.parametrize(
    "blobs, code, index",
    [
        (lambda: [signed(v3()), signed(v3(provider="NOPE")), {"payload": "!", "signature": ""}], "unknown_provider", 1),
        (lambda: [signed(v3(), OTHER_SIGNER), signed({"protocolVersion": "9"})], "invalid_signature", 0),
        (lambda: [{"payload": "!", "signature": ""}, signed(v3(provider="NOPE"))], "invalid_payload_encoding", 0),
    ],
)
def test_first_failing_blob_decides(blobs: Callable[[], list[dict[str, str]]], code: str, index: int) -> None:
    with pytest.raises(ServiceError) as raised:
        intake(blobs())
    assert (raised.value.code, raised.value.loc[1]) == (code, index)


def test_first_failing_blob_decides_even_if_a_later_one_is_422() -> None:
    with pytest.raises(RequestValidationError) as raised:
        intake([signed(v3()), signed({"protocolVersion": "9"}), signed(v3(provider="NOPE"))])
    assert raised.value.errors[0]["loc"][:2] == ["body", 1]


# --- protocol 2.0 through the intake (events.md §5.2) ----------------------------------------


def test_v2_result_is_upgraded_and_29_february_is_accepted() -> None:
    result = intake([signed(v2("29", "02", testType="antigen", isSpecimen=False))])
    [event] = result.events
    assert event.holder == Holder("T", "P", "", 1883, 2, 29)
    assert (event.type, event.payload.type, event.payload.facility, event.payload.country) == (
        "negativetest",
        "LP217198-3",
        "not available",
        "NL",
    )
    assert result.event_counts == {"negativetest": 1}


def test_v2_30_february_is_rejected() -> None:
    with pytest.raises(ServiceError) as raised:
        intake([signed(v2("30", "2"))])
    expected_loc = ["events", 0, "payload", "result", "holder", "birthDay"]
    assert (raised.value.code, raised.value.loc) == ("invalid_birth_date", expected_loc)


def test_v2_and_v3_of_the_same_holder_are_consistent() -> None:
    result = intake([signed(v3(vaccination())), signed(v2("01", "1"))])
    assert [event.type for event in result.events] == ["vaccination", "negativetest"]
    assert [event.holder.birth_year for event in result.events] == [1950, 1883]


# --- pending results (events.md §6) ------------------------------------------------------


def test_pending_results_are_checked_minimally_and_dropped() -> None:
    result = intake([signed(pending()), signed(v3(vaccination())), signed(pending("GGD", "2.0"))])
    assert [event.unique for event in result.events] == ["v1"]
    assert result.providers == ["ZZZ", "ZZZ", "GGD"]
    assert result.event_counts == {"vaccination": 1}


def test_pending_result_takes_no_part_in_holder_consistency() -> None:
    document = v3(holder={"firstName": "Zed", "lastName": "Q", "birthDate": "1999-12-31"}, status="pending")
    result = intake([signed(document), signed(v3(vaccination()))])
    assert [event.holder.first_name for event in result.events] == ["Top"]


@pytest.mark.parametrize(
    "blob, code",
    [
        (lambda: signed(pending("NOPE")), "unknown_provider"),
        (lambda: signed(pending(), OTHER_SIGNER), "invalid_signature"),
        (lambda: {"payload": "%%%%", "signature": ""}, "invalid_payload_encoding"),
    ],
)
def test_bad_pending_blob_still_fails(blob: Callable[[], dict[str, str]], code: str) -> None:
    with pytest.raises(ServiceError) as raised:
        intake([blob()])
    assert raised.value.code == code


def test_pending_without_provider_identifier_is_422() -> None:
    with pytest.raises(RequestValidationError):
        intake([signed({"protocolVersion": "3.0", "status": "pending"})])


# --- holder consistency (§8), flattening (§9) --------------------------------------------


def test_holders_compare_by_initials_and_birth_month_and_day_only() -> None:
    other = {"firstName": "Tijmen", "infix": "van", "lastName": "Prins", "birthDate": "1949-01-01"}
    result = intake([signed(v3(vaccination("a"))), signed(v3(negative_test("b"), holder=other, provider="GGD"))])
    assert [(event.unique, event.source_provider) for event in result.events] == [("a", "ZZZ"), ("b", "GGD")]


@pytest.mark.parametrize(
    "holder",
    [
        {"firstName": "Anna", "lastName": "Pertje", "birthDate": "1950-01-01"},
        {"firstName": "Top", "lastName": "Jansen", "birthDate": "1950-01-01"},
        {"firstName": "Top", "lastName": "Pertje", "birthDate": "1950-01-02"},
        {"firstName": "Top", "lastName": "Pertje", "birthDate": "1950-XX-01"},
    ],
)
def test_different_holders_are_error_99966(holder: dict[str, str]) -> None:
    with pytest.raises(UpstreamError) as raised:
        intake([signed(v3(vaccination())), signed(v3(negative_test(), holder=holder))])
    assert (raised.value.status, raised.value.body()) == (400, {"detail": ["error code 99966"]})


def test_flatten_keeps_result_and_event_order() -> None:
    result = intake(
        [
            signed(v3(vaccination("a"), negative_test("b"))),
            signed(v3(vaccination("c", date="2021-04-01"), provider="GGD")),
        ]
    )
    assert [event.unique for event in result.events] == ["a", "b", "c"]
    assert result.event_counts == {"vaccination": 2, "negativetest": 1}
    assert result.providers == ["ZZZ", "GGD"]


def test_empty_events_array_is_valid() -> None:
    assert intake([]) == IntakeResult(events=[], providers=[], event_counts={})


# --- specimen filter (§10) ---------------------------------------------------------------


def test_specimens_are_dropped_when_mixed() -> None:
    result = intake([signed(v3(vaccination("real"), negative_test("specimen", specimen=True)))])
    assert [event.unique for event in result.events] == ["real"]
    assert result.event_counts == {"vaccination": 1}


def test_all_specimens_are_kept() -> None:
    result = intake([signed(v3(vaccination("s1", specimen=True), negative_test("s2", specimen=True)))])
    assert [event.unique for event in result.events] == ["s1", "s2"]


def test_specimen_filter_of_empty_list_is_empty() -> None:
    assert specimen_filter([]) == []


def test_specimen_filter_both_ways() -> None:
    holder = Holder("A", "B", None, 1990, 1, 1)

    def event(unique: str, specimen: bool) -> Event:
        return Event("negativetest", unique, specimen, "ZZZ", holder, NegativeTest(NOW, True, "F", "T", "N", "M"))

    assert [e.unique for e in specimen_filter([event("a", True), event("b", False), event("c", True)])] == ["b"]
    assert [e.unique for e in specimen_filter([event("a", True), event("c", True)])] == ["a", "c"]


# --- documentation routes (api.md §8) ----------------------------------------------------


def test_documentation_validation() -> None:
    assert validate_provider_result_document(v3(vaccination()), protocol="3.0") is None
    assert validate_provider_result_document(v2(), protocol="2.0") is None
    document = v2()
    del document["result"]["holder"]["birthDay"]
    with pytest.raises(RequestValidationError) as raised:
        validate_provider_result_document(document, protocol="2.0")
    assert raised.value.errors == [
        {"loc": ["body", "result", "holder", "birthDay"], "msg": "field required", "type": "value_error.missing"}
    ]


# --- hostile input: always a 4xx (decision k) --------------------------------------------

ALLOWED = (ServiceError, UpstreamError, RequestValidationError)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)

# Paths inside a valid result whose value the property tests replace.
MUTATION_PATHS = [
    ["protocolVersion"],
    ["providerIdentifier"],
    ["status"],
    ["holder"],
    ["holder", "firstName"],
    ["holder", "lastName"],
    ["holder", "infix"],
    ["holder", "birthDate"],
    ["events"],
    ["events", 0],
    ["events", 0, "type"],
    ["events", 0, "isSpecimen"],
    ["events", 0, "unique"],
    ["events", 0, "vaccination"],
    ["events", 0, "vaccination", "date"],
    ["events", 0, "vaccination", "doseNumber"],
    ["events", 0, "vaccination", "country"],
    ["events", 1, "negativetest"],
    ["events", 1, "negativetest", "sampleDate"],
    ["events", 1, "negativetest", "negativeResult"],
    ["events", 1, "recovery"],
]
V2_MUTATION_PATHS = [
    ["result"],
    ["result", "sampleDate"],
    ["result", "testType"],
    ["result", "holder"],
    ["result", "holder", "birthDay"],
    ["result", "holder", "birthMonth"],
    ["result", "isSpecimen"],
]


def _assert_4xx_or_success(blobs: list[dict[str, str]]) -> None:
    try:
        result = intake(blobs)
    except ALLOWED as error:
        assert 400 <= error.status < 500
        json.dumps(error.body())
    else:
        assert isinstance(result, IntakeResult)


def _mutated(document: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(document)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(value=json_values)
def test_arbitrary_json_payload_is_4xx(value: Any) -> None:
    _assert_4xx_or_success([signed(json.dumps(value).encode())])


@PROPERTY_SETTINGS
@given(path=st.sampled_from(MUTATION_PATHS), value=json_values)
def test_mutated_v3_result_is_4xx_or_valid(path: list[Any], value: Any) -> None:
    document = v3(vaccination(), negative_test())
    _assert_4xx_or_success([signed(_mutated(document, path, value))])


@PROPERTY_SETTINGS
@given(path=st.sampled_from(V2_MUTATION_PATHS), value=json_values)
def test_mutated_v2_result_is_4xx_or_valid(path: list[Any], value: Any) -> None:
    _assert_4xx_or_success([signed(_mutated(v2(), path, value))])


@PROPERTY_SETTINGS
@given(text=st.text(alphabet=string.ascii_letters + string.digits + "+/= \n\t-_!", max_size=200), cut=st.integers(0, 400))
def test_truncated_or_odd_base64_is_4xx(text: str, cut: int) -> None:
    good = signed(v3(vaccination()))
    _assert_4xx_or_success([{"payload": good["payload"][:cut], "signature": good["signature"]}])
    _assert_4xx_or_success([{"payload": text, "signature": good["signature"]}])
    _assert_4xx_or_success([{"payload": good["payload"], "signature": text}])


@PROPERTY_SETTINGS
@given(
    first=st.text(max_size=300),
    last=st.text(max_size=300),
    infix=st.none() | st.text(max_size=50),
    unique=st.text(max_size=300),
)
def test_unusual_unicode_and_long_names_are_4xx_or_valid(first: str, last: str, infix: str | None, unique: str) -> None:
    holder = {"firstName": first, "infix": infix, "lastName": last, "birthDate": "1950-01-01"}
    document = v3(vaccination(unique), holder=holder)
    _assert_4xx_or_success([signed(document), signed(v3(negative_test(), provider="GGD"))])


@pytest.mark.parametrize(
    "raw",
    [
        b'{"protocolVersion": "3.0", "providerIdentifier": ' + b"9" * 5000 + b"}",
        b'{"protocolVersion": "3.0", "providerIdentifier": ' + b"9" * 4000 + b"}",
        b'{"protocolVersion": "3.0", "providerIdentifier": 1e999}',
        b'{"protocolVersion": "3.0", "providerIdentifier": "ZZZ", "holder": {"firstName": "' + b"A" * 500_000 + b'"}}',
        b'{"protocolVersion": "3.0", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"protocolVersion": "3.0", "x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
        b'{"protocolVersion": "2.0", "providerIdentifier": "ZZZ", "status": "complete", "result": {"holder": '
        + b"[" * 900
        + b"]" * 900
        + b"}}",
        b'{"protocolVersion": "3.0", "providerIdentifier": "ZZZ", "events": [' + b"1," * 20_000 + b"1]}",
        '{"protocolVersion": "3.0", "providerIdentifier": "\ud800\udfff\u202e\u0000"}'.encode("utf-8", "surrogatepass"),
    ],
)
def test_huge_numbers_deep_nesting_and_odd_bytes_are_4xx(raw: bytes) -> None:
    _assert_4xx_or_success([signed(raw)])


@pytest.mark.parametrize("value", ["9" * 5000, "-" + "9" * 4301])
def test_integer_strings_beyond_the_digit_limit_are_422(value: str) -> None:
    with pytest.raises(RequestValidationError) as raised:
        intake([signed(v3(vaccination(doseNumber=value)))])
    assert raised.value.errors[0]["type"] == "type_error.integer"
