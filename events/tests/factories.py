"""Small factories for rule tests: holders and the four event kinds (events/types.py).

Every argument has a plausible default; pass only what a test is about. Datetimes must be aware.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from events.types import (
    Event,
    Holder,
    NegativeTest,
    PositiveTest,
    Recovery,
    Vaccination,
)

_counter = itertools.count(1)
_UNSET = object()


def _unique(value: object) -> str | None:
    return f"unique-{next(_counter)}" if value is _UNSET else value  # type: ignore[return-value]


def holder(
    *,
    first_name: str = "Bob",
    last_name: str = "Bouwer",
    infix: str | None = "de",
    birth_year: int = 1960,
    birth_month: int | None = 1,
    birth_day: int | None = 15,
) -> Holder:
    return Holder(
        first_name=first_name,
        last_name=last_name,
        infix=infix,
        birth_year=birth_year,
        birth_month=birth_month,
        birth_day=birth_day,
    )


def _event(kind: str, payload, *, holder_: Holder | None, provider: str, unique: object, is_specimen: bool) -> Event:
    return Event(
        type=kind,
        unique=_unique(unique),
        is_specimen=is_specimen,
        source_provider=provider,
        holder=holder_ if holder_ is not None else holder(),
        payload=payload,
    )


def vaccination_event(
    *,
    date: date = date(2021, 6, 1),
    hpk_code: str | None = "2924528",
    type: str | None = None,
    manufacturer: str | None = None,
    brand: str | None = None,
    dose_number: int | None = None,
    total_doses: int | None = None,
    completed_by_medical_statement: bool | None = None,
    completed_by_personal_statement: bool | None = None,
    country: str = "NL",
    holder: Holder | None = None,
    provider: str = "ZZZ",
    unique: object = _UNSET,
    is_specimen: bool = False,
) -> Event:
    """A vaccination; by default Pfizer (HPK 2924528) on 2021-06-01 without dose numbers."""
    payload = Vaccination(
        date=date,
        hpk_code=hpk_code,
        type=type,
        manufacturer=manufacturer,
        brand=brand,
        completed_by_medical_statement=completed_by_medical_statement,
        completed_by_personal_statement=completed_by_personal_statement,
        country=country,
        dose_number=dose_number,
        total_doses=total_doses,
    )
    return _event("vaccination", payload, holder_=holder, provider=provider, unique=unique, is_specimen=is_specimen)


def negative_test_event(
    *,
    sample_date: datetime = datetime(2021, 7, 1, 10, 15, tzinfo=UTC),
    negative_result: bool = True,
    facility: str = "GGD XL Amsterdam",
    type: str = "LP217198-3",
    name: str = "Rapid antigen test",
    manufacturer: str = "1232",
    country: str = "NL",
    holder: Holder | None = None,
    provider: str = "ZZZ",
    unique: object = _UNSET,
    is_specimen: bool = False,
) -> Event:
    payload = NegativeTest(
        sample_date=sample_date,
        negative_result=negative_result,
        facility=facility,
        type=type,
        name=name,
        manufacturer=manufacturer,
        country=country,
    )
    return _event("negativetest", payload, holder_=holder, provider=provider, unique=unique, is_specimen=is_specimen)


def positive_test_event(
    *,
    sample_date: datetime = datetime(2021, 6, 20, 10, 15, tzinfo=UTC),
    positive_result: bool = True,
    facility: str = "GGD XL Amsterdam",
    type: str = "LP6464-4",
    name: str = "PCR test",
    manufacturer: str = "1232",
    country: str = "NL",
    holder: Holder | None = None,
    provider: str = "ZZZ",
    unique: object = _UNSET,
    is_specimen: bool = False,
) -> Event:
    payload = PositiveTest(
        sample_date=sample_date,
        positive_result=positive_result,
        facility=facility,
        type=type,
        name=name,
        manufacturer=manufacturer,
        country=country,
    )
    return _event("positivetest", payload, holder_=holder, provider=provider, unique=unique, is_specimen=is_specimen)


def recovery_event(
    *,
    sample_date: date = date(2021, 6, 20),
    valid_from: date = date(2021, 7, 1),
    valid_until: date = date(2021, 12, 17),
    country: str = "NL",
    holder: Holder | None = None,
    provider: str = "ZZZ",
    unique: object = _UNSET,
    is_specimen: bool = False,
) -> Event:
    payload = Recovery(sample_date=sample_date, valid_from=valid_from, valid_until=valid_until, country=country)
    return _event("recovery", payload, holder_=holder, provider=provider, unique=unique, is_specimen=is_specimen)
