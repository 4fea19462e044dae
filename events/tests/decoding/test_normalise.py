"""Tests of events/decoding/normalise.py (events.md §7)."""

import pytest

from events.decoding.normalise import (
    birth_day_attribute,
    birth_month_attribute,
    eu_dob,
    first_name_initial,
    initial,
    last_name_initial,
    normalize,
)
from events.tests.factories import holder


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Jan-Willem", "JAN<WILLEM"),
        ("van der Berg", "VAN<DER<BERG"),
        ("d'Ancona", "DANCONA"),
        ("Øystein  Bjørn", "OEYSTEIN<<BJOERN"),
        ("Ğülşen", "GUELSEN"),
        ("Ελένη", "ELENI"),
        ("Пётр", "PETR"),
        ("李", ""),
        ("ß", "SS"),
        ("äöüåæþĳ", "AEOEUEAAAETHIJ"),
        ("", ""),
        ("Anne 2nd", "ANNE<ND"),
    ],
)
def test_normalize_examples(name, expected):
    assert normalize(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Jan", "J"), ("élodie", "E"), ("Øystein", "O"), ("  Ümit", "U"), ("'t Hart", "T"), ("123", ""), ("李", ""), ("", "")],
)
def test_initial_is_first_letter_of_normalized_name(name, expected):
    assert initial(name) == expected


def test_last_name_initial_ignores_infix():
    person = holder(first_name="Pieter", infix="van", last_name="Dijk")
    assert (first_name_initial(person), last_name_initial(person)) == ("P", "D")


def test_birth_attributes_without_zero_padding():
    person = holder(birth_month=3, birth_day=7)
    assert (birth_day_attribute(person), birth_month_attribute(person)) == ("7", "3")


def test_unknown_birth_parts_are_empty():
    person = holder(birth_month=None, birth_day=None)
    assert (birth_day_attribute(person), birth_month_attribute(person)) == ("", "")


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [(1980, 1, 5, "1980-01-05"), (1980, 1, None, "1980"), (1980, None, 5, "1980"), (1980, None, None, "1980")],
)
def test_eu_dob(year, month, day, expected):
    assert eu_dob(holder(birth_year=year, birth_month=month, birth_day=day)) == expected


def test_normalize_is_mrz_transliteration_with_its_tables():
    from mrz.base.functions import transliterate

    from events.decoding.normalise import _NOT_MACHINE_READABLE, _TRANSLITERATION

    def by_mrz(name: str) -> str:
        return _NOT_MACHINE_READABLE.sub("", transliterate(name, _TRANSLITERATION, "<"))

    every_character = "".join(_TRANSLITERATION)
    samples = [
        every_character,
        every_character.upper(),
        " ".join(every_character),
        "-".join(every_character),
        "a - b  c--d ß ǆ ﬁ ŉ İ ı σς Σ 李 \t\n 0-9 <>",
        "".join(chr(code) for code in range(32, 0x2FF)),
    ]
    for name in samples:
        assert normalize(name) == by_mrz(name)
