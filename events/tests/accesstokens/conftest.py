"""Fixtures of the access-token tests: the TEST ONLY reference keys and vectors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import json5
import pytest

# The shared reference data (outside the repository); override with CORONACHECK_REFERENCE.
from devtools.testing.reference import REFERENCE

UPSTREAM_KEYS = REFERENCE / "keys" / "upstream"
EVENTS = REFERENCE / "events"
RVIG = REFERENCE / "rvig"


@dataclass
class ProviderEntry:
    """A provider as the registry holds it (events.models.Provider fields)."""

    identifier: str
    unomi_url: str
    event_url: str
    identity_hash_secret: str
    bsn_public_key: str
    bsn_private_key: str
    position: int | None = None


@pytest.fixture(scope="session")
def upstream_provider() -> ProviderEntry:
    entry = json5.loads((UPSTREAM_KEYS / "vaccinationproviders.json5").read_text())[0]
    return ProviderEntry(
        identifier=entry["identifier"],
        unomi_url=entry["unomi_url"],
        event_url=entry["event_url"],
        identity_hash_secret=entry["identity_hash_secret"],
        bsn_public_key=entry["bsn_cryptography"]["public_key"],
        bsn_private_key=entry["bsn_cryptography"]["private_key"],
    )


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
