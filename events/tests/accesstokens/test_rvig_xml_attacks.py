"""XML attacks on the RVIG SOAP parser (events/accesstokens/rvig.py, defusedxml): each attack
document is a well-formed RVIG answer except for its DTD, and each is refused as a 502
`downstream_bad_response` without expanding an entity or reading a file or URL."""

from __future__ import annotations

import pytest

from events.tests.accesstokens.test_rvig import assert_bad_response, response

VALID = response([("1", "210", "Pieter"), ("1", "240", "Proefpersoon"), ("1", "310", "19800517")]).decode()


def with_dtd(dtd: str, name_value: str) -> bytes:
    """The valid answer with a DOCTYPE in front and the given name value (an entity reference)."""
    return (f"<?xml version='1.0'?>\n<!DOCTYPE soap:Envelope [{dtd}]>\n" + VALID.replace("Pieter", name_value)).encode()


BILLION_LAUGHS = "".join(
    ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
)

ATTACKS = {
    "billion laughs (10^9 expansions)": with_dtd(BILLION_LAUGHS, "&lol9;"),
    "quadratic blow-up (one 100 KB entity used 1,000 times)": with_dtd(f'<!ENTITY big "{"x" * 100_000}">', "&big;" * 1000),
    "external entity (a local file)": with_dtd('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
    "external entity (a URL)": with_dtd('<!ENTITY xxe SYSTEM "http://127.0.0.1:1/secret">', "&xxe;"),
    "parameter entity with an external DTD": with_dtd(
        '<!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote;', "Pieter"
    ),
    "external DTD": (
        "<?xml version='1.0'?>\n"
        '<!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:1/evil.dtd">\n' + VALID.replace("Pieter", "&xxe;")
    ).encode(),
    "internal entity in a name": with_dtd('<!ENTITY name "Mallory">', "&name;"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_xml_attacks_are_refused_as_bad_responses(attack):
    assert_bad_response(ATTACKS[attack])


def test_the_valid_answer_the_attacks_are_built_on_is_accepted():
    from events.accesstokens.rvig import RvigHolder, parse_vraag_response

    assert parse_vraag_response(VALID.encode()) == RvigHolder("Pieter", "Proefpersoon", "1980-05-17")
