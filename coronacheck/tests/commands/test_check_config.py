"""`manage.py check_config` (signing/management/commands/check_config.py)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_valid_configuration_reports_success():
    out = StringIO()
    call_command("check_config", stdout=out)
    assert "configuration valid" in out.getvalue()


def test_a_problem_fails_and_names_the_setting_without_secrets(settings):
    settings.IDENTITY_HASH_JWT_ISSUER_CLAIM = ""
    settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT = 0
    out = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("check_config", stdout=out)
    report = out.getvalue()
    assert "IDENTITY_HASH_JWT_ISSUER_CLAIM is required" in report
    assert "DOMESTIC_NL_ISSUE_READ_TIMEOUT must be positive" in report
    secret = Path(settings.SESSION_HMAC_KEY_FILE).read_text().strip()
    assert secret not in report and settings.SECRET_KEY not in report


def test_an_invalid_rule_in_the_database_is_reported():
    from events.models import RuleConfiguration
    from events.services import rules_seed_if_empty

    rules_seed_if_empty()
    RuleConfiguration.objects.filter(pk=1).update(domestic_strip_validity_hours=2, domestic_maximum_randomized_overlap_hours=4)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_config", stdout=out)
    assert "rule setting DOMESTIC_STRIP_VALIDITY_HOURS" in out.getvalue()


# --------------------------------------------------------------------------------------------
# The domestic signer's Idemix pair (optional settings)


@pytest.fixture
def idemix_pair(settings):
    from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER

    settings.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = str(TEST_IDEMIX_KEY_FOLDER / "pk.xml")
    settings.DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE = str(TEST_IDEMIX_KEY_FOLDER / "sk.xml")
    return settings


def test_a_valid_idemix_pair_passes(idemix_pair):
    from coronacheck.config_checks import idemix_key_problems

    idemix_pair.DEBUG = True
    assert idemix_key_problems() == []
    out = StringIO()
    call_command("check_config", stdout=out)
    assert "configuration valid" in out.getvalue()


def test_the_test_only_idemix_key_is_refused_outside_debug(idemix_pair):
    idemix_pair.DEBUG = False
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_config", stdout=out)
    assert "DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE is a TEST ONLY key" in out.getvalue()


def test_a_broken_idemix_pair_is_reported(idemix_pair, tmp_path):
    import dataclasses

    from coronacheck.config_checks import idemix_key_problems
    from devtools.reference.keys import TEST_IDEMIX_KEY_FOLDER
    from idemix import arith, keys

    secret = keys.load_secret_key(idemix_pair.DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE)
    # another safe-prime-shaped q: n is no longer p·q
    broken = dataclasses.replace(secret, q=secret.q + 2, q_prime=secret.q_prime + 1)
    (tmp_path / "sk.xml").write_text(keys.secret_key_xml(broken))
    idemix_pair.DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE = str(tmp_path / "sk.xml")
    problems = idemix_key_problems()
    assert "DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE: n is not p·q" in problems
    assert all(str(secret.p) not in problem for problem in problems)

    public = keys.load_public_key(idemix_pair.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE)
    non_residue = next(value for value in range(2, 100) if not arith.legendre_is_residue(value, secret.p))
    (tmp_path / "pk.xml").write_text(keys.public_key_xml(dataclasses.replace(public, s=non_residue, r=public.r[:10])))
    idemix_pair.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = str(tmp_path / "pk.xml")
    idemix_pair.DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE = str(TEST_IDEMIX_KEY_FOLDER / "sk.xml")
    problems = idemix_key_problems()
    assert "DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE: the key has 10 bases R_i, credential version 3 needs 11" in problems
    assert "DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE: S is not a quadratic residue modulo n" in problems


def test_an_idemix_secret_key_needs_the_public_key(settings, tmp_path):
    from coronacheck.config_checks import idemix_key_problems

    settings.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = ""
    settings.DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE = str(tmp_path / "sk.xml")
    assert idemix_key_problems() == ["DOMESTIC_NL_IDEMIX_SECRET_KEY_FILE needs DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE"]
    settings.DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE = str(tmp_path / "missing.xml")
    assert idemix_key_problems() == ["DOMESTIC_NL_IDEMIX_PUBLIC_KEY_FILE: file not found"]
