"""The EU signer over real HTTP on loopback (signers.md §3), verified by pycose and by our verifier."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime

import base45
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from devtools.reference.hcert import (
    SPECIMEN_EXPIRATION_TIME,
    dcc_to_cbor_map,
    parse_expiration_time,
)
from devtools.reference.verifier import trust_list_from_public_keys, verify_hc1
from devtools.tests.reference.conftest import (
    SCHEMA_EXAMPLES,
    load_vector,
    vector_id,
    vector_paths,
)
from events.dccschema import is_valid_dcc

EXPIRATION = "2031-12-10T19:20:21+00:00"


def get_credential(signers, body, *, method="POST") -> httpx.Response:
    return httpx.request(
        method, f"{signers.eu_url}/get_credential", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


@pytest.fixture(scope="module")
def public_keys(signers) -> dict:
    response = httpx.get(f"{signers.eu_url}/public_keys")
    assert response.status_code == 200
    return response.json()


def pycose_verifies(credential: str, public_keys: dict) -> bool:
    message = Sign1Message.decode(zlib.decompress(base45.b45decode(credential.removeprefix("HC1:"))))
    kid = base64.b64encode(message.phdr[next(k for k in message.phdr if k.__name__ == "KID")]).decode()
    spki = base64.b64decode(public_keys[kid][0]["subjectPk"])
    numbers = serialization.load_der_public_key(spki).public_numbers()
    message.key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    return message.verify_signature()


def test_public_keys_document_one_key_per_usage(public_keys):
    usages = sorted(entry["keyUsage"][0] for entries in public_keys.values() for entry in entries)
    assert usages == ["r", "t", "v"]
    assert all(len(base64.b64decode(kid)) == 8 for kid in public_keys)


@pytest.mark.parametrize("key_usage, letter", [("vaccination", "v"), ("test", "t"), ("recovery", "r")])
def test_credential_verifies_with_pycose_and_our_verifier(signers, public_keys, vaccination_dcc, key_usage, letter):
    response = get_credential(signers, {"keyUsage": key_usage, "expirationTime": EXPIRATION, "dcc": vaccination_dcc})
    assert response.status_code == 200
    body = response.json()
    assert body["credential"].startswith("HC1:")
    assert len(base64.b64decode(body["proofIdentifier"])) == 16
    assert pycose_verifies(body["credential"], public_keys)
    result = verify_hc1(body["credential"], trust_list=trust_list_from_public_keys(public_keys), clock=datetime.now(UTC))
    assert result.verify and result.decode and result.expiration_check
    assert public_keys[base64.b64encode(result.kid).decode()][0]["keyUsage"] == [letter]
    assert result.expiration == parse_expiration_time(EXPIRATION)
    assert result.issuer == "NL"
    assert result.issued_at <= datetime.now(UTC).timestamp() - 3500
    assert result.dcc == vaccination_dcc


def test_specimen_gets_exp_42(signers, public_keys, vaccination_dcc):
    response = get_credential(
        signers, {"keyUsage": "vaccination", "expirationTime": SPECIMEN_EXPIRATION_TIME, "dcc": vaccination_dcc}
    )
    result = verify_hc1(response.json()["credential"], trust_list=trust_list_from_public_keys(public_keys))
    assert result.verify and result.expiration == 42


def _signable_dccs():
    sources = [(vector_id(path), load_vector(path).get("JSON")) for path in vector_paths()]
    sources += [
        (f"schema-example/{path.name}", json.loads(path.read_text()))
        for path in sorted((SCHEMA_EXAMPLES / "valid").glob("*.json"))
    ]
    for name, dcc in sources:
        if isinstance(dcc, dict) and is_valid_dcc(dcc):
            yield pytest.param(dcc, id=name)


@pytest.mark.parametrize("dcc", list(_signable_dccs()))
def test_conformance_dccs_sign_verify_and_round_trip(signers, public_keys, dcc):
    kind = next(kind for kind in ("v", "t", "r") if dcc.get(kind))
    key_usage = {"v": "vaccination", "t": "test", "r": "recovery"}[kind]
    response = get_credential(signers, {"keyUsage": key_usage, "expirationTime": EXPIRATION, "dcc": dcc})
    assert response.status_code == 200, response.text
    credential = response.json()["credential"]
    result = verify_hc1(credential, trust_list=trust_list_from_public_keys(public_keys), clock=datetime.now(UTC))
    assert result.valid, result.errors
    assert result.key_usage is True
    assert result.dcc == dcc_to_cbor_map(dcc)
    assert pycose_verifies(credential, public_keys)


@pytest.mark.parametrize("path", sorted((SCHEMA_EXAMPLES / "invalid").glob("*.json")), ids=lambda path: path.name)
def test_schema_invalid_dcc_is_refused(signers, path):
    response = get_credential(
        signers, {"keyUsage": "vaccination", "expirationTime": EXPIRATION, "dcc": json.loads(path.read_text())}
    )
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/plain")


def test_birth_year_outside_the_schema_range_is_refused(signers, vaccination_dcc):
    dcc = {**vaccination_dcc, "dob": "1899-12-31"}
    response = get_credential(signers, {"keyUsage": "vaccination", "expirationTime": EXPIRATION, "dcc": dcc})
    assert response.status_code == 500


@pytest.mark.parametrize(
    "body",
    [
        {"keyUsage": "vaccination", "expirationTime": EXPIRATION},
        {"keyUsage": "vaccination", "expirationTime": EXPIRATION, "dgc": {"ver": "1.3.0"}},
        {"keyUsage": "unknown", "expirationTime": EXPIRATION, "dcc": None},
        {"keyUsage": "vaccination", "expirationTime": "10 December 2031", "dcc": None},
        ["not", "an", "object"],
    ],
    ids=["no dcc", "dgc alias", "unknown usage", "bad expiration", "not an object"],
)
def test_every_failure_is_500_text(signers, vaccination_dcc, body):
    if isinstance(body, dict) and "dcc" in body and body["dcc"] is None:
        body = {**body, "dcc": vaccination_dcc}
    response = get_credential(signers, body)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text.endswith("\n")


def test_bad_json_is_500(signers):
    response = httpx.post(f"{signers.eu_url}/get_credential", content=b"{not json")
    assert response.status_code == 500


def test_any_method_is_accepted(signers, vaccination_dcc):
    response = get_credential(signers, {"keyUsage": "test", "expirationTime": EXPIRATION, "dcc": vaccination_dcc}, method="PUT")
    assert response.status_code == 200


def test_health(signers):
    assert httpx.get(f"{signers.eu_url}/health").json() == {"status": "ok"}


def test_a_schema_failure_names_the_place_without_the_value(signers, vaccination_dcc):
    dcc = {**vaccination_dcc, "dob": "1899-12-31"}
    response = get_credential(signers, {"keyUsage": "vaccination", "expirationTime": EXPIRATION, "dcc": dcc})
    assert response.status_code == 500  # the real signer's error shape (signers.md §3.1)
    assert response.text.startswith("Could not issue credential: The DCC does not validate against schema 1.3.0: dob fails")
    assert "1899" not in response.text
