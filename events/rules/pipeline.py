"""The distillation pipeline shared by the domestic and EU rules (rules-domestic.md §1–§2).

Pure functions over `events.types` values: no I/O, no clock (the request's "now" is a parameter).
`distill` runs the seven steps in order on its own deep copy of the events; each step has its own
function named after it. Also the event time helpers (events.md §11) and deduplication
(events.md §12).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from events.rules.config import RuleConfig
from events.types import Event, NegativeTest, PositiveTest, Recovery, Vaccination, events_copy

logger = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
KIND_ORDER_DEDUPLICATION: tuple[str, ...] = ("vaccination", "negativetest", "positivetest", "recovery")
KIND_ORDER_PIPELINE: tuple[str, ...] = ("vaccination", "positivetest", "negativetest", "recovery")


# --- event time helpers (events.md §11) and "today" (decision y) ---------------------------------


def midnight_utc(value: date) -> datetime:
    """A date read as midnight UTC (README conventions)."""
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


def floor_to_hour(value: datetime) -> datetime:
    """Set minutes, seconds and microseconds to zero in the value's own offset (README conventions)."""
    return value.replace(minute=0, second=0, microsecond=0)


def event_date(event: Event) -> date | datetime:
    """The raw event date: vaccination `date`, test or recovery `sampleDate` (events.md §12)."""
    payload = event.payload
    if isinstance(payload, Vaccination):
        return payload.date
    return payload.sample_date


def event_time(event: Event) -> datetime:
    """Event time (events.md §11): a date becomes midnight UTC, a datetime keeps its offset."""
    value = event_date(event)
    return value if isinstance(value, datetime) else midnight_utc(value)


def valid_from_time(event: Event) -> datetime:
    """Valid-from time (events.md §11): the event time, except a recovery's own `validFrom`."""
    if isinstance(event.payload, Recovery):
        return midnight_utc(event.payload.valid_from)
    return event_time(event)


def today_for_date(now: datetime) -> date:
    """ "Today" for a date-only value: the date of now in Europe/Amsterdam (decision y)."""
    return now.astimezone(AMSTERDAM).date()


def today_for_datetime(now: datetime, value: datetime) -> date:
    """ "Today" for a datetime: the date of now in that datetime's own offset (decision y)."""
    return now.astimezone(value.tzinfo).date()


def events_of_kind(events: Iterable[Event], kind: str) -> list[Event]:
    return [event for event in events if event.type == kind]


def vaccination_of(event: Event) -> Vaccination:
    """The payload of an event that the caller took from the vaccinations (the pipeline splits the
    events by type first)."""
    return cast(Vaccination, event.payload)


def is_complete(vaccination: Vaccination) -> bool:
    """Both dose fields set and `doseNumber ≥ totalDoses` (rules-domestic.md §2)."""
    dose, total = vaccination.dose_number, vaccination.total_doses
    if not dose or not total:
        return False
    return dose >= total


# --- step 1: eligibility -------------------------------------------------------------------------


def is_eligible(event: Event, config: RuleConfig) -> bool:
    """Eligibility of one event (rules-domestic.md §1 step 1)."""
    payload = event.payload
    if isinstance(payload, Vaccination):
        return (
            payload.hpk_code in config.hpk_codes
            or payload.manufacturer in config.vaccine_manufacturers
            or payload.brand in config.vaccine_products
        )
    if isinstance(payload, NegativeTest):
        return payload.negative_result is True and payload.type in config.test_types
    if isinstance(payload, PositiveTest):
        return payload.positive_result is True and payload.type in config.test_types
    return isinstance(payload, Recovery)


def remove_ineligible_events(events: list[Event], config: RuleConfig) -> list[Event]:
    """Step 1: keep eligible events only."""
    return [event for event in events if is_eligible(event, config)]


# --- step 2: HPK enrichment ----------------------------------------------------------------------


def enrich_from_hpk(events: list[Event], config: RuleConfig) -> list[Event]:
    """Step 2: a known HPK code overwrites `type`, `brand` and `manufacturer` with vp, mp, ma."""
    for event in events_of_kind(events, "vaccination"):
        vaccination = vaccination_of(event)
        if not vaccination.hpk_code:
            continue
        entry = config.hpk_codes.get(vaccination.hpk_code)
        if entry is None:
            logger.warning("vaccination with an HPK code that is not in the HPK mapping: %s", vaccination.hpk_code)
            continue
        vaccination.type, vaccination.brand, vaccination.manufacturer = entry.vp, entry.mp, entry.ma
    return events


# --- step 3: missing doses -----------------------------------------------------------------------


