"""Fixtures of the API tests: reference signers as a real process on loopback, a registered test
provider whose certificate signs the submitted blobs, a print token and a fixed set of results."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from nacl.public import PrivateKey

from common.http import clients_close
from devtools.reference.app_holder import app_commitments, holder_icm  # noqa: F401
from devtools.testing.asgi_client import AsgiTestClient
from devtools.testing.processes import signer_settings, start_reference_signers
from devtools.testprovider import create_test_ca, make_blob
from events.models import Provider, ProviderCertificate
from events.providers import certificate_facts
from events.selectors import config_cache_clear
from signing.services import print_token_create

PROVIDER = "ZZZ"


@pytest.fixture(autouse=True)
def config_snapshot_fresh():
    """Each test starts with no cached configuration snapshot, as a new worker would: a test's
    rolled-back transaction may have bumped the configuration version to the very number that
    the next test's change commits."""
    config_cache_clear()
    yield
    config_cache_clear()


@pytest.fixture(scope="session")
def reference_signers(tmp_path_factory):
    signers = start_reference_signers(key_folder=str(tmp_path_factory.mktemp("signer-keys")))
    yield signers
    assert signers.stop() == 0


@pytest.fixture(scope="session")
def provider_ca():
    return create_test_ca()


@pytest.fixture(scope="session")
def provider_signer(provider_ca):
    return provider_ca.issue_signer("api-test.provider.example")


def signer_behaviour(signers, system: str, *, fault: str = "none", delay_ms: int = 0) -> None:
    httpx.post(signers.url(system, "/_reference/behaviour"), json={"fault": fault, "delay_ms": delay_ms}).raise_for_status()


def signer_calls(signers, system: str) -> int:
    """How many requests the reference signer `system` received on its signing routes so far."""
    response = httpx.get(signers.url(system, "/_reference/behaviour"))
    response.raise_for_status()
    return response.json()["received"]


@pytest.fixture
def signers(reference_signers, settings):
    """The reference signers, healthy and without delay, with the service pointed at them."""
    for system in ("eu", "domestic"):
        signer_behaviour(reference_signers, system)
    for name, value in signer_settings(reference_signers).items():
        setattr(settings, name, value)
    yield reference_signers
    for system in ("eu", "domestic"):
        signer_behaviour(reference_signers, system)


@pytest.fixture
def registered_provider(db, provider_signer):

    key = PrivateKey.generate()
    provider = Provider.objects.create(
        identifier=PROVIDER,
        unomi_url="https://provider.example/unomi",
        event_url="https://provider.example/event",
        identity_hash_secret=secrets.token_hex(32),
        bsn_public_key=base64.b64encode(bytes(key.public_key)).decode(),
        bsn_private_key=base64.b64encode(bytes(key)).decode(),
    )
    facts = certificate_facts(provider_signer.cert.public_bytes(Encoding.PEM).decode(), match="pinned")
    ProviderCertificate.objects.create(
        provider=provider,
        pem=facts.pem,
        fingerprint_sha256=facts.fingerprint_sha256,
        match="pinned",
        subject_common_name=facts.subject_common_name,
    )
    config_cache_clear()
    yield provider
    config_cache_clear()


@pytest.fixture
def print_token(db):

    _, key = print_token_create(client_name="test print portal")
    return key


@pytest.fixture
async def api():
    """A client whose requests go through the production ASGI application."""
    client = AsgiTestClient()
    yield client
    await client.aclose()
    await clients_close()


HOLDER = {"firstName": "Pieter", "infix": "de", "lastName": "Proefpersoon", "birthDate": "1980-05-17"}


def result(*events: dict, holder: dict | None = None, provider: str = PROVIDER) -> dict:
    return {
        "protocolVersion": "3.0",
        "providerIdentifier": provider,
        "status": "complete",
        "holder": holder or HOLDER,
        "events": list(events),
    }


def vaccination(date: str, dose: int, total: int = 2, hpk: str = "2924528", unique: str | None = None) -> dict:
    return {
        "type": "vaccination",
        "unique": unique or f"v-{date}-{dose}",
        "isSpecimen": False,
        "vaccination": {"date": date, "hpkCode": hpk, "doseNumber": dose, "totalDoses": total, "country": "NLD"},
    }


def negative_test(sample: datetime, unique: str = "t-1") -> dict:
    return {
        "type": "negativetest",
        "unique": unique,
        "isSpecimen": False,
        "negativetest": {
            "sampleDate": sample.replace(microsecond=0).isoformat(),
            "negativeResult": True,
            "facility": "Teststraat",
            "type": "LP217198-3",
            "name": "Rapid test",
            "manufacturer": "1232",
            "country": "NL",
        },
    }


@pytest.fixture
def now():
    return datetime.now(timezone.utc)


@pytest.fixture
def vaccination_results(now):
    first = (now - timedelta(days=60)).date().isoformat()
    second = (now - timedelta(days=30)).date().isoformat()
    return result(vaccination(first, 1), vaccination(second, 2))


@pytest.fixture
def blob(provider_signer):
    def make(payload) -> dict:
        return make_blob(payload, provider_signer)

    return make
