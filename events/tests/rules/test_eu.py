"""Tests of events/rules/eu.py (rules-eu.md §2–§8)."""

import logging
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from events.dccschema import DCC_VALIDATOR
from events.rules.eu import (
    SPECIMEN_EXPIRATION_TIME,
    DccNotBuildable,
    check_dcc_schema,
    eu_messages,
    eu_pre_filter,
    eu_print_message,
)
from events.rules.uci import uci_is_valid
from events.seed import seed_rule_config
from events.tests.factories import (
    holder,
    negative_test_event,
    positive_test_event,
    recovery_event,
    vaccination_event,
)

CONFIG = seed_rule_config()
NOW = datetime(2021, 7, 1, 12, 30, 15, 123456, tzinfo=UTC)
EXPIRATION = "2021-07-29T12:30:15+00:00"
CEST = timezone(timedelta(hours=2))
FIXED_UUID = uuid.UUID("00000000-0000-4000-8000-000000000000")
FIXED_UCI = "URN:UCI:01:NL:AAAAAAAAABAABAAAAAAA42#B"
PERSON = holder(first_name="Bob", infix="de", last_name="Bouwer", birth_year=1960, birth_month=1, birth_day=15)


def messages(events, config=CONFIG, now=NOW):
    return eu_messages(events, config=config, now=now, new_uuid=lambda: FIXED_UUID)


def only(events, config=CONFIG, now=NOW):
    [message] = messages(events, config=config, now=now)
    return message


def entry(message):
    for group in ("v", "t", "r"):
        if group in message.dcc:
            return message.dcc[group][0]
    raise AssertionError("no entry")


# --- §4 DCC construction -------------------------------------------------------------------------


def test_vaccination_dcc():
    message = only([vaccination_event(hpk_code="2924528", date=date(2021, 6, 1), dose_number=2, holder=PERSON)])
    assert message.dcc == {
        "ver": "1.3.0",
        "nam": {"fn": "de Bouwer", "fnt": "DE<BOUWER", "gn": "Bob", "gnt": "BOB"},
        "dob": "1960-01-15",
        "v": [
            {
                "tg": "840539006",
                "vp": "1119349007",
                "mp": "EU/1/20/1528",
                "ma": "ORG-100030215",
                "dn": 2,
                "sd": 2,
                "dt": "2021-06-01",
                "co": "NL",
                "is": "Ministry of Health Welfare and Sport",
                "ci": FIXED_UCI,
            }
        ],
    }
    assert message.key_usage == "vaccination" and message.uci == FIXED_UCI
    DCC_VALIDATOR.validate(message.dcc)


@pytest.mark.parametrize(
    ("hpk_code", "vp", "mp", "ma"),
    [
        ("2924528", "1119349007", "EU/1/20/1528", "ORG-100030215"),
        ("2924536", "1119349007", "EU/1/20/1507", "ORG-100031184"),
        ("2925508", "J07BX03", "EU/1/21/1529", "ORG-100001699"),
        ("2934701", "J07BX03", "EU/1/20/1525", "ORG-100001417"),
    ],
)
def test_hpk_value_set_mapping(hpk_code, vp, mp, ma):
    vaccination = entry(only([vaccination_event(hpk_code=hpk_code, type="x", brand="y", manufacturer="z")]))
    assert (vaccination["vp"], vaccination["mp"], vaccination["ma"]) == (vp, mp, ma)


def test_provider_values_without_hpk_code():
    event = vaccination_event(hpk_code=None, type="J07BX03", brand="EU/1/20/1525", manufacturer="ORG-100001417")
    vaccination = entry(only([event]))
    assert (vaccination["vp"], vaccination["mp"], vaccination["ma"], vaccination["dn"], vaccination["sd"]) == (
        "J07BX03",
        "EU/1/20/1525",
        "ORG-100001417",
        1,
        1,
    )


def test_incomplete_vaccination_gives_a_partial_dcc():
    vaccination = entry(only([vaccination_event(dose_number=1, total_doses=2)]))
    assert (vaccination["dn"], vaccination["sd"]) == (1, 2)


def test_completion_across_brands_for_eu():
    events = [
        vaccination_event(hpk_code="2924528", date=date(2021, 5, 1), dose_number=1, total_doses=2),
        vaccination_event(hpk_code="2924536", date=date(2021, 6, 1), dose_number=1, total_doses=2),
        vaccination_event(hpk_code="2924528", date=date(2021, 6, 20), dose_number=1, total_doses=2),
    ]
    vaccination = entry(only(events))
    assert (vaccination["mp"], vaccination["dn"], vaccination["sd"]) == ("EU/1/20/1528", 3, 2)


