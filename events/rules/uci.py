"""Unique certificate identifiers (UCI, DCC field `ci`) and Luhn mod 38 (rules-eu.md §9)."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable

UCI_PREFIX = "URN:UCI:01:NL:"
UCI_MARKER = "42"
LUHN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
LUHN_N = len(LUHN_ALPHABET)
_UCI_SHAPE = re.compile(r"^[A-Z0-9:#/]{38}$")


# The addend of each character for the factors 1 and 2 (§9.2 step 2: `addend // N + addend % N`).
_ADDENDS = {
    factor: {char: (factor * code) // LUHN_N + (factor * code) % LUHN_N for code, char in enumerate(LUHN_ALPHABET)}
    for factor in (1, 2)
}


def _luhn_sum(text: str, factor: int) -> int:
    """§9.2 step 2: walk from the rightmost character, alternating the factor 2 ↔ 1 (the
    characters at even distances from the right take `factor`, the others the other one)."""
    backwards = text[::-1]
    other = 1 if factor == 2 else 2
    try:
        return sum(map(_ADDENDS[factor].__getitem__, backwards[0::2])) + sum(map(_ADDENDS[other].__getitem__, backwards[1::2]))
    except KeyError:
        raise ValueError("a character outside the Luhn mod 38 alphabet") from None


def luhn_mod_n_check_character(text: str) -> str:
    """The Luhn mod 38 check character of `text` (rules-eu.md §9.2).

    Raises ValueError for a character outside the alphabet.
    """
    return LUHN_ALPHABET[(LUHN_N - _luhn_sum(text, 2) % LUHN_N) % LUHN_N]


def luhn_mod_n_is_valid(text_with_check: str) -> bool:
    """True when `text_with_check` ends in its own check character (no `#`; §9.2)."""
    try:
        return _luhn_sum(text_with_check, 1) % LUHN_N == 0
    except ValueError:
        return False


def generate_uci(new_uuid: Callable[[], uuid.UUID] = uuid.uuid4) -> str:
    """A fresh 38-character UCI `URN:UCI:01:NL:<opaque>#<check>` (rules-eu.md §9.1)."""
    opaque = base64.b32encode(new_uuid().bytes).decode("ascii").rstrip("=")[:20] + UCI_MARKER
    body = UCI_PREFIX + opaque
    return f"{body}#{luhn_mod_n_check_character(body)}"


def uci_is_valid(uci: str) -> bool:
    """Self-test verification of a UCI (rules-eu.md §9.3)."""
    if not _UCI_SHAPE.match(uci) or not uci.startswith("URN:UCI:") or "#" not in uci:
        return False
    body, check = uci.split("#", 1)[0], uci.rsplit("#", 1)[1]
    try:
        return check == luhn_mod_n_check_character(body)
    except ValueError:
        return False
