"""`manage.py load_rule_data` and `export_rule_data` (events/ruledata.py)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from devtools.testing.reference import REFERENCE
from events.models import HpkCode, PartialDisclosureRule
from events.ruledata import RULE_DATA_FILES, rule_data_current, rule_data_read_folder
from events.seed import BUNDLED_RESOURCE_FOLDER, rule_data_from_folder
from events.services import rules_seed_if_empty

pytestmark = pytest.mark.django_db
UPSTREAM = REFERENCE / "valuesets" / "upstream"


@pytest.fixture(autouse=True)
def seeded():
    rules_seed_if_empty()


def test_the_bundled_files_are_the_upstream_reference_files():
    for name in RULE_DATA_FILES:
        assert (BUNDLED_RESOURCE_FOLDER / name).read_bytes() == (UPSTREAM / name).read_bytes()


def test_export_then_load_is_a_round_trip(tmp_path):
    call_command("export_rule_data", str(tmp_path), stdout=StringIO())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(RULE_DATA_FILES)
    assert rule_data_read_folder(tmp_path) == rule_data_current()
    out = StringIO()
    call_command("load_rule_data", str(tmp_path), stdout=out)
    assert "HPK codes: 0 added, 0 changed, 0 removed" in out.getvalue()


def test_export_refuses_to_overwrite_without_force(tmp_path):
    call_command("export_rule_data", str(tmp_path), stdout=StringIO())
    with pytest.raises(CommandError, match="--force"):
        call_command("export_rule_data", str(tmp_path), stdout=StringIO())
    call_command("export_rule_data", str(tmp_path), "--force", stdout=StringIO())


def test_load_applies_changes_with_history(tmp_path):
    call_command("export_rule_data", str(tmp_path), stdout=StringIO())
    (tmp_path / "partial_issuance_allowlist.csv").write_text("AA,VF\nUX,M\n")
    out = StringIO()
    call_command("load_rule_data", str(tmp_path), stdout=out)
    assert dict(PartialDisclosureRule.objects.values_list("initials", "letters")) == {"AA": "VF", "UX": "M"}
    assert "partial-disclosure allowlist: 1 added, 1 changed, 674 removed" in out.getvalue()
    assert PartialDisclosureRule.history.filter(initials="AA", history_type="~").exists()


def test_load_of_the_upstream_reference_folder_gives_the_seed():
    call_command("load_rule_data", str(UPSTREAM), stdout=StringIO())
    expected = rule_data_from_folder(UPSTREAM)
    assert rule_data_current().hpk_codes == expected.hpk_codes
    assert rule_data_current().partial_disclosure == expected.partial_disclosure


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("required-doses-per-brand.json", json.dumps({"EU/1/20/1528": 0}), "must be an integer >= 1"),
        ("partial_issuance_allowlist.csv", "AA,VX\n", "subset of VFMD"),
        ("test-type.json", json.dumps({"valueSetValues": {}}), "value set test-type is empty"),
        ("hpk-codes.json", "{not json", "hpk-codes.json"),
    ],
)
def test_an_invalid_folder_loads_nothing(tmp_path, name, content, message):
    call_command("export_rule_data", str(tmp_path), stdout=StringIO())
    (tmp_path / name).write_text(content)
    HpkCode.objects.filter(code="2924528").update(vp="changed")
    before = rule_data_current()
    with pytest.raises(CommandError, match=message):
        call_command("load_rule_data", str(tmp_path), stdout=StringIO())
    assert rule_data_current() == before


def test_a_missing_file_is_named(tmp_path):
    call_command("export_rule_data", str(tmp_path), stdout=StringIO())
    (tmp_path / "test-type.json").unlink()
    with pytest.raises(CommandError, match="missing rule-data file.*test-type.json"):
        call_command("load_rule_data", str(tmp_path), stdout=StringIO())