def test_vaccination_without_product_is_skipped_without_personal_data(caplog):
    event = vaccination_event(hpk_code=None, manufacturer="ORG-100030215", holder=holder(first_name="Geheim"))
    with caplog.at_level(logging.WARNING, logger="events.rules.eu"):
        assert messages([event]) == []
    assert "yields no certificate" in caplog.text
    assert "Geheim" not in caplog.text and "1960" not in caplog.text


def test_dose_numbers_outside_one_to_nine_are_skipped():
    assert messages([vaccination_event(dose_number=10, total_doses=10)]) == []


def test_negative_test_dcc():
    sample = datetime(2021, 7, 1, 9, 47, 12, tzinfo=CEST)
    event = negative_test_event(sample_date=sample, name="", manufacturer="", facility="Test centre")
    message = only([event])
    assert message.key_usage == "test"
    assert entry(message) == {
        "tg": "840539006",
        "tt": "LP217198-3",
        "nm": "",
        "ma": "",
        "sc": "2021-07-01T09:47:12+02:00",
        "tr": "260415000",
        "tc": "Test centre",
        "co": "NL",
        "is": "Ministry of Health Welfare and Sport",
        "ci": FIXED_UCI,
    }
    DCC_VALIDATOR.validate(message.dcc)


def test_test_centre_override_and_truncation():
    event = negative_test_event(name="N" * 100, facility="F" * 100)
    assert (entry(only([event]))["nm"], entry(only([event]))["tc"]) == ("N" * 80, "F" * 80)
    config = seed_rule_config(eu_international_override_tc="Facility approved by the State of the Netherlands")
    assert entry(only([event], config=config))["tc"] == "Facility approved by the State of the Netherlands"


def test_names_are_truncated_after_normalisation():
    person = holder(first_name="Ä" * 50, infix=None, last_name="Ø" * 90)
    names = only([vaccination_event(holder=person)]).dcc["nam"]
    assert names == {"fn": "Ø" * 80, "fnt": "OE" * 40, "gn": "Ä" * 50, "gnt": "AE" * 40}


def test_partial_birth_date_gives_year_only():
    message = only([vaccination_event(holder=holder(birth_year=1980, birth_month=1, birth_day=None))])
    assert message.dcc["dob"] == "1980"
    DCC_VALIDATOR.validate(message.dcc)


@pytest.mark.parametrize("year", [1899, 2100])
def test_birth_year_outside_range_gives_no_dcc(year):
    events = [vaccination_event(holder=holder(birth_year=year)), recovery_event(holder=holder(birth_year=year))]
    assert messages(events) == []


def test_country_none_becomes_nl():
    assert entry(only([vaccination_event(country=None)]))["co"] == "NL"
    assert entry(only([negative_test_event(country="BE")]))["co"] == "BE"


# --- recoveries (§4 du/df, decision t) -----------------------------------------------------------


def test_positive_test_recovery_dates():
    sample = datetime(2021, 6, 20, 0, 30, tzinfo=CEST)  # 19 June in UTC, 20 June in its own offset
    message = only([positive_test_event(sample_date=sample)])
    recovery = entry(message)
    assert message.key_usage == "recovery"
    assert (recovery["fr"], recovery["df"], recovery["du"]) == ("2021-06-20", "2021-07-01", "2021-12-17")
    assert uci_is_valid(recovery["ci"])
    DCC_VALIDATOR.validate(message.dcc)


@pytest.mark.parametrize(("du_days", "expected"), [(100, "2021-09-28"), (180, "2021-12-17"), (365, "2021-12-17")])
def test_positive_test_du_is_at_most_180_days(du_days, expected):
    config = seed_rule_config(eu_international_positivetest_recovery_du_days=du_days)
    event = positive_test_event(sample_date=datetime(2021, 6, 20, 10, 0, tzinfo=UTC))
    assert entry(only([event], config=config))["du"] == expected


