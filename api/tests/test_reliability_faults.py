"""Downstream faults beyond events/tests/test_apis.py (signers.md §1; api.md §5 step 8, §9): slow
answers below and above the read timeout, a hanging signer, every fault mode on the domestic
signer and on the EU signer of the print flow, the app flow with a failed domestic call, and
`/app/prepare_issue/` faults. In every case the other concurrent calls complete, the UCIs of
the EU calls that succeeded (and only those) are in the audit, and the submission row records
the failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from devtools.testing.api_fixtures import holder_icm, negative_test, result, signer_behaviour
from signing.models import EventSubmission, IssuanceSession, UciAuditRecord

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 0.5
FAULTS = {
    "500": (502, "downstream_bad_response"),
    "503": (503, "downstream_unavailable"),
    "garbage": (502, "downstream_bad_response"),
    "wrong-shape": (502, "downstream_bad_response"),
    "close": (503, "downstream_unavailable"),
    "hang": (504, "downstream_timeout"),
}


@pytest.fixture
def short_timeouts(settings):
    settings.HTTP_READ_TIMEOUT = TIMEOUT
    settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT = TIMEOUT


async def print_request(api, token: str, blobs: list[dict]):
    return await api.post(
        "/app/print/", {"events": blobs}, content_type="application/json", headers={"Authorization": f"Token {token}"}
    )


async def audit() -> list[tuple[str, str]]:
    return await sync_to_async(lambda: sorted(UciAuditRecord.objects.values_list("key_usage", "flow")))()


async def submission() -> EventSubmission:
    return await sync_to_async(EventSubmission.objects.get)()


async def test_slow_signers_below_the_read_timeout_succeed(
    api, signers, registered_provider, print_token, blob, vaccination_results, settings
):
    settings.HTTP_READ_TIMEOUT = settings.DOMESTIC_NL_ISSUE_READ_TIMEOUT = 1.5
    for system in ("eu", "domestic"):
        signer_behaviour(signers, system, delay_ms=700)
    response = await print_request(api, print_token, [blob(vaccination_results)])
    assert response.status_code == 200, response.content
    row = await submission()
    assert (row.status, row.domestic_issued, row.eu_issued) == (200, True, 1)
    assert row.downstream_ms["eu"] >= 700 and row.downstream_ms["domestic"] >= 700


async def test_slow_domestic_signer_above_the_read_timeout(
    api, signers, registered_provider, print_token, blob, vaccination_results, short_timeouts
):
    signer_behaviour(signers, "domestic", delay_ms=1500)
    response = await print_request(api, print_token, [blob(vaccination_results)])
    assert response.status_code == 504 and response.json()["code"] == "downstream_timeout"
    assert await audit() == [("vaccination", "print")]  # the EU call completed meanwhile
    row = await submission()
    assert (row.status, row.error_code, row.domestic_issued, row.eu_issued) == (504, "downstream_timeout", False, 1)


@pytest.mark.parametrize("fault", FAULTS)
async def test_print_domestic_fault_leaves_the_eu_certificate_recorded(
    api, signers, registered_provider, print_token, blob, vaccination_results, short_timeouts, fault
):
    status, code = FAULTS[fault]
    signer_behaviour(signers, "domestic", fault=fault)
    response = await print_request(api, print_token, [blob(vaccination_results)])
    assert response.status_code == status, response.content
    assert response.json() == {"detail": response.json()["detail"], "code": code}
    assert await audit() == [("vaccination", "print")]
    row = await submission()
    assert (row.status, row.error_code, row.domestic_issued, row.eu_issued) == (status, code, False, 1)
    assert set(row.downstream_ms) == {"domestic", "eu"}


@pytest.mark.parametrize("fault", FAULTS)
async def test_print_eu_fault_records_no_uci(
    api, signers, registered_provider, print_token, blob, vaccination_results, short_timeouts, fault
):
    status, code = FAULTS[fault]
    signer_behaviour(signers, "eu", fault=fault)
    response = await print_request(api, print_token, [blob(vaccination_results)])
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert "127.0.0.1" not in response.content.decode() and "HC1:" not in response.content.decode()
    assert await audit() == []
    row = await submission()
    assert (row.status, row.error_code, row.eu_issued) == (status, code, 0)


@pytest.mark.parametrize("fault", FAULTS)
async def test_credentials_domestic_fault_records_every_issued_eu_certificate(
    api, signers, registered_provider, blob, vaccination_results, now, short_timeouts, fault
):
    status, code = FAULTS[fault]
    prepared = (await api.post("/app/prepare_issue/")).json()
    signer_behaviour(signers, "domestic", fault=fault)
    response = await api.post(
        "/app/credentials/",
        {
            "events": [blob(vaccination_results), blob(result(negative_test(now - timedelta(hours=2))))],
            "stoken": prepared["stoken"],
            "issueCommitmentMessage": holder_icm(prepared["prepareIssueMessage"]),
        },
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    # Both EU calls ran concurrently with the failing domestic call and completed.
    assert await audit() == [("test", "app"), ("vaccination", "app")]
    row = await submission()
    assert (row.status, row.error_code, row.domestic_issued, row.eu_issued) == (status, code, False, 2)
    # The session was consumed before the signer calls (api.md §5 step 6).
    assert await sync_to_async(IssuanceSession.objects.count)() == 0


@pytest.mark.parametrize("fault", FAULTS)
async def test_prepare_issue_fault_opens_no_session(api, signers, short_timeouts, fault):
    status, code = FAULTS[fault]
    signer_behaviour(signers, "domestic", fault=fault)
    response = await api.post("/app/prepare_issue/")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert await sync_to_async(IssuanceSession.objects.count)() == 0
