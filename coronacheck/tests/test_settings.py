import pytest

from common.envtools import ConfigurationError, parse_list


def test_list_setting_accepts_json_array():
    assert parse_list("X", '["test_client", "cc_app"]') == ["test_client", "cc_app"]


def test_list_setting_accepts_comma_separated_values():
    assert parse_list("X", " test_client, ,cc_app ") == ["test_client", "cc_app"]


def test_list_setting_rejects_json_that_is_not_a_list_of_strings():
    with pytest.raises(ConfigurationError):
        parse_list("X", "[1, 2]")
