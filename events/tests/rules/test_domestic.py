"""Tests of events/rules/domestic.py (rules-domestic.md §3–§7)."""

from datetime import UTC, date, datetime, timedelta, timezone

from events.rules.config import credential_amount
from events.rules.domestic import (
    contiguous_blocks,
    create_strips,
    domestic_issuance,
    domestic_origins,
    domestic_print_attributes,
    strike,
)
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
NOW_H = datetime(2021, 7, 1, 12, 0, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))
JANSSEN = "2934701"


def no_overlap(low, high):
    return low


def max_overlap(low, high):
    return high


def ts(value: datetime) -> str:
    return str(int(value.timestamp()))


def complete_vaccination(**kwargs):
    return vaccination_event(hpk_code=JANSSEN, **kwargs)


# --- §3 origins ----------------------------------------------------------------------------------


def test_vaccination_origin():
    [origin] = domestic_origins([complete_vaccination(date=date(2021, 6, 1))], config=CONFIG, now=NOW)
    start = datetime(2021, 6, 1, tzinfo=UTC)
    assert (origin.type, origin.event_time, origin.valid_from, origin.expiration_time) == (
        "vaccination",
        start,
        start,
        start + timedelta(days=1461),
    )


def test_incomplete_vaccination_is_never_a_domestic_origin():
    events = [vaccination_event(dose_number=1, total_doses=2)]
    assert domestic_origins(events, config=CONFIG, now=NOW) == []
    assert domestic_issuance(events, config=CONFIG, now=NOW, randint=no_overlap) is None


def test_negative_test_origin_is_floored_in_its_own_offset():
    sample = datetime(2021, 7, 1, 9, 47, 12, tzinfo=CEST)
    [origin] = domestic_origins([negative_test_event(sample_date=sample)], config=CONFIG, now=NOW)
    floored = datetime(2021, 7, 1, 9, 0, tzinfo=CEST)
    assert (origin.type, origin.event_time, origin.valid_from) == ("test", floored, floored)
    assert origin.expiration_time == floored + timedelta(hours=40)
    assert origin.render()["eventTime"] == "2021-07-01T09:00:00+02:00"


def test_positive_test_origin_is_a_recovery_after_eleven_days():
    sample = datetime(2021, 6, 20, 10, 15, tzinfo=UTC)
    [origin] = domestic_origins([positive_test_event(sample_date=sample)], config=CONFIG, now=NOW)
    floored = datetime(2021, 6, 20, 10, 0, tzinfo=UTC)
    assert (origin.type, origin.event_time, origin.valid_from, origin.expiration_time) == (
        "recovery",
        floored,
        floored + timedelta(days=11),
        floored + timedelta(days=191),
    )


def test_recovery_origin():
    event = recovery_event(sample_date=date(2021, 6, 20), valid_from=date(2021, 7, 1), valid_until=date(2021, 12, 17))
    [origin] = domestic_origins([event], config=CONFIG, now=NOW)
    assert origin.render() == {
        "type": "recovery",
        "eventTime": "2021-06-20T00:00:00+00:00",
        "expirationTime": "2021-12-17T00:00:00+00:00",
        "validFrom": "2021-07-01T00:00:00+00:00",
    }


def test_vaccination_with_positive_test_gives_vaccination_origin_v120():
    events = [vaccination_event(dose_number=1, total_doses=2), positive_test_event()]
    origins = domestic_origins(events, config=CONFIG, now=NOW)
    assert sorted(origin.type for origin in origins) == ["recovery", "vaccination"]


def test_expired_origins_are_dropped():
    expired = recovery_event(sample_date=date(2020, 1, 1), valid_from=date(2020, 1, 12), valid_until=date(2020, 6, 1))
    assert domestic_issuance([expired], config=CONFIG, now=NOW, randint=no_overlap) is None
    origins = domestic_origins([expired, complete_vaccination()], config=CONFIG, now=NOW)
    assert [origin.type for origin in origins] == ["vaccination"]


def test_origin_expiring_exactly_now_is_dropped():
    sample = NOW - timedelta(hours=40)  # floored to 12:00 → expires 12:00 today, before now 12:30
    assert domestic_origins([negative_test_event(sample_date=sample)], config=CONFIG, now=NOW) == []
    exact_now = datetime(2021, 7, 1, 12, 0, tzinfo=UTC)
    sample = exact_now - timedelta(hours=40)
    assert domestic_origins([negative_test_event(sample_date=sample)], config=CONFIG, now=exact_now) == []


def test_origins_sorted_by_valid_from_with_creation_order_for_ties():
    day = date(2021, 6, 1)
    events = [
        negative_test_event(sample_date=NOW - timedelta(hours=1)),
        recovery_event(sample_date=date(2021, 5, 20), valid_from=day, valid_until=date(2021, 11, 1)),
        complete_vaccination(date=day),
    ]
    origins = domestic_origins(events, config=CONFIG, now=NOW)
    assert [origin.type for origin in origins] == ["vaccination", "recovery", "test"]


