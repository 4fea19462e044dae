"""Writes of the rule configuration and registry (events/services.py, events/providers.py,
events/ruledata.py): each change moves the configuration version exactly once (settings.md §3)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from devtools.testprovider import create_test_ca
from events.providers import provider_certificate_set, providers_import
from events.ruledata import rule_data_current, rule_data_replace
from events.selectors import configuration_version_get
from events.services import rule_configuration_update, rules_reset, rules_seed_if_empty

pytestmark = pytest.mark.django_db

SECRET = "735770c3112175051c99c3e2c3023ab7ed99f98c965c4e15a7c01da7370c5717"


@pytest.fixture(scope="module")
def pem() -> str:
    return create_test_ca().issue_signer("Provider ZZZ").cert.public_bytes(Encoding.PEM).decode()


def providers_file(pem: str) -> str:
    return json.dumps(
        [
            {
                "identifier": "ZZZ",
                "unomi_url": "https://zzz.example/unomi",
                "event_url": "https://zzz.example/events",
                "identity_hash_secret": SECRET,
                "bsn_cryptography": {
                    "public_key": "pFWnrVkdUbKeU1B5Pj18AqKfE0wsbeUNH0Gh19Dz+EY=",
                    "private_key": "ozFVVdY9QCcWwo2J9FZVTgXzDqGxfohynembzcyGJps=",
                },
                "cms": [pem],
            }
        ]
    )


def test_seeding_an_already_seeded_database_changes_nothing():
    before = configuration_version_get()
    assert rules_seed_if_empty() is False
    assert configuration_version_get() == before


@pytest.mark.parametrize(
    "change",
    [
        lambda pem: rule_configuration_update({"deduplication_margin": 3}),
        lambda pem: rules_reset(),
        lambda pem: rule_data_replace(rule_data_current()),
        lambda pem: providers_import(providers_file(pem)),
    ],
    ids=["rule constant", "reset", "rule data", "provider import"],
)
def test_each_change_bumps_the_version_once(change, pem):
    before = configuration_version_get()
    change(pem)
    assert configuration_version_get() == before + 1


def test_a_certificate_entry_change_bumps_the_version_once(pem):
    providers_import(providers_file(pem))
    before = configuration_version_get()
    provider_certificate_set(identifier="ZZZ", pem=pem, match=None, status="revoked", retired_at=None)
    assert configuration_version_get() == before + 1
