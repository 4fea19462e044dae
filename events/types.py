"""Plain data types of the intake and the rules (events.md, rules-domestic.md, rules-eu.md).

These are what the decoding produces and the pure rule functions consume: no Django, no I/O.
Dates are `datetime.date`; datetimes are timezone-aware `datetime.datetime` values that keep the
provider's own UTC offset (events.md §4.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

EVENT_TYPES: tuple[str, ...] = ("vaccination", "negativetest", "positivetest", "recovery")

# Marker year of holders upgraded from protocol 2.0 (events.md §5.2, rules-eu.md §2).
V2_BIRTH_YEAR = 1883


T = TypeVar("T")


@dataclass
class Holder:
    """The person a provider result is about (events.md §4.1, §7.3).

    `birth_month` / `birth_day` are None when unknown (`XX`). For an upgraded 2.0 holder the year
    is 1883 and no calendar date is ever built from the three parts.
    """

    first_name: str
    last_name: str
    infix: str | None
    birth_year: int
    birth_month: int | None
    birth_day: int | None


@dataclass
class Vaccination:
    date: date
    hpk_code: str | None = None
    type: str | None = None
    manufacturer: str | None = None
    brand: str | None = None
    completed_by_medical_statement: bool | None = None
    completed_by_personal_statement: bool | None = None
    country: str = "NL"
    dose_number: int | None = None
    total_doses: int | None = None


@dataclass
class NegativeTest:
    sample_date: datetime
    negative_result: bool
    facility: str
    type: str
    name: str
    manufacturer: str
    country: str = "NL"


@dataclass
class PositiveTest:
    sample_date: datetime
    positive_result: bool
    facility: str
    type: str
    name: str
    manufacturer: str
    country: str = "NL"


@dataclass
class Recovery:
    sample_date: date
    valid_from: date
    valid_until: date
    country: str = "NL"


Payload = Vaccination | NegativeTest | PositiveTest | Recovery


@dataclass
class Event:
    """One flattened event for the rules (events.md §9): the event plus its result's holder and
    source provider. `type` always names the payload's kind (events.md §4.3)."""

    type: str
    unique: str | None
    is_specimen: bool
    source_provider: str
    holder: Holder
    payload: Payload


@dataclass
class ProviderResult:
    """One decoded, validated provider result (protocol 3.0 shape; 2.0 results are upgraded)."""

    protocol_version: str
    provider_identifier: str
    status: str
    holder: Holder | None
    events: list[Event]


@dataclass
class Origin:
    """A period during which the holder has a proof (glossary; rules-domestic.md §3, rules-eu.md §7)."""

    type: str
    event_time: datetime
    valid_from: datetime
    expiration_time: datetime
    is_specimen: bool = False
    holder: Holder | None = None

    def render(self) -> dict[str, str]:
        """The `GreenCardOrigin` JSON object (api.md §5)."""
        return {
            "type": self.type,
            "eventTime": render_datetime(self.event_time),
            "expirationTime": render_datetime(self.expiration_time),
            "validFrom": render_datetime(self.valid_from),
        }


def _copied(value: T) -> T:
    """A shallow copy of a dataclass instance (none of these has `__post_init__` or slots):
    what `dataclasses.replace(value)` gives, without running `__init__` again."""
    copied = object.__new__(type(value))
    copied.__dict__.update(value.__dict__)
    return copied


def events_copy(events: list[Event]) -> list[Event]:
    """A deep copy of `events` for one rule computation (rules-domestic.md, preamble). Every leaf
    value is immutable (text, numbers, dates), so copying each dataclass once is a full deep copy,
    at a fraction of `copy.deepcopy`'s cost."""
    copies = []
    for event in events:
        copied = _copied(event)
        copied.holder, copied.payload = _copied(event.holder), _copied(event.payload)
        copies.append(copied)
    return copies


def render_datetime(value: datetime) -> str:
    """Render like Python's `isoformat()` of an aware value; `+00:00` for UTC (README conventions)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime cannot be rendered")
    return value.isoformat()
