"""The domestic signer stand-in over real HTTP on loopback (signers.md §2.1–§2.7)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from asn1crypto import core

from devtools.reference.gabi import decode_big_int, dutch_base45_decode
from devtools.tests.reference.conftest import REFERENCE_DIR

JSON = {"Content-Type": "application/json"}


def attributes(**overrides) -> dict:
    values = {
        "isSpecimen": "0",
        "isPaperProof": "0",
        "validFrom": "1622505600",
        "validForHours": "24",
        "firstNameInitial": "A",
        "lastNameInitial": "",
        "birthDay": "1",
        "birthMonth": "",
    }
    return {**values, **overrides}


@pytest.fixture(scope="module")
def commitment_message() -> dict:
    """The real (1024-bit, structural-only) issue-commitment message of reference/events/."""
    text = Path(REFERENCE_DIR / "events" / "issue-commitment-message").read_text().strip()
    return json.loads(base64.b64decode(text))


def post(signers, path: str, body, headers=JSON) -> httpx.Response:
    return httpx.post(f"{signers.domestic_url}{path}", content=json.dumps(body), headers=headers)


def prepare(signers, amount: int = 3) -> dict:
    response = post(signers, "/prepare_issue", {"credentialAmount": amount})
    assert response.status_code == 200
    return response.json()


def test_prepare_issue_shape(signers):
    response = post(signers, "/prepare_issue", {"credentialAmount": 28, "keyIdentifier": "TST-KEY-01"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Stand-In"] == "not-cryptographically-valid"
    body = response.json()
    assert body["issuerPkId"] == "TST-KEY-01" and body["credentialAmount"] == 28
    assert 0 < decode_big_int(body["issuerNonce"]) < 2**128


def test_issue_shape_and_attribute_encoding(signers, commitment_message):
    maps = [attributes(validFrom=str(1622505600 + 86400 * day)) for day in range(3)]
    response = post(
        signers,
        "/issue",
        {
            "prepareIssueMessage": prepare(signers),
            "issueCommitmentMessage": commitment_message,
            "credentialsAttributes": maps,
            "credentialVersion": 2,
        },
    )
    assert response.status_code == 200, response.text
    messages = response.json()
    assert len(messages) == 3
    for message, values in zip(messages, maps, strict=True):
        signature = message["issueSignatureMessage"]
        assert set(signature) == {"proof", "signature"}
        assert set(signature["signature"]) == {"A", "e", "v", "KeyshareP"} and signature["signature"]["KeyshareP"] is None
        assert all(decode_big_int(signature["signature"][name]) > 0 for name in ("A", "e", "v"))
        decoded = [base64.b64decode(value) for value in message["attributes"]]
        metadata = core.Sequence.load(decoded[0])
        assert metadata[0].native == b"\x02" and metadata[1].native == "TST-KEY-01"
        assert decoded[0] == bytes.fromhex("300f040102130a") + b"TST-KEY-01"
        assert [value.decode() for value in decoded[1:]] == [
            values[name]
            for name in (
                "isSpecimen",
                "isPaperProof",
                "validFrom",
                "validForHours",
                "firstNameInitial",
                "lastNameInitial",
                "birthDay",
                "birthMonth",
            )
        ]


def test_issue_2021_shape_defaults_to_version_2(signers, commitment_message):
    response = post(
        signers,
        "/issue",
        {
            "prepareIssueMessage": prepare(signers),
            "issueCommitmentMessage": commitment_message,
            "credentialsAttributes": [attributes()],
        },
    )
    assert response.status_code == 200
    assert base64.b64decode(response.json()[0]["attributes"][0])[4] == 2


def test_version_3_needs_category(signers, commitment_message):
    body = {
        "prepareIssueMessage": prepare(signers),
        "issueCommitmentMessage": commitment_message,
        "credentialsAttributes": [attributes()],
        "credentialVersion": 3,
    }
    response = post(signers, "/issue", body)
    assert response.status_code == 500
    assert response.text == "Required attribute category was not supplied\n"
    body["credentialsAttributes"] = [attributes(category="2")]
    response = post(signers, "/issue", body)
    assert response.status_code == 200
    assert base64.b64decode(response.json()[0]["attributes"][-1]) == b"2"


def test_unknown_attribute_for_version_2_is_500(signers, commitment_message):
    response = post(
        signers,
        "/issue",
        {
            "prepareIssueMessage": prepare(signers),
            "issueCommitmentMessage": commitment_message,
            "credentialsAttributes": [attributes(category="2")],
            "credentialVersion": 2,
        },
    )
    assert response.status_code == 500


def test_too_few_commitments_is_500(signers, commitment_message):
    few = {**commitment_message, "combinedProofs": commitment_message["combinedProofs"][:2]}
    response = post(
        signers,
        "/issue",
        {"prepareIssueMessage": prepare(signers), "issueCommitmentMessage": few, "credentialsAttributes": [attributes()] * 3},
    )
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("Could not issue credentials: ") and response.text.endswith("\n")


def test_wrong_issuer_pk_id_is_500(signers, commitment_message):
    message = {**prepare(signers), "issuerPkId": "OTHER-KEY"}
    response = post(
        signers,
        "/issue",
        {"prepareIssueMessage": message, "issueCommitmentMessage": commitment_message, "credentialsAttributes": [attributes()]},
    )
    assert response.status_code == 500


def test_unknown_key_identifier_is_500(signers):
    assert post(signers, "/prepare_issue", {"credentialAmount": 1, "keyIdentifier": "NOPE"}).status_code == 500


def test_unsupported_credential_version_is_500(signers, commitment_message):
    response = post(
        signers,
        "/issue",
        {
            "prepareIssueMessage": prepare(signers),
            "issueCommitmentMessage": commitment_message,
            "credentialsAttributes": [attributes()],
            "credentialVersion": 4,
        },
    )
    assert response.status_code == 500


def test_missing_field_is_400(signers, commitment_message):
    response = post(signers, "/issue", {"prepareIssueMessage": prepare(signers), "issueCommitmentMessage": commitment_message})
    assert response.status_code == 400
    assert response.text == "A required field of issue message is missing\n"


@pytest.mark.parametrize("path", ["/prepare_issue", "/issue", "/issue_static"])
def test_content_type_must_be_exact(signers, path):
    response = post(signers, path, {"credentialAmount": 1}, headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 400
    assert response.text == "Expect application/json Content-Type\n"
    assert response.headers["X-Stand-In"] == "not-cryptographically-valid"


@pytest.mark.parametrize("path", ["/prepare_issue", "/issue", "/issue_static"])
def test_only_post_is_allowed(signers, path):
    response = httpx.get(f"{signers.domestic_url}{path}", headers=JSON)
    assert response.status_code == 405
    assert response.text == "Expected POST method\n"


@pytest.mark.parametrize("path", ["/prepare_issue", "/issue", "/issue_static"])
def test_bad_json_is_400(signers, path):
    response = httpx.post(f"{signers.domestic_url}{path}", content=b"{oops", headers=JSON)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")


def test_wrong_json_types_are_400(signers):
    assert post(signers, "/prepare_issue", {"credentialAmount": "34"}).status_code == 400


def test_issue_static_shape(signers):
    response = post(
        signers,
        "/issue_static",
        {"credentialAttributes": attributes(isPaperProof="1"), "credentialVersion": 2, "keyIdentifier": "TST-KEY-01"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["qr"].startswith("NL2:")
    proof = core.Sequence.load(dutch_base45_decode(body["qr"][4:]))
    assert proof.dump() == dutch_base45_decode(body["qr"][4:])
    assert len(base64.b64decode(body["proofIdentifier"])) == 16


def test_issue_static_2021_shape(signers):
    response = post(signers, "/issue_static", {"credentialAttributes": attributes(isPaperProof="1")})
    assert response.status_code == 200
    assert response.json()["qr"].startswith("NL2:")


def test_stats_accepts_any_method(signers):
    for method in ("GET", "POST"):
        response = httpx.request(method, f"{signers.domestic_url}/stats")
        assert response.status_code == 200
        assert {"Name", "Size", "Index", "Hwm", "Lwm", "Depleted", "Depletions", "BitStart", "BitLength"} <= set(response.json())
