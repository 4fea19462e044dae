"""Domestic (NL) rules: origins, contiguous blocks, strips, strike and the print variant
(rules-domestic.md §3–§7).

Pure functions: the request's "now" and the random source are parameters, the input events are
deep-copied (rules-domestic.md preamble) and nothing here does I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from common.randomness import BatchedSystemRandom
from events.decoding.normalise import (
    birth_day_attribute,
    birth_month_attribute,
    first_name_initial,
    last_name_initial,
)
from events.rules.config import RuleConfig
from events.rules.pipeline import distill, floor_to_hour, is_complete, midnight_utc
from events.types import (
    Event,
    Holder,
    NegativeTest,
    Origin,
    PositiveTest,
    Recovery,
    Vaccination,
)

logger = logging.getLogger(__name__)

RandInt = Callable[[int, int], int]
_system_random = BatchedSystemRandom()

# Creation order of origins; it decides ties of the stable sort by validFrom (§3 step 5).
ORIGIN_CREATION_ORDER: tuple[str, ...] = ("vaccination", "recovery", "negativetest", "positivetest")
STRIKE_LETTERS: dict[str, str] = {
    "firstNameInitial": "V",
    "lastNameInitial": "F",
    "birthMonth": "M",
    "birthDay": "D",
}


@dataclass
class Block:
    """A run of contiguous origins (rules-domestic.md §4)."""

    valid_from: datetime
    expiration_time: datetime
    origins: list[Origin] = field(default_factory=list)


@dataclass
class DomesticIssuance:
    """What the app flow asks of the domestic signer: origins to list and struck strips."""

    origins: list[Origin]
    strips: list[dict[str, str]]


# --- §3 origins ----------------------------------------------------------------------------------


def drop_incomplete_vaccinations(events: list[Event]) -> list[Event]:
    """§3 step 1 (decision g): an incomplete vaccination never becomes a domestic origin."""
    return [event for event in events if not isinstance(event.payload, Vaccination) or is_complete(event.payload)]


def origin_for_event(event: Event, config: RuleConfig) -> Origin:
    """§3 step 3: the origin of one event."""
    payload = event.payload
    if isinstance(payload, Vaccination):
        event_time = midnight_utc(payload.date)
        kind, valid_from = "vaccination", event_time
        expiration = event_time + timedelta(days=config.domestic_nl_expiry_days_vaccination)
    elif isinstance(payload, Recovery):
        kind, event_time = "recovery", midnight_utc(payload.sample_date)
        valid_from, expiration = midnight_utc(payload.valid_from), midnight_utc(payload.valid_until)
    elif isinstance(payload, NegativeTest):
        event_time = floor_to_hour(payload.sample_date)
        kind, valid_from = "test", event_time
        expiration = event_time + timedelta(hours=config.domestic_nl_expiry_hours_negative_test)
    elif isinstance(payload, PositiveTest):
        event_time = floor_to_hour(payload.sample_date)
        recovery_days = config.domestic_nl_positive_test_recovery_days
        kind, valid_from = "recovery", event_time + timedelta(days=recovery_days)
        expiration = event_time + timedelta(days=recovery_days + config.domestic_nl_expiry_days_positive_test)
    else:  # pragma: no cover - Event.payload is one of the four kinds
        raise TypeError(f"unknown payload kind {type(payload).__name__}")
    return Origin(
        type=kind,
        event_time=event_time,
        valid_from=valid_from,
        expiration_time=expiration,
        is_specimen=event.is_specimen,
        holder=event.holder,
    )


def create_origins(events: list[Event], config: RuleConfig) -> list[Origin]:
    """§3 step 3, in creation order vaccination, recovery, negative test, positive test."""
    return [origin_for_event(event, config) for kind in ORIGIN_CREATION_ORDER for event in events if event.type == kind]


def drop_expired_origins(origins: list[Origin], now: datetime) -> list[Origin]:
    """§3 step 4 (decision g): an origin with `expirationTime ≤ now` is removed."""
    return [origin for origin in origins if origin.expiration_time > now]


def domestic_origins(events: list[Event], *, config: RuleConfig, now: datetime) -> list[Origin]:
    """§3 steps 1–5: the pipeline, then the origins that are listed to the app, sorted by validFrom."""
    remaining = drop_incomplete_vaccinations(distill(events, config=config, now=now))
    origins = drop_expired_origins(create_origins(remaining, config), now)
    return sorted(origins, key=lambda origin: origin.valid_from)


# --- §4 contiguous blocks ------------------------------------------------------------------------


def contiguous_blocks(origins: list[Origin]) -> list[Block]:
    """§4: origins whose validFrom ≤ the current block's expiration (touching counts) join it."""
    blocks: list[Block] = []
    for origin in origins:
        if blocks and origin.valid_from <= blocks[-1].expiration_time:
            block = blocks[-1]
            block.expiration_time = max(block.expiration_time, origin.expiration_time)
            block.origins.append(origin)
        else:
            blocks.append(Block(origin.valid_from, origin.expiration_time, [origin]))
    return blocks


# --- §5 strips -----------------------------------------------------------------------------------


def holder_attributes(holder: Holder) -> dict[str, str]:
    """Initials and birth day/month of a holder (rules-domestic.md §5, events.md §7)."""
    return {
        "firstNameInitial": first_name_initial(holder),
        "lastNameInitial": last_name_initial(holder),
        "birthDay": birth_day_attribute(holder),
        "birthMonth": birth_month_attribute(holder),
    }