def test_future_origin_beyond_the_horizon_is_listed_without_strips():
    future = positive_test_event(sample_date=NOW + timedelta(days=30))
    assert domestic_issuance([future], config=CONFIG, now=NOW, randint=no_overlap) is None
    result = domestic_issuance([future, negative_test_event()], config=CONFIG, now=NOW, randint=no_overlap)
    assert [origin.type for origin in result.origins] == ["test", "recovery"]


def test_signer_disabled_gives_none():
    config = seed_rule_config(domestic_nl_dynamic_signer_enabled=False)
    assert domestic_issuance([complete_vaccination()], config=config, now=NOW, randint=no_overlap) is None


def test_domestic_issuance_does_not_modify_its_input():
    event = vaccination_event(hpk_code=JANSSEN)
    domestic_issuance([event], config=CONFIG, now=NOW, randint=no_overlap)
    assert (event.payload.dose_number, event.payload.total_doses, event.payload.brand) == (None, None, None)


# --- §4 contiguous blocks ------------------------------------------------------------------------


def origin(start_hour: int, end_hour: int, *, specimen=False, person=None) -> Origin:
    start = NOW_H + timedelta(hours=start_hour)
    return Origin("test", start, start, NOW_H + timedelta(hours=end_hour), is_specimen=specimen, holder=person or holder())


def test_touching_origins_form_one_block():
    blocks = contiguous_blocks([origin(0, 10), origin(10, 20), origin(5, 15)])
    assert len(blocks) == 1
    assert (blocks[0].valid_from, blocks[0].expiration_time) == (NOW_H, NOW_H + timedelta(hours=20))


def test_gap_opens_a_new_block():
    blocks = contiguous_blocks([origin(0, 10), origin(11, 20)])
    assert [len(block.origins) for block in blocks] == [1, 1]


# --- §5 strips -----------------------------------------------------------------------------------


def test_negative_test_strips_without_overlap():
    sample = datetime(2021, 7, 1, 10, 5, tzinfo=UTC)
    result = domestic_issuance([negative_test_event(sample_date=sample)], config=CONFIG, now=NOW, randint=no_overlap)
    expiry = datetime(2021, 7, 3, 2, 0, tzinfo=UTC)
    assert [strip["validFrom"] for strip in result.strips] == [ts(NOW_H), ts(expiry - timedelta(hours=24))]
    assert all(strip["validForHours"] == "24" and strip["isPaperProof"] == "0" for strip in result.strips)


def test_strips_stop_at_the_issuance_horizon():
    result = domestic_issuance([complete_vaccination()], config=CONFIG, now=NOW, randint=no_overlap)
    assert len(result.strips) == 27
    assert result.strips[0]["validFrom"] == ts(NOW_H)
    assert result.strips[-1]["validFrom"] == ts(NOW_H + timedelta(days=26))


def test_maximal_overlap_stays_within_credential_amount():
    result = domestic_issuance([complete_vaccination()], config=CONFIG, now=NOW, randint=max_overlap)
    assert len(result.strips) == 33 <= credential_amount(CONFIG)
    assert result.strips[0]["validFrom"] == ts(NOW_H - timedelta(hours=4))


def test_overlap_is_drawn_from_zero_to_the_configured_maximum():
    calls = []

    def recording(low, high):
        calls.append((low, high))
        return 2

    domestic_issuance([negative_test_event()], config=CONFIG, now=NOW, randint=recording)
    assert calls and set(calls) == {(0, 4)}


def test_strips_take_specimen_and_holder_from_the_first_origin_of_the_block():
    first = origin(0, 30, specimen=True, person=holder(first_name="Anna", last_name="Bakker", birth_day=3, birth_month=4))
    second = origin(20, 60, person=holder(first_name="Zoe", last_name="Zwart"))
    strips = create_strips(contiguous_blocks([first, second]), config=CONFIG, now=NOW, randint=no_overlap)
    assert {strip["isSpecimen"] for strip in strips} == {"1"}
    assert {(s["firstNameInitial"], s["lastNameInitial"], s["birthDay"], s["birthMonth"]) for s in strips} == {
        ("A", "B", "3", "4")
    }


def test_specimen_vaccination_gives_specimen_strips():
    result = domestic_issuance([complete_vaccination(is_specimen=True)], config=CONFIG, now=NOW, randint=no_overlap)
    assert {strip["isSpecimen"] for strip in result.strips} == {"1"}


# --- §6 strike -----------------------------------------------------------------------------------


