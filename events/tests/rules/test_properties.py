"""Property tests (hypothesis) of the rule invariants (rules-domestic.md §5, rules-eu.md §4, §9)."""

import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.dccschema import DCC_VALIDATOR
from events.rules.domestic import contiguous_blocks, domestic_issuance, strip_windows
from events.rules.eu import eu_messages
from events.rules.pipeline import distill, floor_to_hour
from events.rules.uci import generate_uci, uci_is_valid
from events.seed import seed_rule_config
from events.tests.factories import (
    holder,
    negative_test_event,
    positive_test_event,
    recovery_event,
    vaccination_event,
)
from events.types import Origin

CONFIG = seed_rule_config()
NOW = datetime(2021, 7, 1, 12, 30, tzinfo=UTC)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HPK_CODES = st.sampled_from([None, "2924528", "2924536", "2925508", "2934701", "1234567"])
BRANDS = st.sampled_from([None, "", "EU/1/20/1528", "EU/1/20/1525", "Sputnik-V", "EU/1/99/9999"])
MANUFACTURERS = st.sampled_from([None, "", "ORG-100030215", "ORG-100001417", "Bharat-Biotech"])
VACCINE_TYPES = st.sampled_from([None, "", "1119349007", "J07BX03"])
TEST_TYPES = st.sampled_from(["LP6464-4", "LP217198-3", "NL:BREATH", "NL:BIKKER", "unknown"])
OPTIONAL_DOSES = st.one_of(st.none(), st.integers(min_value=0, max_value=12))


@st.composite
def holders(draw):
    month = draw(st.one_of(st.none(), st.integers(1, 12)))
    return holder(
        first_name=draw(st.text(max_size=100)),
        last_name=draw(st.text(max_size=100)),
        infix=draw(st.one_of(st.none(), st.text(max_size=10))),
        birth_year=draw(st.one_of(st.integers(1900, 2099), st.integers(1850, 2150))),
        birth_month=month,
        birth_day=draw(st.one_of(st.none(), st.integers(1, 28))) if month else None,
    )


def instants():
    return st.integers(min_value=-400 * 24, max_value=60 * 24).map(lambda hours: NOW + timedelta(hours=hours, minutes=7))


def recent_instants():
    """Around the negative-test age limit of 40 hours and the end of today."""
    return st.integers(min_value=-48 * 60, max_value=24 * 60).map(lambda minutes: NOW + timedelta(minutes=minutes))


def dates():
    return st.integers(min_value=-400, max_value=60).map(lambda days: NOW.date() + timedelta(days=days))


@st.composite
def vaccinations(draw, person=None):
    return vaccination_event(
        date=draw(dates()),
        hpk_code=draw(HPK_CODES),
        type=draw(VACCINE_TYPES),
        manufacturer=draw(MANUFACTURERS),
        brand=draw(BRANDS),
        dose_number=draw(OPTIONAL_DOSES),
        total_doses=draw(OPTIONAL_DOSES),
        completed_by_medical_statement=draw(st.booleans()),
        holder=person or draw(holders()),
    )


@st.composite
def any_events(draw):
    person = draw(holders())
    text = st.text(max_size=120)
    kinds = st.one_of(
        vaccinations(person),
        st.builds(
            lambda sample, kind, name, facility: negative_test_event(
                sample_date=sample, type=kind, name=name, facility=facility, holder=person
            ),
            recent_instants(),
            TEST_TYPES,
            text,
            text,
        ),
        st.builds(lambda sample, kind: positive_test_event(sample_date=sample, type=kind, holder=person), instants(), TEST_TYPES),
        st.builds(
            lambda sample, start, length: recovery_event(
                sample_date=sample,
                valid_from=sample + timedelta(days=start),
                valid_until=sample + timedelta(days=start + length),
                holder=person,
            ),
            dates(),
            st.integers(0, 30),
            st.integers(-10, 400),
        ),
    )
    return draw(st.lists(kinds, max_size=6))


@st.composite
def origin_lists(draw):
    origins = []
    for _ in range(draw(st.integers(1, 5))):
        start = NOW + timedelta(hours=draw(st.integers(-2000, 1000)))
        end = max(start, NOW) + timedelta(hours=draw(st.integers(1, 3000)))
        origins.append(Origin("test", start, start, end, holder=holder()))
    return sorted(origins, key=lambda origin: origin.valid_from)


@PROPERTY_SETTINGS
@given(origins=origin_lists(), seed=st.integers(), overlap=st.integers(0, 23))
def test_strips_stay_within_block_and_issuance_window(origins, seed, overlap):
    config = seed_rule_config(domestic_maximum_randomized_overlap_hours=overlap)
    rng = random.Random(seed)
    now_h = floor_to_hour(NOW)
    max_exp = now_h + timedelta(days=config.domestic_maximum_issuance_days)
    validity = timedelta(hours=config.domestic_strip_validity_hours)
    for block, valid_from in strip_windows(contiguous_blocks(origins), config=config, now=NOW, randint=rng.randint):
        end = valid_from + validity
        assert now_h < end < max_exp
        # touching counts: a zero-length origin gives a strip that ends where the origin starts
        assert block.valid_from <= end <= block.expiration_time


@PROPERTY_SETTINGS
@given(events=any_events(), seed=st.integers())
def test_domestic_strips_lie_in_the_issuance_window(events, seed):
    result = domestic_issuance(events, config=CONFIG, now=NOW, randint=random.Random(seed).randint)
    if result is None:
        return
    now_h = floor_to_hour(NOW)
    max_exp = now_h + timedelta(days=CONFIG.domestic_maximum_issuance_days)
    assert result.origins and all(origin.expiration_time > NOW for origin in result.origins)
    for strip in result.strips:
        end = datetime.fromtimestamp(int(strip["validFrom"]), UTC) + timedelta(hours=24)
        assert now_h < end < max_exp
        assert end <= max(origin.expiration_time for origin in result.origins)


@PROPERTY_SETTINGS
@given(events=st.lists(vaccinations(), max_size=6))
def test_dose_numbers_stay_within_bounds(events):
    upper = max([len(events), 1] + [event.payload.dose_number or 0 for event in events])
    for event in distill(events, config=CONFIG, now=NOW):
        assert 1 <= event.payload.dose_number <= upper
    for message in eu_messages(events, config=CONFIG, now=NOW):
        entry = message.dcc["v"][0]
        assert 1 <= entry["dn"] <= 9 and 1 <= entry["sd"] <= 9


@PROPERTY_SETTINGS
@given(value=st.uuids())
def test_any_generated_uci_validates(value):
    uci = generate_uci(lambda: value)
    assert len(uci) == 38 and uci_is_valid(uci)


@PROPERTY_SETTINGS
@given(events=any_events(), override_tc=st.sampled_from(["", "T" * 100]))
def test_every_dcc_built_validates_against_the_schema(events, override_tc):
    config = seed_rule_config(eu_international_override_tc=override_tc)
    for message in eu_messages(events, config=config, now=NOW):
        DCC_VALIDATOR.validate(message.dcc)
        assert uci_is_valid(message.uci)


def test_one_event_of_each_kind_gives_four_dccs():
    # a deterministic anchor for the generators above
    events = [
        vaccination_event(date=date(2021, 6, 1)),
        negative_test_event(),
        positive_test_event(),
        recovery_event(),
    ]
    assert len(eu_messages(events, config=CONFIG, now=NOW)) == 4
