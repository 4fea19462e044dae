"""Signature attacks through the API (events.md §2.2; api.md §5, §6): every forged or misused
signature is a 400 `invalid_signature` and no signer is called.

"No signer is called" is proven twice: the signer URLs point at a closed port (a call would turn
the answer into 503 `downstream_unavailable`, as the positive control shows), and the request's
submission record has no downstream timings.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from cryptography.hazmat.primitives.serialization import Encoding

from devtools.testing.api_fixtures import holder_icm, result, vaccination
from devtools.testing.processes import free_port
from devtools.testprovider import create_test_ca, make_blob
from events.selectors import config_cache_clear
from signing.models import EventSubmission, IssuanceSession, UciAuditRecord

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_PROVIDER = "YYY"


def register_certificate(provider_identifier: str, signer, *, create_provider: bool = False) -> None:
    import secrets

    from nacl.public import PrivateKey

    from events.models import Provider, ProviderCertificate
    from events.providers import certificate_facts

    if create_provider:
        key = PrivateKey.generate()
        Provider.objects.create(
            identifier=provider_identifier,
            unomi_url="https://other.example/unomi",
            event_url="https://other.example/event",
            identity_hash_secret=secrets.token_hex(32),
            bsn_public_key=base64.b64encode(bytes(key.public_key)).decode(),
            bsn_private_key=base64.b64encode(bytes(key)).decode(),
        )
    provider = Provider.objects.get(identifier=provider_identifier)
    facts = certificate_facts(signer.cert.public_bytes(Encoding.PEM).decode(), match="pinned")
    ProviderCertificate.objects.create(
        provider=provider,
        pem=facts.pem,
        fingerprint_sha256=facts.fingerprint_sha256,
        match="pinned",
        subject_common_name=facts.subject_common_name,
    )
    config_cache_clear()


def payload_changed_after_signing(results: dict, provider_signer, provider_ca) -> dict:
    signed = make_blob(results, provider_signer)
    changed = dict(results, holder=dict(results["holder"], birthDate="1980-05-18"))
    return {"payload": base64.b64encode(json.dumps(changed).encode()).decode(), "signature": signed["signature"]}


def unregistered_certificate(results: dict, provider_signer, provider_ca) -> dict:
    stranger = create_test_ca("Stranger Root CA").issue_signer("api-test.provider.example")
    return make_blob(results, stranger)


def another_providers_signature(results: dict, provider_signer, provider_ca) -> dict:
    other = provider_ca.issue_signer("other.provider.example")
    register_certificate(OTHER_PROVIDER, other, create_provider=True)
    return make_blob(results, other)  # the payload says ZZZ


def expired_certificate(results: dict, provider_signer, provider_ca) -> dict:
    now = datetime.now(UTC)
    expired = provider_ca.issue_signer(
        "api-test.provider.example", not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
    )
    register_certificate("ZZZ", expired)
    return make_blob(results, expired)


def not_yet_valid_certificate(results: dict, provider_signer, provider_ca) -> dict:
    now = datetime.now(UTC)
    future = provider_ca.issue_signer("api-test.provider.example", not_before=now + timedelta(days=1))
    register_certificate("ZZZ", future)
    return make_blob(results, future, signing_time=now)


def embedded_content(results: dict, provider_signer, provider_ca) -> dict:
    return make_blob(results, provider_signer, embed_content=True)


ATTACKS = [
    payload_changed_after_signing,
    unregistered_certificate,
    another_providers_signature,
    expired_certificate,
    not_yet_valid_certificate,
    embedded_content,
]


@pytest.fixture
def signers_unreachable(settings):
    closed = f"http://127.0.0.1:{free_port()}"
    settings.DOMESTIC_NL_VWS_ONLINE_SIGNING_URL = f"{closed}/issue"
    settings.DOMESTIC_NL_VWS_PAPER_SIGNING_URL = f"{closed}/issue_static"
    settings.EU_INTERNATIONAL_SIGNING_URL = f"{closed}/get_credential"


async def print_request(api, token: str, blob: dict):
    return await api.post(
        "/app/print/", {"events": [blob]}, content_type="application/json", headers={"Authorization": f"Token {token}"}
    )


async def assert_rejected_without_signer_calls(response) -> None:
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_signature"
    submission = await sync_to_async(EventSubmission.objects.get)()
    assert (submission.status, submission.error_code) == (400, "invalid_signature")
    assert submission.downstream_ms == {}
    assert await sync_to_async(UciAuditRecord.objects.count)() == 0


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.__name__)
async def test_print_rejects(
    api, registered_provider, print_token, provider_signer, provider_ca, vaccination_results, signers_unreachable, attack
):
    forged = await sync_to_async(attack)(vaccination_results, provider_signer, provider_ca)
    await assert_rejected_without_signer_calls(await print_request(api, print_token, forged))


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.__name__)
async def test_credentials_rejects(
    api, signers, registered_provider, provider_signer, provider_ca, vaccination_results, settings, attack
):
    forged = await sync_to_async(attack)(vaccination_results, provider_signer, provider_ca)
    prepared = (await api.post("/app/prepare_issue/")).json()
    closed = f"http://127.0.0.1:{free_port()}"
    settings.DOMESTIC_NL_VWS_ONLINE_SIGNING_URL = f"{closed}/issue"
    settings.EU_INTERNATIONAL_SIGNING_URL = f"{closed}/get_credential"
    response = await api.post(
        "/app/credentials/",
        {"events": [forged], "stoken": prepared["stoken"], "issueCommitmentMessage": holder_icm(prepared["prepareIssueMessage"])},
        content_type="application/json",
    )
    await assert_rejected_without_signer_calls(response)
    assert await sync_to_async(IssuanceSession.objects.count)() == 1  # not consumed


async def test_positive_control_a_genuine_blob_reaches_the_closed_signer(
    api, registered_provider, print_token, provider_ca, now, signers_unreachable
):
    """The same set-up with a correctly signed blob of the other provider does call a signer."""
    other = provider_ca.issue_signer("other.provider.example")
    await sync_to_async(register_certificate)(OTHER_PROVIDER, other, create_provider=True)
    genuine = make_blob(
        result(vaccination((now - timedelta(days=30)).date().isoformat(), 1, total=1, hpk="2934701"), provider=OTHER_PROVIDER),
        other,
    )
    response = await print_request(api, print_token, genuine)
    assert response.status_code == 503 and response.json()["code"] == "downstream_unavailable"
    submission = await sync_to_async(EventSubmission.objects.get)()
    assert submission.downstream_ms  # the refused connection was timed