def vaccination_brand(vaccination: Vaccination, config: RuleConfig) -> str | None:
    """The brand (`mp`) of a vaccination: `brand`, else the mp of a known HPK code, else None."""
    if vaccination.brand:
        return vaccination.brand
    if vaccination.hpk_code and vaccination.hpk_code in config.hpk_codes:
        return config.hpk_codes[vaccination.hpk_code].mp
    return None


def set_missing_doses(events: list[Event], config: RuleConfig) -> list[Event]:
    """Step 3: default `doseNumber` to 1 and `totalDoses` to the brand's required doses.

    A vaccination whose brand must be looked up but is not in the required-doses table is dropped
    as ineligible (decision k).
    """
    result = []
    for event in events:
        vaccination = event.payload
        if isinstance(vaccination, Vaccination):
            vaccination.dose_number = vaccination.dose_number or 1
            if not vaccination.total_doses:
                brand = vaccination_brand(vaccination, config)
                if brand is not None:
                    if brand not in config.required_doses:
                        logger.warning("vaccination dropped: brand without a required dose count: %s", brand)
                        continue
                    vaccination.total_doses = config.required_doses[brand]
        result.append(event)
    return result


# --- step 4: completion statements ---------------------------------------------------------------


def apply_completion_statements(events: list[Event]) -> list[Event]:
    """Step 4: a medical or personal completion statement makes the vaccination 1 of 1."""
    for event in events_of_kind(events, "vaccination"):
        vaccination = vaccination_of(event)
        if vaccination.completed_by_medical_statement or vaccination.completed_by_personal_statement:
            vaccination.dose_number = 1
            vaccination.total_doses = 1
    return events


# --- step 5: deduplication (events.md §12) -------------------------------------------------------


def within_deduplication_margin(kept: Event, other: Event, config: RuleConfig) -> bool:
    """Whole-day part (floored, `timedelta.days`) of the date difference is within the margin."""
    difference = event_date(other) - event_date(kept)
    return abs(difference.days) <= config.deduplication_margin


def identical_vaccinations(kept: Vaccination, other: Vaccination) -> bool:
    if kept.hpk_code and other.hpk_code and kept.hpk_code != other.hpk_code:
        return False
    for name in ("type", "manufacturer", "brand"):
        mine, theirs = getattr(kept, name), getattr(other, name)
        if mine and theirs and mine != theirs:
            return False
    return True


def merge_vaccinations(kept: Vaccination, other: Vaccination) -> None:
    kept.date = min(kept.date, other.date)
    for name in (
        "hpk_code",
        "type",
        "manufacturer",
        "brand",
        "completed_by_medical_statement",
        "completed_by_personal_statement",
        "country",
    ):
        setattr(kept, name, getattr(kept, name) or getattr(other, name))
    kept.dose_number = max(kept.dose_number or 1, other.dose_number or 1)
    kept.total_doses = min(kept.total_doses or 2, other.total_doses or 2)


_TEST_ATTRIBUTES = ("facility", "type", "name", "manufacturer", "country")


def identical_tests(kept: NegativeTest | PositiveTest, other: NegativeTest | PositiveTest) -> bool:
    return all(getattr(kept, name) == getattr(other, name) for name in _TEST_ATTRIBUTES)


def merge_tests(kept: NegativeTest | PositiveTest, other: NegativeTest | PositiveTest) -> None:
    kept.sample_date = min(kept.sample_date, other.sample_date)
    kept.country = kept.country or other.country


def identical_recoveries(kept: Recovery, other: Recovery) -> bool:
    return (kept.valid_from, kept.valid_until, kept.country) == (other.valid_from, other.valid_until, other.country)


def merge_recoveries(kept: Recovery, other: Recovery) -> None:
    kept.sample_date = min(kept.sample_date, other.sample_date)
    kept.valid_from = min(kept.valid_from, other.valid_from)
    kept.valid_until = min(kept.valid_until, other.valid_until)
    kept.country = kept.country or other.country


_DEDUPLICATION_RULES: dict[str, tuple[Callable, Callable]] = {
    "vaccination": (identical_vaccinations, merge_vaccinations),
    "negativetest": (identical_tests, merge_tests),
    "positivetest": (identical_tests, merge_tests),
    "recovery": (identical_recoveries, merge_recoveries),
}


def deduplicate_kind(events: list[Event], config: RuleConfig) -> list[Event]:
    """Deduplicate the events of one payload kind (events.md §12 steps 1–2)."""
    kept: list[Event] = []
    for event in sorted(events, key=event_time):
        if event in kept:
            continue
        identical, merge = _DEDUPLICATION_RULES[event.type]
        merged = False
        for kept_event in kept:
            if within_deduplication_margin(kept_event, event, config) and identical(kept_event.payload, event.payload):
                merge(kept_event.payload, event.payload)
                merged = True
        if not merged:
            kept.append(event)
    return kept


