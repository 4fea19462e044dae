"""Semantic validation (§4.3, §5.2): 400s with a stable code, after the structural check."""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from common.errors import ServiceError
from events.decoding.payloads.shapes import PROTOCOL_V3, EventV3, HolderV2, HolderV3, ResultV2, ResultV3
from events.types import Event, Holder, NegativeTest, Payload, PositiveTest, ProviderResult

logger = logging.getLogger(__name__)

_DIGITS = re.compile(r"[0-9]+")

# Days of each month in a leap year, so that 29 February is a valid 2.0 birth day (§5.2).
_LEAP_YEAR_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# --------------------------------------------------------------------------------------------
# §4.3 Semantic validation of protocol 3.0 (400).


def _semantic_error(code: str, detail: str, blob_index: int, path: Sequence[Any]) -> ServiceError:
    return ServiceError(400, code, detail, ["events", blob_index, "payload", *path])


def birth_date_parts(text: str) -> tuple[int, int | None, int | None] | None:
    """Year, month, day (None for `XX`) of a possible 3.0 birth date, or None if impossible (§4.3)."""
    year_text, month_text, day_text = text.split("-")
    year = int(year_text)
    month = None if month_text == "XX" else int(month_text)
    day = None if day_text == "XX" else int(day_text)
    if year == 0:
        return None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= 31:
        return None
    if month is not None and day is not None and day > calendar.monthrange(year, month)[1]:
        return None
    return year, month, day


def _holder_v3(structured: HolderV3, *, blob_index: int) -> Holder:
    parts = birth_date_parts(structured.birth_date)
    if parts is None:
        raise _semantic_error("invalid_birth_date", "The holder's birth date is impossible.", blob_index, ["holder", "birthDate"])
    year, month, day = parts
    return Holder(
        first_name=structured.first_name,
        last_name=structured.last_name,
        infix=structured.infix,
        birth_year=year,
        birth_month=month,
        birth_day=day,
    )


def _event_payload(event: EventV3, payloads: dict[str, Payload], index: int, *, blob_index: int) -> Payload:
    """The event's one payload object, whose name must equal its `type` (§4.3)."""
    if len(payloads) > 1 or event.type not in payloads:
        raise _semantic_error(
            "event_type_mismatch",
            "An event must have exactly one payload object, named after its type.",
            blob_index,
            ["events", index],
        )
    return payloads[event.type]


def _check_offset(value: datetime, *, blob_index: int, path: Sequence[Any]) -> None:
    """Datetimes carry a UTC offset (§4.2, §4.3)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise _semantic_error("naive_datetime", "A datetime has no UTC offset.", blob_index, path)


def semantics_v3(structured: ResultV3, *, blob_index: int) -> ProviderResult:
    """Semantic validation of a complete 3.0 result (§4.3, 400); events without a payload are dropped."""
    holder = _holder_v3(structured.holder, blob_index=blob_index)
    events: list[Event] = []
    for index, event in enumerate(structured.events):
        payloads = event.payloads()
        if not payloads:
            logger.warning(
                "event without payload object dropped: blob %d, event %d, type %s",
                blob_index,
                index,
                event.type,
            )
            continue
        payload = _event_payload(event, payloads, index, blob_index=blob_index)
        if isinstance(payload, (NegativeTest, PositiveTest)):
            _check_offset(payload.sample_date, blob_index=blob_index, path=["events", index, event.type, "sampleDate"])
        events.append(
            Event(
                type=event.type,
                unique=event.unique,
                is_specimen=event.is_specimen,
                source_provider=structured.provider_identifier,
                holder=holder,
                payload=payload,
            )
        )
    return ProviderResult(
        protocol_version=PROTOCOL_V3,
        provider_identifier=structured.provider_identifier,
        status=structured.status,
        holder=holder,
        events=events,
    )


# --------------------------------------------------------------------------------------------
# §5.2 Protocol 2.0: birth-field check.


def v2_birth_number(text: str, *, maximum: int) -> int | None:
    """A 2.0 birth day or month: one or more ASCII digits, 1..maximum (§5.2); None otherwise."""
    if not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0")
    if len(significant) > 2:
        return None
    number = int(significant or "0")
    return number if 1 <= number <= maximum else None


def v2_birth_month_day(holder: HolderV2) -> tuple[int | None, int | None]:
    """Month and day of a 2.0 holder; day checked against the month's length in a leap year."""
    month = v2_birth_number(holder.birth_month, maximum=12)
    if month is None:
        return None, None
    return month, v2_birth_number(holder.birth_day, maximum=_LEAP_YEAR_MONTH_DAYS[month - 1])


def semantics_v2(structured: ResultV2, *, blob_index: int) -> None:
    """Semantic checks of a complete 2.0 result: birth day/month (§5.2), sample-date offset (§4.2)."""
    result = structured.result
    month, day = v2_birth_month_day(result.holder)
    if month is None or day is None:
        field = "birthMonth" if month is None else "birthDay"
        raise _semantic_error(
            "invalid_birth_date",
            "The holder's birth day or month is impossible.",
            blob_index,
            ["result", "holder", field],
        )
    _check_offset(result.sample_date, blob_index=blob_index, path=["result", "sampleDate"])
