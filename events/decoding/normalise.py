"""Holder normalisation: names, initials and birth-date forms (events.md §7).

Name normalisation uses the transliteration tables of `mrz==0.6.2` (the dictionaries
`latin_based`, `arabic`, `greek` and `cyrillic` merged), which reproduces upstream exactly.
"""

from __future__ import annotations

import re

from mrz.generator.dictionaries.arabic import transliteration as _arabic
from mrz.generator.dictionaries.cyrillic import transliteration as _cyrillic
from mrz.generator.dictionaries.greek import transliteration as _greek
from mrz.generator.dictionaries.latin_based import transliteration as _latin_based

from events.types import Holder

# The only key present in more than one table is the apostrophe, mapped to "" everywhere, so the
# merge order does not matter.
_TRANSLITERATION: dict[str, str] = {**_latin_based, **_arabic, **_greek, **_cyrillic}

# mrz's `transliterate(name, _TRANSLITERATION, "<")` as one `str.translate`: it replaces hyphens by
# spaces, splits on single spaces, transliterates each character (every key is one character, no
# value holds a space or a hyphen) and upper-cases each word, and joins the words with `<`; so
# each hyphen and space becomes a `<`, and the upper-casing of the whole (which leaves `<` alone)
# is that of the words. events/tests/decoding/test_normalise.py compares the two.
_MACHINE_READABLE_WORDS = str.maketrans({**_TRANSLITERATION, "-": "<", " ": "<"})
_NOT_MACHINE_READABLE = re.compile(r"[^A-Z<]")
_FIRST_LETTER = re.compile(r"[A-Z]")


def normalize(name: str) -> str:
    """Machine-readable form of a name (events.md §7.1): transliterate, upper-case, words joined by
    `<`, then everything outside `A`–`Z` and `<` removed (mrz's `transliterate` with its tables,
    done in one pass: ~3 → ~1 µs per name)."""
    return _NOT_MACHINE_READABLE.sub("", name.translate(_MACHINE_READABLE_WORDS).upper())


def initial(name: str) -> str:
    """The first `A`–`Z` character of `normalize(name)`, or `""` (events.md §7.2)."""
    match = _FIRST_LETTER.search(normalize(name or ""))
    return match.group(0) if match else ""


def first_name_initial(holder: Holder) -> str:
    """Initial of the holder's first name (events.md §7.2)."""
    return initial(holder.first_name)


def last_name_initial(holder: Holder) -> str:
    """Initial of the holder's last name, without the infix (events.md §7.2)."""
    return initial(holder.last_name)


def birth_day_attribute(holder: Holder) -> str:
    """Domestic `birthDay`: decimal without zero padding, `""` when unknown (events.md §7.3)."""
    return "" if holder.birth_day is None else str(holder.birth_day)


def birth_month_attribute(holder: Holder) -> str:
    """Domestic `birthMonth`: decimal without zero padding, `""` when unknown (events.md §7.3)."""
    return "" if holder.birth_month is None else str(holder.birth_month)


def eu_dob(holder: Holder) -> str:
    """EU `dob`: `YYYY-MM-DD` when month and day are known, else `YYYY` (events.md §7.3)."""
    if holder.birth_month is None or holder.birth_day is None:
        return f"{holder.birth_year:04d}"
    return f"{holder.birth_year:04d}-{holder.birth_month:02d}-{holder.birth_day:02d}"