def deduplicate(events: list[Event], config: RuleConfig) -> list[Event]:
    """Step 5: per kind; output vaccinations, negative tests, positive tests, recoveries."""
    return [event for kind in KIND_ORDER_DEDUPLICATION for event in deduplicate_kind(events_of_kind(events, kind), config)]


# --- step 6: redundancy filter and §2 relevant vaccination --------------------------------------


def group_by_total_doses(vaccinations: list[Event]) -> dict[int, list[Event]]:
    """Groups of §2 try 2, in order of first appearance, with upstream's group-0 quirk.

    A vaccination with `totalDoses` null replaces the content of group 0 (keeping its place); one
    with `totalDoses` 0 joins it.
    """
    groups: dict[int, list[Event]] = {}
    for event in vaccinations:
        total = vaccination_of(event).total_doses
        if total is None or total not in groups:
            groups[total or 0] = [event]
        else:
            groups[total].append(event)
    return groups


def completed_across_brands(vaccinations: list[Event]) -> Event | None:
    """§2 try 2: the latest pick of the groups whose size reaches their `totalDoses`."""
    picks = []
    for total, group in group_by_total_doses(vaccinations).items():
        if len(group) >= total:
            pick = group[-1]
            vaccination_of(pick).dose_number = len(group)
            picks.append(pick)
    if not picks:
        return None
    return max(picks, key=lambda event: vaccination_of(event).date)


def relevant_vaccination(vaccinations: list[Event]) -> list[Event]:
    """Reduce date-sorted vaccinations to the single relevant one (rules-domestic.md §2)."""
    if len(vaccinations) <= 1:
        return vaccinations
    completed = [event for event in vaccinations if is_complete(vaccination_of(event))]
    if completed:
        return [completed[-1]]
    across_brands = completed_across_brands(vaccinations)
    if across_brands is not None:
        return [across_brands]
    return [vaccinations[-1]]


def not_in_the_future(vaccinations: list[Event], now: datetime) -> list[Event]:
    """Drop vaccinations dated after today in Europe/Amsterdam (decision y)."""
    today = today_for_date(now)
    return [event for event in vaccinations if vaccination_of(event).date <= today]


def recent_negative_tests(tests: list[Event], config: RuleConfig, now: datetime) -> list[Event]:
    """Drop negative tests sampled on a later date than today (own offset) or older than the limit."""
    oldest = now - timedelta(hours=config.domestic_nl_expiry_hours_negative_test)
    result = []
    for event in tests:
        sample_date = cast(NegativeTest, event.payload).sample_date  # the caller passes negative tests only
        if sample_date.date() > today_for_datetime(now, sample_date):
            logger.warning("negative test dropped: sample date in the future")
            continue
        if sample_date < oldest:
            continue
        result.append(event)
    return result


def most_recent(events: list[Event]) -> list[Event]:
    """The last of a date-sorted list, or the empty list."""
    return events[-1:]


def filter_redundant_events(events: list[Event], config: RuleConfig, now: datetime) -> list[Event]:
    """Step 6; output order vaccinations, positive tests, negative tests, recoveries."""
    by_kind = {kind: sorted(events_of_kind(events, kind), key=event_time) for kind in KIND_ORDER_PIPELINE}
    vaccinations = relevant_vaccination(not_in_the_future(by_kind["vaccination"], now))
    positive_tests = most_recent(by_kind["positivetest"])
    negative_tests = most_recent(recent_negative_tests(by_kind["negativetest"], config, now))
    recoveries = most_recent(by_kind["recovery"])
    return [*vaccinations, *positive_tests, *negative_tests, *recoveries]


# --- step 7: cross-type rule ---------------------------------------------------------------------


def evaluate_cross_type_events(events: list[Event]) -> list[Event]:
    """Step 7 (V120): a vaccination plus a positive test makes the latest vaccination 1 of 1."""
    vaccinations = events_of_kind(events, "vaccination")
    if not vaccinations or not events_of_kind(events, "positivetest"):
        return events
    latest = vaccinations[-1]
    vaccination_of(latest).dose_number = 1
    vaccination_of(latest).total_doses = 1
    return [event for event in events if event.type != "vaccination" or event is latest]


# --- the whole pipeline --------------------------------------------------------------------------


def distill(events: list[Event], *, config: RuleConfig, now: datetime) -> list[Event]:
    """Run steps 1–7 of rules-domestic.md §1 on a deep copy of `events` (each computation, domestic
    or EU, works on its own copy).

    The result holds at most one event of each kind, ordered vaccination, positive test, negative
    test, recovery.
    """
    result = events_copy(events)
    result = remove_ineligible_events(result, config)
    result = enrich_from_hpk(result, config)
    result = set_missing_doses(result, config)
    result = apply_completion_statements(result)
    result = deduplicate(result, config)
    result = filter_redundant_events(result, config, now)
    return evaluate_cross_type_events(result)