def proof_attributes(
    *, is_specimen: bool, is_paper_proof: bool, valid_from: datetime, valid_for_hours: int, holder: Mapping[str, str]
) -> dict[str, str]:
    """One attribute map in the signer's attribute order (§5 table, §7 step 4); `holder` is the
    holder's `holder_attributes`."""
    return {
        "isSpecimen": "1" if is_specimen else "0",
        "isPaperProof": "1" if is_paper_proof else "0",
        "validFrom": str(int(valid_from.timestamp())),
        "validForHours": str(valid_for_hours),
        **holder,
    }


def strip_windows(blocks: list[Block], *, config: RuleConfig, now: datetime, randint: RandInt) -> list[tuple[Block, datetime]]:
    """§5 loop: the (block, strip validFrom) pairs, with a random overlap per strip."""
    validity = timedelta(hours=config.domestic_strip_validity_hours)
    now_h = floor_to_hour(now.astimezone(UTC))
    max_exp = now_h + timedelta(days=config.domestic_maximum_issuance_days)
    max_overlap = config.domestic_maximum_randomized_overlap_hours
    steps = [validity - timedelta(hours=overlap) for overlap in range(max_overlap + 1)]  # by overlap
    windows = []
    for block in blocks:
        scrubber = max(now_h, block.valid_from)
        while True:
            scrubber = min(scrubber + steps[randint(0, max_overlap)], block.expiration_time)
            if scrubber >= max_exp:
                break
            windows.append((block, scrubber - validity))
            if scrubber == block.expiration_time:
                break
    return windows


def create_strips(blocks: list[Block], *, config: RuleConfig, now: datetime, randint: RandInt) -> list[dict[str, str]]:
    """§5: the app strips (before the strike); each takes specimen flag and holder from its block's first origin."""
    strips = []
    holders: dict[int, dict[str, str]] = {}  # per block: its holder's attributes, made once (not per strip)
    for block, valid_from in strip_windows(blocks, config=config, now=now, randint=randint):
        first = block.origins[0]
        assert first.holder is not None, "domestic origins always carry their holder"
        holder = holders.get(id(block))
        if holder is None:
            holder = holders[id(block)] = holder_attributes(first.holder)
        strips.append(
            proof_attributes(
                is_specimen=first.is_specimen,
                is_paper_proof=False,
                valid_from=valid_from,
                valid_for_hours=config.domestic_strip_validity_hours,
                holder=holder,
            )
        )
    return strips


# --- §6 strike -----------------------------------------------------------------------------------


def strike(strip: dict[str, str], allowlist: Mapping[str, str]) -> dict[str, str]:
    """§6: blank every identifying attribute whose letter the allowlist does not disclose."""
    key = strip["firstNameInitial"] + strip["lastNameInitial"]
    letters = allowlist.get(key, "") if len(key) == 2 else ""
    struck = dict(strip)
    for attribute, letter in STRIKE_LETTERS.items():
        if letter not in letters:
            struck[attribute] = ""
    return struck


# --- app flow ------------------------------------------------------------------------------------


def domestic_issuance(
    events: list[Event],
    *,
    config: RuleConfig,
    now: datetime,
    randint: RandInt = _system_random.randint,
) -> DomesticIssuance | None:
    """The domestic part of the app flow (§3–§6): origins plus struck strips, or None.

    None when the dynamic signer is disabled, no origin qualifies or no strip results.
    """
    if not config.domestic_nl_dynamic_signer_enabled:
        return None
    origins = domestic_origins(events, config=config, now=now)
    if not origins:
        return None
    strips = create_strips(contiguous_blocks(origins), config=config, now=now, randint=randint)
    if not strips:
        return None
    return DomesticIssuance(
        origins=origins,
        strips=[strike(strip, config.partial_disclosure) for strip in strips],
    )


# --- §7 print variant ----------------------------------------------------------------------------


def is_print_eligible(events: list[Event]) -> bool:
    """§7 step 2: a complete vaccination, or any negative test, positive test or recovery."""
    return any(not isinstance(event.payload, Vaccination) or is_complete(event.payload) for event in events)


def print_validity(event: Event, config: RuleConfig) -> tuple[datetime, int]:
    """§7 step 4: (validFrom, validForHours) of the paper proof (decision i for positive tests)."""
    payload = event.payload
    if isinstance(payload, Vaccination):
        return midnight_utc(payload.date), config.domestic_print_proof_validity_hours_vaccination
    if isinstance(payload, NegativeTest):
        return payload.sample_date, config.domestic_nl_expiry_hours_negative_test
    if isinstance(payload, PositiveTest):
        start = floor_to_hour(payload.sample_date) + timedelta(days=config.domestic_nl_positive_test_recovery_days)
        return start, 24 * config.domestic_nl_expiry_days_positive_test
    if isinstance(payload, Recovery):
        return midnight_utc(payload.valid_from), config.domestic_print_proof_validity_hours_recovery
    raise TypeError(f"unknown payload kind {type(payload).__name__}")  # pragma: no cover


def domestic_print_attributes(events: list[Event], *, config: RuleConfig, now: datetime) -> dict[str, str] | None:
    """§7 steps 1–4: the paper-proof attributes of the last remaining event, or None."""
    if not config.domestic_nl_print_signer_enabled or not events:
        return None
    remaining = distill(events, config=config, now=now)
    if not remaining or not is_print_eligible(remaining):
        return None
    if len(remaining) > 1:
        logger.warning("print: %d events remain after the rules; using the last one", len(remaining))
    event = remaining[-1]
    if isinstance(event.payload, Vaccination) and not is_complete(event.payload):
        return None
    valid_from, valid_for_hours = print_validity(event, config)
    return proof_attributes(
        is_specimen=event.is_specimen,
        is_paper_proof=True,
        valid_from=valid_from,
        valid_for_hours=valid_for_hours,
        holder=holder_attributes(event.holder),
    )
