"""The app and print API end to end: Django's async client in-process, the reference signers as a
real process on loopback, PostgreSQL (api.md, signers.md §1)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from api.requests import CredentialsRequestData, CredentialsRequestEvents
from devtools.reference.verifier import trust_list_from_public_keys, verify_hc1
from devtools.testing.api_fixtures import holder_icm, negative_test, result, signer_behaviour, vaccination
from devtools.testing.gate import signer_gate
from events.decoding.payloads.shapes import ResultV2, ResultV3
from signing.models import EventSubmission, IssuanceSession, UciAuditRecord

pytestmark = pytest.mark.django_db(transaction=True)


async def prepare(api) -> dict:
    response = await api.post("/app/prepare_issue/")
    assert response.status_code == 200, response.content
    return response.json()


async def credentials(api, session: dict, blobs: list[dict], icm: str | None = None):
    return await api.post(
        "/app/credentials/",
        {
            "events": blobs,
            "stoken": session["stoken"],
            "issueCommitmentMessage": icm or holder_icm(session["prepareIssueMessage"]),
        },
        content_type="application/json",
    )


def eu_trust_list(signers) -> dict:
    return trust_list_from_public_keys(httpx.get(signers.url("eu", "/public_keys")).json())


async def test_health_reports_the_database(api):
    response = await api.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["running"] is True
    assert {"service": "database", "is_healthy": True, "message": "ping succeeded"} in body["service_status"]
    assert (await api.get("/")).json()["running"] is True


async def test_prepare_issue_opens_a_session_stored_under_an_hmac(api, signers):
    session = await prepare(api)
    stoken = uuid.UUID(session["stoken"])
    assert str(stoken) == session["stoken"] and stoken.version == 4
    message = json.loads(base64.b64decode(session["prepareIssueMessage"]))
    assert message["credentialAmount"] == 34
    keys = await sync_to_async(lambda: list(IssuanceSession.objects.values_list("key", flat=True)))()
    assert len(keys) == 1 and session["stoken"] not in keys[0]


async def test_credentials_flow_issues_domestic_and_eu_certificates(
    api, signers, registered_provider, blob, vaccination_results, now
):
    session = await prepare(api)
    response = await credentials(api, session, [blob(vaccination_results), blob(result(negative_test(now - timedelta(hours=2))))])
    assert response.status_code == 200, response.content
    body = response.json()
    domestic = body["domesticGreencard"]
    assert [o["type"] for o in domestic["origins"]] == ["vaccination", "test"]
    strips = json.loads(base64.b64decode(domestic["createCredentialMessages"]))
    assert len(strips) >= 1 and all("issueSignatureMessage" in s for s in strips)
    kinds = [card["origins"][0]["type"] for card in body["euGreencards"]]
    assert kinds == ["vaccination", "test"]
    trust_list = eu_trust_list(signers)
    for card in body["euGreencards"]:
        verified = verify_hc1(card["credential"], trust_list=trust_list)
        assert verified.verify and verified.key_usage
        assert verified.expiration == int(datetime.fromisoformat(card["origins"][0]["expirationTime"]).timestamp())
    ucis = await sync_to_async(lambda: list(UciAuditRecord.objects.values_list("key_usage", "flow")))()
    assert sorted(ucis) == [("test", "app"), ("vaccination", "app")]
    submission = await sync_to_async(EventSubmission.objects.get)()
    assert (submission.status, submission.domestic_issued, submission.eu_issued) == (200, True, 2)
    assert submission.providers == ["ZZZ", "ZZZ"] and "eu" in submission.downstream_ms


async def test_a_stoken_works_once(api, signers, registered_provider, blob, vaccination_results):
    session = await prepare(api)
    assert (await credentials(api, session, [blob(vaccination_results)])).status_code == 200
    again = await credentials(api, session, [blob(vaccination_results)])
    assert again.status_code == 401
    assert again.json() == {"detail": ["Session expired or is invalid"]}


async def test_unknown_stoken_is_refused_before_the_events_are_read(api, signers, registered_provider):
    response = await api.post(
        "/app/credentials/",
        {"events": [{"payload": "not base64!", "signature": ""}], "stoken": str(uuid.uuid4()), "issueCommitmentMessage": ""},
        content_type="application/json",
    )
    assert response.status_code == 401
    assert response.json() == {"detail": ["Session expired or is invalid"]}


async def test_expired_session_is_refused(api, signers, registered_provider, blob, vaccination_results):
    session = await prepare(api)
    await sync_to_async(IssuanceSession.objects.update)(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await credentials(api, session, [blob(vaccination_results)])).status_code == 401


async def test_a_failed_validation_leaves_the_session_usable(api, signers, registered_provider, blob, vaccination_results):
    session = await prepare(api)
    bad = await credentials(api, session, [{"payload": "@@@@", "signature": "x"}])
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_payload_encoding"
    assert (await credentials(api, session, [blob(vaccination_results)])).status_code == 200


async def test_bad_issue_commitment_message_is_a_400_only_when_a_domestic_card_is_due(
    api, signers, registered_provider, blob, vaccination_results
):
    session = await prepare(api)
    response = await credentials(api, session, [blob(vaccination_results)], icm="bm90IGpzb24=")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "issueCommitmentMessage is not base64 of a JSON object.",
        "code": "invalid_issue_commitment_message",
        "loc": ["issueCommitmentMessage"],
    }


async def test_empty_events_give_no_proofs_and_consume_the_session(api, signers, registered_provider):
    session = await prepare(api)
    response = await credentials(api, session, [], icm="@@not-decoded@@")
    assert response.status_code == 200
    assert response.json() == {"domesticGreencard": None, "euGreencards": []}
    assert (await credentials(api, session, [])).status_code == 401


@pytest.mark.parametrize(
    "body, loc, type_",
    [
        ({"stoken": str(uuid.uuid4()), "issueCommitmentMessage": ""}, ["body", "events"], "value_error.missing"),
        ({"events": [], "issueCommitmentMessage": ""}, ["body", "stoken"], "value_error.missing"),
        ({"events": [], "stoken": "nope", "issueCommitmentMessage": ""}, ["body", "stoken"], "type_error.uuid"),
        ({"events": [], "stoken": str(uuid.uuid4())}, ["body", "issueCommitmentMessage"], "value_error.missing"),
        (
            {"events": [{"payload": 1, "signature": ""}], "stoken": str(uuid.uuid4()), "issueCommitmentMessage": ""},
            ["body", "events", 0, "payload"],
            "type_error.str",
        ),
    ],
)
async def test_credentials_body_structure_errors_are_422(api, body, loc, type_):
    response = await api.post("/app/credentials/", body, content_type="application/json")
    assert response.status_code == 422
    assert {"loc": loc, "type": type_} in [{"loc": d["loc"], "type": d["type"]} for d in response.json()["detail"]]


async def test_invalid_json_is_a_422_jsondecode(api):
    response = await api.post("/app/credentials/", b"{not json", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "value_error.jsondecode"
    assert response.json()["detail"][0]["loc"][0] == "body"


async def test_print_requires_an_api_token(api, signers):
    missing = await api.post("/app/print/", {"events": []}, content_type="application/json")
    assert missing.status_code == 401 and missing.json()["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"] == "Token"
    wrong = await api.post(
        "/app/print/", {"events": []}, content_type="application/json", headers={"Authorization": "Token nope"}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "authentication_failed"


async def test_print_issues_a_paper_proof_and_a_paper_dcc(
    api, signers, registered_provider, blob, vaccination_results, print_token
):
    response = await api.post(
        "/app/print/",
        {"events": [blob(vaccination_results)]},
        content_type="application/json",
        headers={"Authorization": f"Token {print_token}"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["domestic"]["qr"].startswith("NL2:")
    assert body["domestic"]["attributes"]["isPaperProof"] == "1"
    european = body["european"]
    assert european["qr"].startswith("HC1:")
    assert set(european["dcc"]) == {"ver", "nam", "dob", "v", "t", "r"} and european["dcc"]["t"] is None
    verified = verify_hc1(european["qr"], trust_list=eu_trust_list(signers))
    assert verified.verify and verified.dcc["v"][0]["ci"] == european["dcc"]["v"][0]["ci"]
    flows = await sync_to_async(lambda: list(UciAuditRecord.objects.values_list("flow", flat=True)))()
    assert flows == ["print"]


async def test_missing_trailing_slash_answers_307(api):
    response = await api.post("/app/print", {}, content_type="application/json")
    assert response.status_code == 307 and response["Location"] == "/app/print/"


async def test_unknown_path_and_wrong_method(api):
    assert (await api.get("/nope")).status_code == 404
    assert (await api.get("/nope")).json()["detail"]
    response = await api.get("/app/print/")
    assert response.status_code == 405 and "detail" in response.json()
    assert (await api.get("/uci_test")).status_code == 404
    assert (await api.get("/unhealth")).status_code == 404


async def test_request_body_limit(api, settings):
    settings.REQUEST_MAX_BYTES = 1000
    response = await api.post("/app/credentials/", b"x" * 2000, content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"


async def test_openapi_document_is_served_and_docs_ui_is_off(api):
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    for path in ("/app/credentials/", "/app/print/", "/app/prepare_issue/", "/app/access_tokens/", "/health"):
        assert path in paths
    assert (await api.get("/docs")).status_code == 404


async def test_openapi_request_bodies_are_the_validating_shapes(api):
    """One definition per request shape: each documented body is the class that validates it."""
    document = json.loads((await api.get("/openapi.json")).content)
    components = document["components"]["schemas"]
    for path, shape in (
        ("/app/credentials/", CredentialsRequestData),
        ("/app/print/", CredentialsRequestEvents),
        ("/documentation/DataProviderEventsResult/", ResultV3),
        ("/documentation/V2Event/", ResultV2),
    ):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{shape.__name__}"}
        component = components[shape.__name__]
        fields = shape.model_fields.values()
        assert list(component["properties"]) == [field.alias for field in fields]
        assert component["required"] == [field.alias for field in fields if field.is_required()]
    # OpenAPI 3.0: a null-able payload object is `nullable`, not a JSON-schema null type.
    assert components["EventV3"]["properties"]["vaccination"] == {
        "allOf": [{"$ref": "#/components/schemas/VaccinationV3"}],
        "default": None,
        "nullable": True,
    }


@pytest.mark.parametrize(
    "fault, status, code",
    [
        ("500", 502, "downstream_bad_response"),
        ("503", 503, "downstream_unavailable"),
        ("garbage", 502, "downstream_bad_response"),
        ("wrong-shape", 502, "downstream_bad_response"),
        ("close", 503, "downstream_unavailable"),
    ],
)
async def test_eu_signer_failures_map_to_stable_errors_and_record_no_uci(
    api, signers, registered_provider, blob, vaccination_results, fault, status, code
):
    session = await prepare(api)
    signer_behaviour(signers, "eu", fault=fault)
    response = await credentials(api, session, [blob(vaccination_results)])
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert "127.0.0.1" not in response.content.decode()
    assert await sync_to_async(UciAuditRecord.objects.count)() == 0
    submission = await sync_to_async(EventSubmission.objects.get)()
    assert (submission.status, submission.error_code) == (status, code)
    assert submission.downstream_errors == {"eu": code}


async def test_signer_timeout_is_504(api, signers, registered_provider, blob, vaccination_results, settings):
    settings.HTTP_READ_TIMEOUT = 0.3
    session = await prepare(api)
    signer_behaviour(signers, "eu", delay_ms=1500)
    response = await credentials(api, session, [blob(vaccination_results)])
    assert response.status_code == 504 and response.json()["code"] == "downstream_timeout"


async def test_unreachable_signer_is_503(api, signers, registered_provider, blob, vaccination_results, settings):
    from devtools.testing.processes import free_port

    settings.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = f"http://127.0.0.1:{free_port()}/prepare_issue"
    response = await api.post("/app/prepare_issue/")
    assert response.status_code == 503 and response.json()["code"] == "downstream_unavailable"


async def test_domestic_failure_still_records_the_issued_eu_certificates(
    api, signers, registered_provider, blob, vaccination_results
):
    session = await prepare(api)
    signer_behaviour(signers, "domestic", fault="500")
    response = await credentials(api, session, [blob(vaccination_results)])
    assert response.status_code == 502
    assert await sync_to_async(UciAuditRecord.objects.count)() == 1
    submission = await sync_to_async(EventSubmission.objects.get)()
    assert submission.downstream_errors == {"domestic": "downstream_bad_response"}


async def test_signer_calls_run_concurrently(api, signers, registered_provider, blob, vaccination_results, now, settings):
    session = await prepare(api)
    icm = holder_icm(session["prepareIssueMessage"])  # the app's work
    blobs = [blob(vaccination_results), blob(result(negative_test(now - timedelta(hours=1))))]
    async with signer_gate(signers) as gate:
        for name, url in gate.settings_for(signers).items():
            setattr(settings, name, url)
        # Two EU calls (the vaccination and the test) and the domestic issue: none is answered
        # until all three wait at the gate at once, which calls made one by one never do.
        gate.barrier(3)
        response = await credentials(api, session, blobs, icm=icm)
    assert response.status_code == 200, response.content
    assert gate.most_waiting == 3 and gate.arrived == {"eu": 2, "domestic": 1}


async def test_concurrent_requests_with_one_stoken_exactly_one_succeeds(
    api, signers, registered_provider, blob, vaccination_results
):
    session = await prepare(api)
    blobs = [blob(vaccination_results)]
    responses = await asyncio.gather(*(credentials(api, session, blobs) for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 7


async def test_a_slow_signer_does_not_block_health(
    api, signers, registered_provider, print_token, blob, vaccination_results, settings
):
    async with signer_gate(signers) as gate:
        for name, url in gate.settings_for(signers).items():
            setattr(settings, name, url)
        gate.hold()  # the signer calls of the print request wait until released
        slow = asyncio.ensure_future(
            api.post(
                "/app/print/",
                {"events": [blob(vaccination_results)]},
                content_type="application/json",
                headers={"Authorization": f"Token {print_token}"},
            )
        )
        await asyncio.wait_for(gate.arrival.wait(), gate.deadline)
        health = await asyncio.wait_for(api.get("/health"), gate.deadline)
        assert health.status_code == 200
        assert not slow.done()
        gate.release()
        printed = await slow
    assert printed.status_code == 200, printed.content


async def test_a_long_event_unique_is_recorded_in_the_audit_trail(api, signers, registered_provider, blob, now):
    long_unique = "u" * 2000
    results = result(
        vaccination((now - timedelta(days=60)).date().isoformat(), 1, unique=long_unique),
        vaccination((now - timedelta(days=30)).date().isoformat(), 2, unique=long_unique + "2"),
    )
    session = await prepare(api)
    response = await credentials(api, session, [blob(results)])
    assert response.status_code == 200, response.content
    uniques = await sync_to_async(lambda: list(UciAuditRecord.objects.values_list("event_unique", flat=True)))()
    assert len(uniques) == 1 and uniques[0].startswith(long_unique)