def test_recovery_du_is_capped_and_df_follows_provider_valid_from():
    event = recovery_event(sample_date=date(2021, 6, 1), valid_from=date(2021, 6, 20), valid_until=date(2022, 6, 1))
    message = only([event])
    recovery = entry(message)
    assert (recovery["fr"], recovery["df"], recovery["du"]) == ("2021-06-01", "2021-06-20", "2021-11-28")
    assert message.origin.valid_from == datetime(2021, 6, 20, tzinfo=UTC)
    assert message.origin.event_time == datetime(2021, 6, 1, tzinfo=UTC)


def test_recovery_df_is_at_least_eleven_days_after_fr():
    event = recovery_event(sample_date=date(2021, 6, 1), valid_from=date(2021, 6, 2), valid_until=date(2021, 11, 1))
    recovery = entry(only([event]))
    assert (recovery["df"], recovery["du"]) == ("2021-06-12", "2021-11-01")


def test_recovery_with_df_after_du_gives_no_dcc():
    event = recovery_event(sample_date=date(2021, 6, 1), valid_from=date(2021, 6, 2), valid_until=date(2021, 6, 10))
    assert messages([event]) == []


# --- §2 pre-filter -------------------------------------------------------------------------------


@pytest.mark.parametrize("test_type", ["NL:BREATH", "NL:BIKKER"])
def test_dutch_only_negative_tests_give_no_dcc(test_type):
    assert messages([negative_test_event(type=test_type)]) == []


@pytest.mark.parametrize(
    ("test_type", "kept"),
    [("NL:BIKKER3213", False), ("nl:breath", False), ("Nl:Bikker", False), ("LP217198-3", True), ("XNL:BREATH", True)],
)
def test_pre_filter_drops_dutch_only_negative_test_prefixes(test_type, kept):
    event = negative_test_event(type=test_type)
    assert eu_pre_filter([event], CONFIG) == ([event] if kept else [])


def test_dutch_only_negative_test_does_not_displace_an_older_eu_test():
    older = negative_test_event(sample_date=NOW - timedelta(hours=10))
    breath = negative_test_event(sample_date=NOW - timedelta(hours=1), type="NL:BREATH")
    assert entry(only([older, breath]))["sc"] == older.payload.sample_date.isoformat()


@pytest.mark.parametrize(("test_type", "kept"), [("LP6464-4", True), ("LP217198-3", True), ("NL:BREATH", False)])
def test_pre_filter_keeps_only_eu_recovery_test_types(test_type, kept):
    event = positive_test_event(type=test_type)
    assert eu_pre_filter([event], CONFIG) == ([event] if kept else [])


def test_upgraded_v2_holder_gets_no_test_dcc():
    assert messages([negative_test_event(holder=holder(birth_year=1883, infix=""))]) == []


def test_dutch_only_positive_test_gives_no_recovery_and_no_cross_type_rule():
    events = [vaccination_event(dose_number=1, total_doses=2), positive_test_event(type="NL:BREATH")]
    vaccination = entry(only(events))
    assert (vaccination["dn"], vaccination["sd"]) == (1, 2)


def test_eu_recovery_test_type_makes_vaccination_one_of_one():
    events = [vaccination_event(dose_number=1, total_doses=2), positive_test_event(type="LP6464-4")]
    result = messages(events)
    assert [message.key_usage for message in result] == ["vaccination", "recovery"]
    assert (entry(result[0])["dn"], entry(result[0])["sd"]) == (1, 1)


# --- §3 messages, §7 expiration ------------------------------------------------------------------


def test_one_message_per_event_in_pipeline_order_with_own_ucis():
    events = [
        recovery_event(),
        negative_test_event(),
        positive_test_event(),
        vaccination_event(hpk_code="2934701", unique="v-1", provider="GGD"),
    ]
    result = eu_messages(events, config=CONFIG, now=NOW)
    assert [message.key_usage for message in result] == ["vaccination", "recovery", "test", "recovery"]
    assert [message.origin.type for message in result] == ["vaccination", "recovery", "test", "recovery"]
    assert len({message.uci for message in result}) == 4
    assert all(entry(message)["ci"] == message.uci and uci_is_valid(message.uci) for message in result)
    assert (result[0].unique, result[0].source_provider) == ("v-1", "GGD")
    for message in result:
        DCC_VALIDATOR.validate(message.dcc)


def test_expiration_time_is_now_plus_28_days_for_every_kind():
    events = [vaccination_event(), negative_test_event(), positive_test_event(), recovery_event()]
    result = messages(events)
    assert {message.expiration_time for message in result} == {EXPIRATION}
    assert {message.signer_expiration_time for message in result} == {EXPIRATION}
    assert {message.origin.render()["expirationTime"] for message in result} == {EXPIRATION}


