"""RVIG / BRP enrichment over SOAP: the `vraag` request and its response (signers.md §5). Pure.

The response is parsed with `defusedxml` (no entities, no DTDs) and namespace-aware. Values are
kept verbatim: the identity hash is computed over them (access-tokens.md §2).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeElementTree

from common import errors

logger = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
LRD = "http://www.bprbzk.nl/GBA/LRDPlus/version1.1"
LO3 = "http://www.bprbzk.nl/GBA/LO3/version1.1"

# Rubric numbers within category 1 (signers.md §5).
FIRST_NAMES = "210"
SURNAME = "240"
BIRTH_DATE = "310"
PERSON_CATEGORY = "1"

_BIRTH_DATE = re.compile(r"[0-9]{8}")

_VRAAG_TEMPLATE = """\
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">
  <soap-env:Body>
    <ns0:vraag xmlns:ns0="http://www.bprbzk.nl/GBA/LRDPlus/version1.1">
      <ns0:in0>
        <ns0:indicatieAdresvraag xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
        <ns0:indicatieZoekenInHistorie xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
        <ns0:masker><ns0:item>10210</ns0:item><ns0:item>10240</ns0:item><ns0:item>10310</ns0:item></ns0:masker>
        <ns0:parameters><ns0:item><ns0:rubrieknummer>10120</ns0:rubrieknummer><ns0:zoekwaarde>{bsn}</ns0:zoekwaarde></ns0:item></ns0:parameters>
      </ns0:in0>
    </ns0:vraag>
  </soap-env:Body>
</soap-env:Envelope>
"""


@dataclass(frozen=True)
class RvigHolder:
    """The holder from RVIG: first names, surname, birth date `YYYY-MM-DD` (XX allowed), infix null."""

    first_name: str
    last_name: str
    birth_date: str
    infix: None = None

    def __repr__(self) -> str:
        # Personal data: never in a repr that could end up in a log or a traceback.
        return "RvigHolder(<redacted>)"


def vraag_request(bsn: str) -> bytes:
    """The SOAP envelope of the `vraag` operation for one BSN (signers.md §5 "Request")."""
    return _VRAAG_TEMPLATE.format(bsn=escape(bsn)).encode("utf-8")


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _child(parent: Element, namespace: str, name: str) -> Element:
    found = parent.find(_q(namespace, name))
    if found is None:
        raise errors.downstream_bad_response()
    return found


def _children(parent: Element | None, namespace: str, name: str) -> list[Element]:
    return [] if parent is None else parent.findall(_q(namespace, name))


def _text(element: Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def parse_envelope(xml: bytes) -> Element:
    """The `vraagReturn` element; a SOAP fault or an unexpected document → 502."""
    try:
        root = SafeElementTree.fromstring(xml)
    except Exception:  # noqa: BLE001 - malformed or forbidden XML (defusedxml raises several kinds)
        raise errors.downstream_bad_response() from None
    if root.tag != _q(SOAP_ENV, "Envelope"):
        raise errors.downstream_bad_response()
    body = _child(root, SOAP_ENV, "Body")
    if body.find(_q(SOAP_ENV, "Fault")) is not None:
        logger.warning("RVIG answered with a SOAP fault", extra={"downstream": "rvig"})
        raise errors.downstream_bad_response()
    return _child(_child(body, LRD, "vraagResponse"), LRD, "vraagReturn")


def check_result(vraag_return: Element) -> None:
    """`resultaat/code` must be 0; log code, letter and reference, never the description."""
    result = _child(vraag_return, LRD, "resultaat")
    code = _text(result.find(_q(LRD, "code"))).strip()
    if code == "0":
        return
    logger.warning(
        "RVIG answered with a non-zero result code",
        extra={
            "downstream": "rvig",
            "rvig_code": code[:8],
            "rvig_letter": _text(result.find(_q(LRD, "letter"))).strip()[:4],
            "rvig_reference": _text(result.find(_q(LRD, "referentie"))).strip()[:32],
        },
    )
    raise errors.downstream_bad_response()


def person_elements(vraag_return: Element) -> dict[str, str]:
    """Rubric number → value within category 1; the last non-empty value of a number wins."""
    values: dict[str, str] = {}
    for person in _children(vraag_return.find(_q(LRD, "persoonslijsten")), LO3, "item"):
        for stack in _children(person.find(_q(LO3, "categoriestapels")), LO3, "item"):
            for occurrence in _children(stack.find(_q(LO3, "categorievoorkomens")), LO3, "item"):
                if _text(occurrence.find(_q(LO3, "categorienummer"))).strip() != PERSON_CATEGORY:
                    continue
                for element in _children(occurrence.find(_q(LO3, "elementen")), LO3, "item"):
                    number = _text(element.find(_q(LO3, "nummer"))).strip()
                    value = _text(element.find(_q(LO3, "waarde")))
                    if value or number not in values:
                        values[number] = value
    return values


def rvig_birth_date(value: str) -> str:
    """`YYYYMMDD` → `YYYY-MM-DD`: year 0000 → 1900, month/day 00 → XX (signers.md §5)."""
    if _BIRTH_DATE.fullmatch(value) is None:
        raise errors.downstream_bad_response()
    year, month, day = value[:4], value[4:6], value[6:8]
    return f"{'1900' if year == '0000' else year}-{'XX' if month == '00' else month}-{'XX' if day == '00' else day}"


def parse_vraag_response(xml: bytes) -> RvigHolder:
    """The holder of a `vraag` response (signers.md §5 "Response"); every failure → 502."""
    vraag_return = parse_envelope(xml)
    check_result(vraag_return)
    values = person_elements(vraag_return)
    if not values.get(BIRTH_DATE):
        raise errors.downstream_bad_response()
    return RvigHolder(
        first_name=values.get(FIRST_NAMES, ""),
        last_name=values.get(SURNAME, ""),
        birth_date=rvig_birth_date(values[BIRTH_DATE]),
    )
