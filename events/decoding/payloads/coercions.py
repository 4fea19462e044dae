"""pydantic v1's lenient coercions, as the upstream service applied them (events.md §4.1, §4.2).

Each converter takes any JSON value and returns the converted value or raises `Invalid` with
pydantic v1's exact `msg` and `type` (the 422 item of §4.4).
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pycountry

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]{1,12}))?)?"
    r"(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_COUNTRY = re.compile(r"[A-Z]{2,3}")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_TRUE_TEXTS = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE_TEXTS = frozenset({"0", "off", "f", "false", "n", "no"})


class Invalid(Exception):
    """A value that cannot be converted; becomes one 422 item."""

    def __init__(self, msg: str, type_: str) -> None:
        super().__init__(type_)
        self.msg = msg
        self.type = type_


def to_str(value: object) -> str:
    """A string; numbers become their decimal text (§4.1). Booleans are not numbers here."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # beyond Python's int-to-text digit limit
            raise Invalid("str type expected", "type_error.str") from None
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise Invalid("str type expected", "type_error.str")


def to_plain_str(value: object) -> str:
    """A string without coercion (the holder's birth date, §4.1)."""
    if isinstance(value, str):
        return value
    raise Invalid("str type expected", "type_error.str")


def to_bool(value: object) -> bool:
    """A boolean: `true`/`false`, 0/1 and the usual string forms (§4.1)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_TEXTS:
            return True
        if text in _FALSE_TEXTS:
            return False
    raise Invalid("value could not be parsed to a boolean", "type_error.bool")


def to_int(value: object) -> int:
    """An integer; integer strings and integral floats are accepted (§4.1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        try:
            return int(value.strip())
        except ValueError:  # beyond Python's text-to-int digit limit
            pass
    raise Invalid("value is not a valid integer", "type_error.integer")


def to_date(value: object) -> date:
    """An ISO date `YYYY-MM-DD` (§4.2)."""
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise Invalid("invalid date format", "value_error.date")


def to_datetime(value: object) -> datetime:
    """An ISO 8601 datetime with a time part (§4.2); the offset is kept, `Z` is UTC.

    A value without offset comes back naive: that is a 400 of the semantic step, not a 422.
    """
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match:
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        microsecond = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                microsecond,
                tzinfo=utc_offset(offset),
            )
        except ValueError:
            pass
    raise Invalid("invalid datetime format", "value_error.datetime")


def utc_offset(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("offset out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    if not delta:
        return UTC
    return timezone(-delta if text[0] == "-" else delta)


def to_country(value: object) -> str:
    """ISO 3166-1 alpha-2 code of an alpha-2 or alpha-3 country (§4.2)."""
    text = to_str(value)
    if not _COUNTRY.fullmatch(text):
        raise Invalid("ISO 3166-1 alpha-2|3 requires two or three characters.", "value_error")
    alpha_2 = _country_alpha_2(text)
    if alpha_2 is None:
        raise Invalid("Given country is not known to ISO 3166-1 alpha-2|3.", "value_error")
    return alpha_2


@functools.lru_cache(maxsize=1024)
def _country_alpha_2(code: str) -> str | None:
    """The alpha-2 code of an alpha-2 or alpha-3 code pycountry knows, or None: remembered, as
    pycountry's lookup costs ~10 µs and every event names a country."""
    country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else pycountry.countries.get(alpha_2=code)
    return None if country is None else str(country.alpha_2)


def to_uuid(value: object) -> uuid.UUID:
    """A UUID from its text (request bodies, api.md §5)."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise Invalid("value is not a valid uuid", "type_error.uuid")
