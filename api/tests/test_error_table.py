"""Every client-reachable row of the error table of api.md §9, through the HTTP API: the status,
the body shape and the stable code; none of them is a 500."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from devtools.testing.api_fixtures import HOLDER, holder_icm, negative_test, result, vaccination
from devtools.testprovider import create_test_ca, make_blob

pytestmark = pytest.mark.django_db(transaction=True)


def b64(document) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def print_cases(blob, now):
    good = result(
        vaccination((now - timedelta(days=40)).date().isoformat(), 1),
        vaccination((now - timedelta(days=10)).date().isoformat(), 2),
    )
    stranger = create_test_ca().issue_signer("not registered")
    naive = result(negative_test(now - timedelta(hours=1)))
    naive["events"][0]["negativetest"]["sampleDate"] = "2021-06-01T10:00:00"
    mismatch = result({"type": "negativetest", "unique": "x", "vaccination": {"date": "2021-06-01"}})
    other_holder = dict(HOLDER, firstName="Zeno")
    return [
        ("invalid_payload_encoding", [{"payload": "***", "signature": ""}], 400),
        ("invalid_payload_json", [{"payload": base64.b64encode(b"\xff{").decode(), "signature": ""}], 400),
        ("unknown_provider", [blob(result(provider="NOPE"))], 400),
        ("invalid_signature", [make_blob(good, stranger)], 400),
        ("invalid_signature", [{"payload": b64(good), "signature": blob(result())["signature"]}], 400),
        ("event_type_mismatch", [blob(mismatch)], 400),
        ("invalid_birth_date", [blob(result(holder=dict(HOLDER, birthDate="1960-02-30")))], 400),
        ("naive_datetime", [blob(naive)], 400),
        ("error code 99966", [blob(good), blob(result(holder=other_holder))], 400),
        ("value_error.missing", [blob({"providerIdentifier": "ZZZ"})], 422),
        ("value_error.invalid", [blob(dict(good, protocolVersion="4.0"))], 422),
    ]


async def test_print_error_table(api, signers, registered_provider, print_token, blob, now):
    for expected, blobs, status in print_cases(blob, now):
        response = await api.post(
            "/app/print/", {"events": blobs}, content_type="application/json", headers={"Authorization": f"Token {print_token}"}
        )
        body = response.json()
        assert response.status_code == status, (expected, body)
        if status == 422:
            assert expected in [item["type"] for item in body["detail"]]
        elif expected.startswith("error code"):
            assert body == {"detail": [expected]}
        else:
            assert body["code"] == expected and isinstance(body["detail"], str), body


async def test_credentials_only_rows(api, signers, registered_provider, blob, vaccination_results):
    prepared = (await api.post("/app/prepare_issue/")).json()
    bad_icm = await api.post(
        "/app/credentials/",
        {"events": [blob(vaccination_results)], "stoken": prepared["stoken"], "issueCommitmentMessage": "W10="},
        content_type="application/json",
    )
    assert bad_icm.status_code == 400 and bad_icm.json()["code"] == "invalid_issue_commitment_message"
    ok = await api.post(
        "/app/credentials/",
        {
            "events": [blob(vaccination_results)],
            "stoken": prepared["stoken"],
            "issueCommitmentMessage": holder_icm(prepared["prepareIssueMessage"]),
        },
        content_type="application/json",
    )
    assert ok.status_code == 200
    reused = await api.post(
        "/app/credentials/",
        {"events": [], "stoken": prepared["stoken"], "issueCommitmentMessage": ""},
        content_type="application/json",
    )
    assert reused.status_code == 401 and reused.json() == {"detail": ["Session expired or is invalid"]}


async def test_authentication_rows(api):
    assert (await api.post("/app/print/", {}, content_type="application/json")).json()["code"] == "not_authenticated"
    wrong = await api.post("/app/print/", {}, content_type="application/json", headers={"Authorization": "Token x"})
    assert wrong.json()["code"] == "authentication_failed"
    no_bearer = await api.post("/app/access_tokens/")
    assert no_bearer.status_code == 401 and no_bearer.json() == {"detail": ["Invalid Authorization Token type"]}
    bad_jwt = await api.post("/app/access_tokens/", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad_jwt.status_code == 401 and bad_jwt.json() == {"detail": ["Invalid Authorization Token"]}


async def test_request_too_large_row(api, settings):
    settings.REQUEST_MAX_BYTES = 100
    response = await api.post("/app/credentials/", {"events": [], "pad": "x" * 200}, content_type="application/json")
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"


async def test_nan_in_the_issue_commitment_message_is_a_400(api, signers, registered_provider, blob, vaccination_results):
    prepared = (await api.post("/app/prepare_issue/")).json()
    icm = base64.b64encode(b'{"n_2": NaN, "combinedProofs": [Infinity]}').decode()
    response = await api.post(
        "/app/credentials/",
        {"events": [blob(vaccination_results)], "stoken": prepared["stoken"], "issueCommitmentMessage": icm},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_issue_commitment_message"