def test_specimen_gets_magic_42_for_the_signer_only():
    message = only([vaccination_event(is_specimen=True)])
    assert message.signer_request()["expirationTime"] == SPECIMEN_EXPIRATION_TIME
    assert message.expiration_time == EXPIRATION
    assert message.origin.render()["expirationTime"] == EXPIRATION


def test_origins_of_vaccination_and_test():
    vaccination = only([vaccination_event(date=date(2021, 6, 1))]).origin.render()
    assert vaccination == {
        "type": "vaccination",
        "eventTime": "2021-06-01T00:00:00+00:00",
        "expirationTime": EXPIRATION,
        "validFrom": "2021-06-01T00:00:00+00:00",
    }
    sample = datetime(2021, 7, 1, 9, 47, 12, tzinfo=CEST)
    test = only([negative_test_event(sample_date=sample)]).origin.render()
    assert (test["eventTime"], test["validFrom"]) == ("2021-07-01T09:47:12+02:00", "2021-07-01T09:47:12+02:00")


def test_expired_events_are_not_filtered_for_eu():
    old = recovery_event(sample_date=date(2020, 1, 1), valid_from=date(2020, 1, 12), valid_until=date(2020, 6, 1))
    assert [message.key_usage for message in messages([old])] == ["recovery"]


def test_future_vaccination_gives_no_dcc():
    assert messages([vaccination_event(date=date(2021, 7, 2))]) == []


def test_signer_request_omits_absent_groups_and_display_has_none():
    message = only([negative_test_event()])
    assert set(message.signer_request()) == {"keyUsage", "expirationTime", "dcc"}
    assert set(message.signer_request()["dcc"]) == {"ver", "nam", "dob", "t"}
    display = message.display_dcc()
    assert list(display) == ["ver", "nam", "dob", "v", "t", "r"]
    assert (display["v"], display["r"], display["t"]) == (None, None, message.dcc["t"])


def test_app_flow_disabled_gives_no_messages():
    config = seed_rule_config(eu_international_dynamic_signer_enabled=False)
    assert messages([vaccination_event()], config=config) == []


def test_input_is_not_modified():
    event = vaccination_event()
    messages([event])
    assert (event.payload.brand, event.payload.dose_number) == (None, None)


def test_schema_failure_names_the_schema_path_not_the_value():
    message = only([vaccination_event()])
    broken = {**message.dcc, "dob": "1899-12-31"}
    with pytest.raises(DccNotBuildable) as failure:
        check_dcc_schema(broken)
    assert "dob" in str(failure.value) and "1899" not in str(failure.value)


def test_schema_checks_date_formats():
    message = only([negative_test_event()])
    broken = {**message.dcc, "t": [{**message.dcc["t"][0], "sc": "yesterday"}]}
    with pytest.raises(DccNotBuildable):
        check_dcc_schema(broken)


# --- §8 print ------------------------------------------------------------------------------------


def print_message(events, config=CONFIG):
    return eu_print_message(events, config=config, now=NOW, new_uuid=lambda: FIXED_UUID)


def test_print_gives_one_message_also_for_partial_vaccinations():
    message = print_message([vaccination_event(dose_number=1, total_doses=2)])
    assert entry(message)["dn"] == 1 and message.expiration_time == EXPIRATION


def test_print_uses_its_own_expiration_setting():
    config = seed_rule_config(eu_international_print_expiration_time_days=180)
    message = print_message([negative_test_event()], config=config)
    assert message.expiration_time == "2021-12-28T12:30:15+00:00"


def test_print_with_several_event_types_gives_none():
    assert print_message([vaccination_event(), negative_test_event()]) is None


def test_print_disabled_or_empty_or_nothing_left_gives_none():
    config = seed_rule_config(eu_international_print_signer_enabled=False)
    assert print_message([vaccination_event()], config=config) is None
    assert print_message([]) is None
    assert print_message([negative_test_event(type="NL:BREATH")]) is None


def test_print_specimen_and_partial_birth_date():
    person = holder(birth_month=None, birth_day=None)
    message = print_message([vaccination_event(is_specimen=True, holder=person)])
    assert message.signer_expiration_time == SPECIMEN_EXPIRATION_TIME and message.expiration_time == EXPIRATION
    assert message.display_dcc()["dob"] == "1960"
