"""Tests of events/rules/uci.py (rules-eu.md §9)."""

import uuid

import pytest

from events.rules.uci import (
    generate_uci,
    luhn_mod_n_check_character,
    luhn_mod_n_is_valid,
    uci_is_valid,
)

CHECK_VECTORS = [
    ("URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT42", "6"),
    ("URN:UCI:01:NL:B7L6YIZIZFD3BMTEFA4CVUI6ZM", "0"),
    ("URN:UCI:01:NL:5717YIZIZFD3BMTEFA4CVU1337", "6"),
    ("URN:UVCI:01:NL:187/37512422923", "Z"),
]


@pytest.mark.parametrize(("text", "check"), CHECK_VECTORS)
def test_check_character_vectors(text, check):
    assert luhn_mod_n_check_character(text) == check


@pytest.mark.parametrize(("text", "check"), CHECK_VECTORS)
def test_luhn_validation_of_vectors(text, check):
    assert luhn_mod_n_is_valid(text + check)
    wrong = "A" if check != "A" else "B"
    assert not luhn_mod_n_is_valid(text + wrong)


def test_well_formed_uci_validates():
    assert uci_is_valid("URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT42#6")


def test_wrong_check_character_fails():
    assert not uci_is_valid("URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT42#7")


@pytest.mark.parametrize(
    "uci",
    [
        "URN:UCI:01:NL:B7L6YIZIZFD3BMTEFA4CVUI6ZM#0",  # 42 characters: vector only
        "URN:UCI:01:NL:JLXN4P4ONJH7VMELWYUT426",  # no '#'
        "urn:uci:01:NL:JLXN4P4ONJH7VMELWYUT42#6",  # lower case
        "URN:XYZ:01:NL:JLXN4P4ONJH7VMELWYUT42#6",  # wrong prefix
        "",
    ],
)
def test_malformed_ucis_fail(uci):
    assert not uci_is_valid(uci)


def test_generated_uci_from_a_fixed_uuid():
    fixed = uuid.UUID("00000000-0000-4000-8000-000000000000")
    uci = generate_uci(lambda: fixed)
    # bit 49 (byte 6 = 0x40) and bit 64 (byte 8 = 0x80) set: base32 characters 9 and 12 are "B"
    assert uci == "URN:UCI:01:NL:AAAAAAAAABAABAAAAAAA42#B"
    assert uci_is_valid(uci)


def test_generated_ucis_are_valid_and_distinct():
    ucis = {generate_uci() for _ in range(50)}
    assert len(ucis) == 50 and all(uci_is_valid(uci) for uci in ucis)


def test_the_luhn_sum_is_the_walk_from_the_right():
    from events.rules.uci import LUHN_ALPHABET, LUHN_N, _luhn_sum

    def walked(text: str, factor: int) -> int:
        total = 0
        for char in reversed(text):
            addend = factor * LUHN_ALPHABET.index(char)
            factor = 1 if factor == 2 else 2
            total += addend // LUHN_N + addend % LUHN_N
        return total

    for text in ["", "A", "/:", LUHN_ALPHABET, LUHN_ALPHABET[::-1] * 3, "URN:UCI:01:NL:ABCDEFGHIJKLMNOPQRST42"]:
        for factor in (1, 2):
            assert _luhn_sum(text, factor) == walked(text, factor)
    with pytest.raises(ValueError):
        _luhn_sum("URN:UCI:01:NL:abc", 2)
