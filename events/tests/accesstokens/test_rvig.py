"""Tests of events/accesstokens/rvig.py with every response of reference/rvig (signers.md §5)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from common.errors import ServiceError
from events.accesstokens.rvig import (
    LO3,
    LRD,
    RvigHolder,
    parse_vraag_response,
    rvig_birth_date,
    vraag_request,
)

from .conftest import RVIG

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def reference(name: str) -> bytes:
    return (RVIG / name).read_bytes()


def assert_bad_response(xml: bytes):
    with pytest.raises(ServiceError) as excinfo:
        parse_vraag_response(xml)
    assert (excinfo.value.status, excinfo.value.code) == (502, "downstream_bad_response")


def response(elements: list[tuple[str, str, str]], code: str = "0", birth_category: str = "1") -> bytes:
    """A success response with one category occurrence per (category, number, value) group."""
    items = "".join(
        f"<ns2:item><ns2:categorienummer>{cat}</ns2:categorienummer><ns2:elementen>"
        f"<ns2:item><ns2:nummer>{num}</ns2:nummer><ns2:waarde>{val}</ns2:waarde></ns2:item>"
        "</ns2:elementen></ns2:item>"
        for cat, num, val in elements
    )
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        f'<vraagResponse xmlns:ns2="{LO3}" xmlns="{LRD}"><vraagReturn><persoonslijsten><ns2:item>'
        f"<ns2:categoriestapels><ns2:item><ns2:categorievoorkomens>{items}</ns2:categorievoorkomens>"
        "</ns2:item></ns2:categoriestapels></ns2:item></persoonslijsten>"
        f"<resultaat><code>{code}</code><letter>A</letter><omschrijving>x</omschrijving>"
        "<referentie>1</referentie></resultaat></vraagReturn></vraagResponse></soap:Body></soap:Envelope>"
    ).encode()


# --- request ------------------------------------------------------------------------------------


def test_vraag_request_is_the_envelope_of_the_spec():
    body = vraag_request("999995571")
    root = ET.fromstring(body)
    ns = {"s": SOAP, "l": LRD}
    in0 = root.find("s:Body/l:vraag/l:in0", ns)
    assert [child.tag.split("}")[1] for child in in0] == [
        "indicatieAdresvraag",
        "indicatieZoekenInHistorie",
        "masker",
        "parameters",
    ]
    assert [item.text for item in in0.findall("l:masker/l:item", ns)] == ["10210", "10240", "10310"]
    assert in0.find("l:parameters/l:item/l:rubrieknummer", ns).text == "10120"
    assert in0.find("l:parameters/l:item/l:zoekwaarde", ns).text == "999995571"
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    assert in0.find("l:indicatieAdresvraag", ns).get(nil) == "true"
    assert body.startswith(b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">')
    assert b"<ns0:zoekwaarde>999995571</ns0:zoekwaarde>" in body


def test_vraag_request_escapes_the_bsn():
    body = vraag_request("1<2&3")
    assert b"<ns0:zoekwaarde>1&lt;2&amp;3</ns0:zoekwaarde>" in body
    assert ET.fromstring(body) is not None


# --- reference responses ---------------------------------------------------------------------------


def test_simple_person():
    assert parse_vraag_response(reference("999995571.xml")) == RvigHolder("Naomi", "Goede", "1987-04-01")


def test_unknown_day_and_month():
    assert parse_vraag_response(reference("999995844.xml")) == RvigHolder("Bernhard", "Boer", "1971-XX-XX")


def test_diacritics_and_trailing_whitespace_are_verbatim():
    raw = reference("999990743.xml")
    # The expected values, cut from the file's bytes without an XML parser.
    values = re.findall(r"<ns2:waarde>(.*?)</ns2:waarde>", raw.decode("utf-8"), flags=re.DOTALL)
    holder = parse_vraag_response(raw)
    assert holder.first_name == values[0]
    assert holder.last_name == values[1]
    assert holder.last_name.endswith("\n" + " " * 48)
    assert not holder.first_name.isascii()
    assert holder.birth_date == "2010-01-01"
    assert holder.infix is None


def test_wrong_category_uses_category_1_only():
    assert parse_vraag_response(reference("wrong_category.xml")) == RvigHolder("Naomi", "Goede", "1987-04-01")


def test_category_2_values_are_ignored():
    xml = reference("wrong_category.xml").replace(b"Naomi", b"Other", 1).replace(b"19870401", b"19990909", 1)
    assert parse_vraag_response(xml) == RvigHolder("Naomi", "Goede", "1987-04-01")


@pytest.mark.parametrize("name", ["999995005.xml", "1_technical_error.xml"])
def test_error_codes_are_bad_responses(name, caplog):
    with caplog.at_level("DEBUG"):
        assert_bad_response(reference(name))
    record = caplog.records[-1]
    assert record.rvig_code in ("33", "1")
    assert "Geen gegevens" not in caplog.text


# --- rules -------------------------------------------------------------------------------------


def test_last_non_empty_value_wins():
    xml = response([("1", "210", "A"), ("1", "210", "B"), ("1", "210", ""), ("1", "240", "C"), ("1", "310", "20000101")])
    assert parse_vraag_response(xml) == RvigHolder("B", "C", "2000-01-01")


def test_empty_names_are_allowed():
    assert parse_vraag_response(response([("1", "310", "20000101")])) == RvigHolder("", "", "2000-01-01")


def test_no_category_1_birth_date_is_a_bad_response():
    assert_bad_response(response([("1", "210", "A"), ("2", "310", "20000101")]))
    assert_bad_response(response([("1", "310", "")]))


@pytest.mark.parametrize("value", ["1990010", "199001011", "1990-1-1", "１９９００１０１", "1990010a", " 19900101"])
def test_birth_date_must_be_8_ascii_digits(value):
    assert_bad_response(response([("1", "310", value)]))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19831200", "1983-12-XX"),
        ("00000000", "1900-XX-XX"),
        ("19604050", "1960-40-50"),
        ("20100101", "2010-01-01"),
        ("19710007", "1971-XX-07"),
    ],
)
def test_birth_date_conversion(value, expected):
    assert rvig_birth_date(value) == expected


@pytest.mark.parametrize(
    "xml",
    [
        b"",
        b"not xml",
        b"<soap:Envelope",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"<Envelope><Body/></Envelope>",  # no namespace
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body/></soap:Envelope>'.encode(),
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>'
        "<faultstring>boom</faultstring></soap:Fault></soap:Body></soap:Envelope>".encode(),
        # vraagResponse in the wrong namespace
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><vraagResponse><vraagReturn/></vraagResponse>'
        "</soap:Body></soap:Envelope>".encode(),
        # no resultaat
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><vraagResponse xmlns="{LRD}"><vraagReturn/></vraagResponse>'
        "</soap:Body></soap:Envelope>".encode(),
        response([("1", "310", "20000101")], code=""),
        response([("1", "310", "20000101")], code="abc"),
    ],
)
def test_malformed_responses_are_bad_responses(xml):
    assert_bad_response(xml)


def test_holder_repr_hides_personal_data():
    assert "Naomi" not in repr(RvigHolder("Naomi", "Goede", "1987-04-01"))
