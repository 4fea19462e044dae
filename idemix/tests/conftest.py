"""Fixtures for the Idemix tests: the TEST ONLY key pair, the real vectors, both arithmetic backends."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idemix import arith, keys
from idemix.issuer import Issuer, IssuerKey
from idemix.primes import SyncPrimePool

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY_ID = "TST-KEY-01"

V2_ATTRIBUTES = {
    "isSpecimen": "0",
    "isPaperProof": "0",
    "validFrom": "1622505600",
    "validForHours": "24",
    "firstNameInitial": "A",
    "lastNameInitial": "",
    "birthDay": "1",
    "birthMonth": "",
}
V3_ATTRIBUTES = {**V2_ATTRIBUTES, "category": "1"}


def reference_dir() -> Path:
    return Path(os.environ.get("CORONACHECK_REFERENCE") or REPO_ROOT.parent / "shared" / "reference")


@pytest.fixture(scope="session")
def public_key() -> keys.PublicKey:
    return keys.load_public_key(reference_dir() / "keys" / "idemix" / "pk.xml")


@pytest.fixture(scope="session")
def secret_key() -> keys.SecretKey:
    return keys.load_secret_key(reference_dir() / "keys" / "idemix" / "sk.xml")


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return json.loads((reference_dir() / "idemix" / "vectors.json").read_text())


@pytest.fixture(scope="session")
def key_map(public_key: keys.PublicKey) -> dict[str, keys.PublicKey]:
    return keys.with_aliases(public_key)


@pytest.fixture(params=["gmpy2", "python"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test under each arithmetic backend."""
    with arith.backend(request.param):
        yield request.param


def seeded(seed: int) -> arith.RandBits:
    """A deterministic randbits source for reproducible tests."""
    return random.Random(seed).getrandbits


@pytest.fixture
def issuer(public_key: keys.PublicKey, secret_key: keys.SecretKey) -> Issuer:
    return Issuer(
        {KEY_ID: IssuerKey(KEY_ID, public_key, secret_key)},
        pool=SyncPrimePool(),
        usages={"dynamic": KEY_ID},
    )
