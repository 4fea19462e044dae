"""Tests of events/rules/pipeline.py (rules-domestic.md §1–§2, events.md §11–§12)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from events.rules import pipeline
from events.rules.pipeline import (
    apply_completion_statements,
    deduplicate,
    distill,
    enrich_from_hpk,
    evaluate_cross_type_events,
    event_time,
    filter_redundant_events,
    relevant_vaccination,
    remove_ineligible_events,
    set_missing_doses,
    valid_from_time,
)
from events.seed import seed_rule_config
from events.tests.factories import (
    negative_test_event,
    positive_test_event,
    recovery_event,
    vaccination_event,
)

CONFIG = seed_rule_config()
NOW = datetime(2021, 7, 1, 12, 30, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))
PFIZER, MODERNA, ASTRAZENECA, JANSSEN = "2924528", "2924536", "2925508", "2934701"


def doses(event):
    return (event.payload.dose_number, event.payload.total_doses)


# --- event time helpers (events.md §11) ----------------------------------------------------------


def test_event_time_of_a_date_is_midnight_utc():
    assert event_time(vaccination_event(date=date(2021, 6, 1))) == datetime(2021, 6, 1, tzinfo=UTC)


def test_event_time_of_a_datetime_keeps_its_offset():
    sample = datetime(2021, 6, 1, 10, 15, tzinfo=CEST)
    assert event_time(negative_test_event(sample_date=sample)).utcoffset() == timedelta(hours=2)


def test_valid_from_time_of_a_recovery_is_its_valid_from():
    event = recovery_event(sample_date=date(2021, 6, 1), valid_from=date(2021, 6, 12))
    assert (event_time(event), valid_from_time(event)) == (
        datetime(2021, 6, 1, tzinfo=UTC),
        datetime(2021, 6, 12, tzinfo=UTC),
    )


def test_today_for_dates_is_amsterdam_and_for_datetimes_the_own_offset():
    late_evening_utc = datetime(2021, 6, 30, 22, 30, tzinfo=UTC)
    assert pipeline.today_for_date(late_evening_utc) == date(2021, 7, 1)
    assert pipeline.today_for_datetime(late_evening_utc, datetime(2021, 1, 1, tzinfo=UTC)) == date(2021, 6, 30)
    assert pipeline.today_for_datetime(late_evening_utc, datetime(2021, 1, 1, tzinfo=CEST)) == date(2021, 7, 1)


# --- step 1: eligibility -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "eligible"),
    [
        (vaccination_event(hpk_code=PFIZER), True),
        (vaccination_event(hpk_code=None, manufacturer="ORG-100030215"), True),
        (vaccination_event(hpk_code=None, brand="EU/1/20/1528"), True),
        (vaccination_event(hpk_code="1234567", type="1119349007"), False),
        (vaccination_event(hpk_code=None), False),
        (negative_test_event(type="LP217198-3"), True),
        (negative_test_event(type="NL:BREATH"), True),
        (negative_test_event(negative_result=False), False),
        (negative_test_event(type="unknown"), False),
        (positive_test_event(type="LP6464-4"), True),
        (positive_test_event(positive_result=False), False),
        (positive_test_event(type="antigen"), False),
        (recovery_event(), True),
    ],
)
def test_eligibility(event, eligible):
    assert remove_ineligible_events([event], CONFIG) == ([event] if eligible else [])


# --- step 2: HPK enrichment ----------------------------------------------------------------------


def test_hpk_enrichment_overwrites_provider_values():
    event = vaccination_event(hpk_code=JANSSEN, type="x", brand="y", manufacturer="z")
    enrich_from_hpk([event], CONFIG)
    assert (event.payload.type, event.payload.brand, event.payload.manufacturer) == (
        "J07BX03",
        "EU/1/20/1525",
        "ORG-100001417",
    )


def test_unknown_hpk_code_is_left_alone():
    event = vaccination_event(hpk_code="9999999", brand="EU/1/20/1528")
    enrich_from_hpk([event], CONFIG)
    assert (event.payload.hpk_code, event.payload.brand, event.payload.type) == ("9999999", "EU/1/20/1528", None)


# --- step 3: missing doses -----------------------------------------------------------------------


def test_missing_doses_come_from_the_brand():
    event = vaccination_event(hpk_code=None, brand="EU/1/20/1525")
    assert doses(set_missing_doses([event], CONFIG)[0]) == (1, 1)


def test_missing_total_doses_come_from_the_hpk_code_when_brand_is_empty():
    event = vaccination_event(hpk_code=ASTRAZENECA, brand=None)
    assert doses(set_missing_doses([event], CONFIG)[0]) == (1, 2)


def test_no_brand_leaves_total_doses_missing():
    event = vaccination_event(hpk_code=None, manufacturer="ORG-100030215", total_doses=0)
    assert doses(set_missing_doses([event], CONFIG)[0]) == (1, 0)


def test_brand_without_dose_count_is_dropped():
    event = vaccination_event(hpk_code=None, manufacturer="ORG-100030215", brand="EU/1/99/9999")
    assert set_missing_doses([event, recovery_event()], CONFIG)[0].type == "recovery"
    assert len(set_missing_doses([event], CONFIG)) == 0


def test_explicit_total_doses_is_never_replaced():
    event = vaccination_event(hpk_code=JANSSEN, dose_number=1, total_doses=2)
    assert distill([event], config=CONFIG, now=NOW)[0].payload.total_doses == 2


# --- step 4: completion statements ---------------------------------------------------------------


@pytest.mark.parametrize("statement", ["completed_by_medical_statement", "completed_by_personal_statement"])
def test_completion_statement_makes_one_of_one(statement):
    event = vaccination_event(dose_number=1, total_doses=2, **{statement: True})
    assert doses(apply_completion_statements([event])[0]) == (1, 1)


# --- step 5: deduplication (events.md §12) -------------------------------------------------------


def test_duplicate_vaccinations_within_margin_are_merged():
    first = vaccination_event(date=date(2021, 6, 3), provider="GGD", dose_number=1, total_doses=2)
    second = vaccination_event(date=date(2021, 6, 1), provider="RIVM", dose_number=2, total_doses=2, country="BE")
    result = deduplicate(enrich_from_hpk([first, second], CONFIG), CONFIG)
    assert len(result) == 1
    merged = result[0].payload
    assert (merged.date, merged.dose_number, merged.total_doses, merged.country) == (date(2021, 6, 1), 2, 2, "BE")


def test_vaccinations_three_days_apart_are_not_merged():
    events = [vaccination_event(date=date(2021, 6, 1)), vaccination_event(date=date(2021, 6, 4))]
    assert len(deduplicate(events, CONFIG)) == 2


def test_vaccinations_of_different_brands_are_not_merged():
    events = enrich_from_hpk([vaccination_event(hpk_code=PFIZER), vaccination_event(hpk_code=MODERNA)], CONFIG)
    assert len(deduplicate(events, CONFIG)) == 2


def test_merge_defaults_total_doses_to_at_most_two():
    events = [vaccination_event(total_doses=None, dose_number=None), vaccination_event(total_doses=3)]
    assert doses(deduplicate(events, CONFIG)[0]) == (1, 2)


def test_dedup_margin_two_days_twenty_three_hours_is_within():
    early = negative_test_event(sample_date=datetime(2021, 6, 1, 0, 0, tzinfo=UTC))
    late = negative_test_event(sample_date=datetime(2021, 6, 3, 23, 0, tzinfo=UTC))
    result = deduplicate([late, early], CONFIG)
    assert [event.payload.sample_date for event in result] == [datetime(2021, 6, 1, tzinfo=UTC)]


def test_dedup_margin_three_days_is_outside():
    early = negative_test_event(sample_date=datetime(2021, 6, 1, 0, 0, tzinfo=UTC))
    late = negative_test_event(sample_date=datetime(2021, 6, 4, 0, 0, tzinfo=UTC))
    assert len(deduplicate([early, late], CONFIG)) == 2


def test_tests_with_different_facility_are_not_merged():
    events = [negative_test_event(facility="A"), negative_test_event(facility="B")]
    assert len(deduplicate(events, CONFIG)) == 2


def test_exactly_equal_events_are_dropped():
    event = positive_test_event(unique="same")
    twin = positive_test_event(unique="same")
    assert deduplicate([event, twin], CONFIG) == [event]


def test_new_event_is_merged_into_every_identical_kept_event():
    # a and c differ in `type` (both kept); b has no type, so it is identical to both and merges into both.
    a = vaccination_event(date=date(2021, 6, 1), hpk_code=None, brand="EU/1/20/1528", type="T1", total_doses=2)
    c = vaccination_event(date=date(2021, 6, 2), hpk_code=None, brand="EU/1/20/1528", type="T2", total_doses=2)
    b = vaccination_event(date=date(2021, 6, 3), hpk_code=None, brand="EU/1/20/1528", dose_number=2, total_doses=2)
    result = deduplicate([b, c, a], CONFIG)
    assert [(event.payload.type, event.payload.dose_number) for event in result] == [("T1", 2), ("T2", 2)]


def test_recoveries_merge_to_earliest_dates():
    a = recovery_event(sample_date=date(2021, 6, 2))
    b = recovery_event(sample_date=date(2021, 6, 1))
    result = deduplicate([a, b], CONFIG)
    assert [event.payload.sample_date for event in result] == [date(2021, 6, 1)]


def test_deduplication_output_order():
    events = [recovery_event(), positive_test_event(), negative_test_event(), vaccination_event()]
    assert [event.type for event in deduplicate(events, CONFIG)] == [
        "vaccination",
        "negativetest",
        "positivetest",
        "recovery",
    ]


# --- step 6: redundancy filter -------------------------------------------------------------------


def test_future_vaccination_is_dropped():
    events = [vaccination_event(date=date(2021, 7, 2), dose_number=1, total_doses=1)]
    assert filter_redundant_events(events, CONFIG, NOW) == []


def test_vaccination_dated_today_in_amsterdam_is_kept():
    late_evening_utc = datetime(2021, 6, 30, 22, 30, tzinfo=UTC)
    events = [vaccination_event(date=date(2021, 7, 1), dose_number=1, total_doses=1)]
    assert len(filter_redundant_events(events, CONFIG, late_evening_utc)) == 1


def test_negative_test_later_today_is_kept_and_tomorrow_dropped():
    later_today = negative_test_event(sample_date=datetime(2021, 7, 1, 23, 0, tzinfo=UTC))
    tomorrow = negative_test_event(sample_date=datetime(2021, 7, 2, 0, 30, tzinfo=UTC))
    assert filter_redundant_events([later_today], CONFIG, NOW) == [later_today]
    assert filter_redundant_events([tomorrow], CONFIG, NOW) == []


def test_negative_test_today_in_its_own_offset_is_kept():
    # 00:30 +02:00 on 1 July while now is 22:45 UTC on 30 June: 1 July in the sample's offset.
    now = datetime(2021, 6, 30, 22, 45, tzinfo=UTC)
    event = negative_test_event(sample_date=datetime(2021, 7, 1, 0, 30, tzinfo=CEST))
    assert filter_redundant_events([event], CONFIG, now) == [event]


def test_negative_test_age_limit():
    limit = NOW - timedelta(hours=40)
    at_limit = negative_test_event(sample_date=limit)
    too_old = negative_test_event(sample_date=limit - timedelta(seconds=1))
    assert filter_redundant_events([at_limit], CONFIG, NOW) == [at_limit]
    assert filter_redundant_events([too_old], CONFIG, NOW) == []


def test_only_the_most_recent_negative_test_is_kept():
    old = negative_test_event(sample_date=NOW - timedelta(hours=20))
    new = negative_test_event(sample_date=NOW - timedelta(hours=2))
    assert filter_redundant_events([new, old], CONFIG, NOW) == [new]


def test_future_positive_test_is_allowed_and_most_recent_wins():
    old = positive_test_event(sample_date=datetime(2021, 5, 1, tzinfo=UTC))
    future = positive_test_event(sample_date=datetime(2021, 8, 1, tzinfo=UTC))
    assert filter_redundant_events([future, old], CONFIG, NOW) == [future]


def test_recovery_with_latest_sample_date_wins():
    old = recovery_event(sample_date=date(2021, 5, 1))
    new = recovery_event(sample_date=date(2021, 9, 1))
    assert filter_redundant_events([new, old], CONFIG, NOW) == [new]


def test_redundancy_filter_output_order():
    events = [
        recovery_event(),
        negative_test_event(),
        positive_test_event(),
        vaccination_event(dose_number=1, total_doses=1),
    ]
    assert [event.type for event in filter_redundant_events(events, CONFIG, NOW)] == [
        "vaccination",
        "positivetest",
        "negativetest",
        "recovery",
    ]


# --- §2 relevant vaccination ---------------------------------------------------------------------


def vaccination(day, *, dose_number=1, total_doses=2, brand="EU/1/20/1528", manufacturer="ORG-100030215"):
    return vaccination_event(
        date=date(2021, 5, day),
        hpk_code=None,
        brand=brand,
        manufacturer=manufacturer,
        dose_number=dose_number,
        total_doses=total_doses,
    )


def test_single_vaccination_is_returned_unchanged():
    event = vaccination(1, total_doses=None)
    assert relevant_vaccination([event]) == [event]
    assert doses(event) == (1, None)


def test_most_recent_completed_by_doses_wins():
    complete_early, complete_late, partial = vaccination(1, dose_number=2), vaccination(10, dose_number=2), vaccination(20)
    assert relevant_vaccination([complete_early, complete_late, partial]) == [complete_late]


def test_completion_across_brands_two_of_two():
    pfizer, moderna = vaccination(1), vaccination(20, brand="EU/1/20/1507", manufacturer="ORG-100031184")
    result = relevant_vaccination([pfizer, moderna])
    assert result == [moderna] and doses(moderna) == (2, 2)


def test_completion_across_brands_three_of_two():
    events = [vaccination(1), vaccination(10, brand="EU/1/20/1507"), vaccination(20, brand="EU/1/21/1529")]
    result = relevant_vaccination(events)
    assert result == [events[2]] and doses(events[2]) == (3, 2)


def test_across_brands_equal_dates_first_group_wins():
    first, group_two, group_zero = vaccination(1), vaccination(10), vaccination(10, total_doses=None, brand=None)
    result = relevant_vaccination([first, group_zero, group_two])
    # equal dates: group 2 appeared before group 0, so its pick wins
    assert result == [group_two]


def test_group_zero_quirk_null_replaces_and_still_displaces_a_complete_series():
    first, second = vaccination(1), vaccination(10)
    brandless_a = vaccination(5, total_doses=None, brand=None)
    brandless_b = vaccination(20, total_doses=None, brand=None)
    result = relevant_vaccination([first, brandless_a, second, brandless_b])
    assert result == [brandless_b]
    assert doses(brandless_b) == (1, None)  # replaced: group size 1, not 2


def test_group_zero_quirk_zero_joins():
    a, b = vaccination(1, total_doses=0, brand=None), vaccination(10, total_doses=0, brand=None)
    assert relevant_vaccination([a, b]) == [b] and doses(b) == (2, 0)


def test_no_completion_returns_most_recent_unchanged():
    a, b = vaccination(1, total_doses=3), vaccination(10, total_doses=4)
    assert relevant_vaccination([a, b]) == [b] and doses(b) == (1, 4)


def test_pipeline_completes_across_brands_with_the_later_brand():
    pfizer = vaccination_event(date=date(2021, 5, 1), hpk_code=PFIZER, dose_number=1, total_doses=2)
    moderna = vaccination_event(date=date(2021, 6, 1), hpk_code=MODERNA, dose_number=1, total_doses=2)
    [result] = distill([pfizer, moderna], config=CONFIG, now=NOW)
    assert (result.payload.brand, *doses(result)) == ("EU/1/20/1507", 2, 2)


def test_janssen_single_dose_is_complete():
    [result] = distill([vaccination_event(hpk_code=JANSSEN)], config=CONFIG, now=NOW)
    assert doses(result) == (1, 1)


# --- step 7: cross-type rule ---------------------------------------------------------------------


def test_vaccination_and_positive_test_make_one_of_one():
    events = [vaccination_event(dose_number=1, total_doses=2), positive_test_event()]
    result = distill(events, config=CONFIG, now=NOW)
    assert [event.type for event in result] == ["vaccination", "positivetest"]
    assert doses(result[0]) == (1, 1)


def test_cross_type_rule_keeps_only_the_latest_vaccination():
    a, b, test = vaccination(1), vaccination(20), positive_test_event()
    result = evaluate_cross_type_events([a, b, test])
    assert result == [b, test] and doses(b) == (1, 1)


def test_recovery_does_not_trigger_cross_type_rule():
    events = [vaccination_event(dose_number=1, total_doses=2), recovery_event()]
    result = distill(events, config=CONFIG, now=NOW)
    assert doses(result[0]) == (1, 2)


# --- the whole pipeline --------------------------------------------------------------------------


def test_distill_does_not_modify_its_input():
    event = vaccination_event(hpk_code=PFIZER)
    distill([event], config=CONFIG, now=NOW)
    assert (event.payload.brand, event.payload.dose_number) == (None, None)


def test_distill_output_has_at_most_one_event_per_kind_in_pipeline_order():
    events = [
        recovery_event(sample_date=date(2021, 5, 1)),
        recovery_event(sample_date=date(2021, 6, 1)),
        negative_test_event(),
        positive_test_event(),
        vaccination_event(date=date(2021, 5, 1)),
        vaccination_event(date=date(2021, 6, 1)),
    ]
    result = distill(events, config=CONFIG, now=NOW)
    assert [event.type for event in result] == ["vaccination", "positivetest", "negativetest", "recovery"]