def strip_for(first: str, last: str) -> dict[str, str]:
    return {
        "isSpecimen": "0",
        "isPaperProof": "0",
        "validFrom": "0",
        "validForHours": "24",
        "firstNameInitial": first,
        "lastNameInitial": last,
        "birthDay": "3",
        "birthMonth": "4",
    }


def test_strike_keeps_only_the_allowlisted_letters():
    assert strike(strip_for("B", "B"), CONFIG.partial_disclosure) == {
        **strip_for("B", "B"),
        "lastNameInitial": "",
        "birthDay": "",
    }  # BB,VM
    assert strike(strip_for("J", "D"), CONFIG.partial_disclosure) == {
        **strip_for("J", "D"),
        "firstNameInitial": "",
        "birthMonth": "",
    }  # JD,FD


def test_strike_blanks_everything_for_ux_and_missing_initials():
    blank = {"firstNameInitial": "", "lastNameInitial": "", "birthDay": "", "birthMonth": ""}
    assert strike(strip_for("U", "X"), CONFIG.partial_disclosure) == {**strip_for("U", "X"), **blank}
    assert strike(strip_for("", "B"), CONFIG.partial_disclosure) == {**strip_for("", "B"), **blank}


def test_app_strips_are_struck():
    person = holder(first_name="Bram", last_name="Bos", birth_day=3, birth_month=4)
    result = domestic_issuance([complete_vaccination(holder=person)], config=CONFIG, now=NOW, randint=no_overlap)
    assert {(s["firstNameInitial"], s["lastNameInitial"], s["birthDay"], s["birthMonth"]) for s in result.strips} == {
        ("B", "", "", "4")
    }


# --- §7 print variant ----------------------------------------------------------------------------


def test_print_vaccination():
    person = holder(first_name="Bram", last_name="Bos", birth_day=3, birth_month=4)
    attributes = domestic_print_attributes([complete_vaccination(date=date(2021, 6, 1), holder=person)], config=CONFIG, now=NOW)
    assert attributes == {
        "isSpecimen": "0",
        "isPaperProof": "1",
        "validFrom": ts(datetime(2021, 6, 1, tzinfo=UTC)),
        "validForHours": "2016",
        "firstNameInitial": "B",
        "lastNameInitial": "B",
        "birthDay": "3",
        "birthMonth": "4",
    }


def test_print_negative_test_uses_exact_sample_time():
    sample = datetime(2021, 7, 1, 9, 47, 12, tzinfo=CEST)
    attributes = domestic_print_attributes([negative_test_event(sample_date=sample)], config=CONFIG, now=NOW)
    assert (attributes["validFrom"], attributes["validForHours"]) == (ts(sample), "40")


def test_print_positive_test_starts_with_the_app_origin_decision_i():
    sample = datetime(2021, 6, 20, 10, 15, tzinfo=UTC)
    attributes = domestic_print_attributes([positive_test_event(sample_date=sample)], config=CONFIG, now=NOW)
    start = datetime(2021, 7, 1, 10, 0, tzinfo=UTC)
    assert (attributes["validFrom"], attributes["validForHours"]) == (ts(start), str(24 * 180))


def test_print_recovery_ignores_valid_until():
    event = recovery_event(valid_from=date(2021, 7, 1), valid_until=date(2021, 7, 2))
    attributes = domestic_print_attributes([event], config=CONFIG, now=NOW)
    assert (attributes["validFrom"], attributes["validForHours"]) == (ts(datetime(2021, 7, 1, tzinfo=UTC)), "2016")


def test_print_prefers_the_last_event():
    events = [complete_vaccination(), positive_test_event(), negative_test_event(), recovery_event()]
    attributes = domestic_print_attributes(events, config=CONFIG, now=NOW)
    assert attributes["validForHours"] == "2016" and attributes["validFrom"] == ts(datetime(2021, 7, 1, tzinfo=UTC))
    events = [complete_vaccination(), positive_test_event(), negative_test_event()]
    assert domestic_print_attributes(events, config=CONFIG, now=NOW)["validForHours"] == "40"


def test_print_incomplete_vaccination_gives_none():
    assert domestic_print_attributes([vaccination_event(dose_number=1, total_doses=2)], config=CONFIG, now=NOW) is None


def test_print_disabled_or_empty_gives_none():
    config = seed_rule_config(domestic_nl_print_signer_enabled=False)
    assert domestic_print_attributes([complete_vaccination()], config=config, now=NOW) is None
    assert domestic_print_attributes([], config=CONFIG, now=NOW) is None


def test_print_is_not_struck_and_keeps_specimen():
    person = holder(first_name="Ursula", last_name="Xander")
    attributes = domestic_print_attributes([complete_vaccination(holder=person, is_specimen=True)], config=CONFIG, now=NOW)
    assert (attributes["firstNameInitial"], attributes["lastNameInitial"], attributes["isSpecimen"]) == ("U", "X", "1")
