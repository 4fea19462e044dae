"""Domestic signer stand-in: API-faithful, NOT cryptographically valid (signers.md §2.1–§2.7).

THIS STAND-IN DOES NOT PRODUCE CRYPTOGRAPHICALLY VALID IDEMIX CREDENTIALS. It speaks the wire
protocol of the Go Idemix signer exactly (methods, the exact `Content-Type: application/json`
check, status codes, text/plain error bodies with the Go error text and a newline, gabi's base64
big integers, the 2021 and 2022 request shapes, structural validation and the real attribute
encoding), but every signature, proof and the static QR's proof are random placeholders that no
Idemix verifier will accept. Every response carries the header
`X-Stand-In: not-cryptographically-valid`.

Routes: `POST /prepare_issue`, `POST /issue`, `POST /issue_static`, `/stats` (any method).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from typing import Any, ClassVar

from aiohttp import web
from asn1crypto import core

from devtools.reference.faults import (
    SignerBehaviour,
    add_behaviour_control,
    behaviour_middleware,
)
from devtools.reference.gabi import (
    ATTRIBUTE_NAMES,
    GabiDecodeError,
    attribute_int,
    credential_attributes,
    decode_big_int,
    dutch_base45_encode,
    encode_big_int,
)

STAND_IN_HEADER = ("X-Stand-In", "not-cryptographically-valid")
DEFAULT_ISSUER_PK_ID = "TST-KEY-01"
DEFAULT_CREDENTIAL_VERSION = 2
NONCE_BITS = 128  # Lstatzk of the 2048-bit system parameters
SIGNING_PATHS = ("/prepare_issue", "/issue", "/issue_static")

CONFIG = web.AppKey("config", dict)

RandomBytes = Callable[[int], bytes]


class SignerFailure(Exception):
    """An error answered as text/plain with `status` (400 bad request body, 500 issuance failure)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class StaticProof(core.Sequence):
    """Placeholder with the outline of a disclosure proof: time, random numbers, disclosed attributes."""

    _fields: ClassVar = [
        ("disclosure_time_seconds", core.Integer),
        ("c", core.Integer),
        ("a", core.Integer),
        ("e_response", core.Integer),
        ("v_response", core.Integer),
        ("a_response", core.Integer),
        ("a_disclosed", core.SequenceOf, {"spec": core.Integer}),
    ]


def _random_int(random: RandomBytes, bits: int) -> int:
    return int.from_bytes(random((bits + 7) // 8), "big") | (1 << (bits - 1))


def _parse_json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise SignerFailure(400, f"Could not JSON unmarshal {what}: {error}") from error
    if not isinstance(value, dict):
        raise SignerFailure(400, f"Could not JSON unmarshal {what}: json: cannot unmarshal into an object")
    return value


def _credential_version(request: dict[str, Any], what: str) -> int:
    """`credentialVersion`: absent → 2 (the 2021 shape, §2.6); 2 or 3 otherwise."""
    version = request.get("credentialVersion")
    if version is None:
        return DEFAULT_CREDENTIAL_VERSION
    if not isinstance(version, int) or isinstance(version, bool):
        raise SignerFailure(400, f"Could not JSON unmarshal {what}: credentialVersion is not an integer")
    if version not in ATTRIBUTE_NAMES:
        raise SignerFailure(500, "credential version not supported")
    return version


def _check_key_identifier(request: dict[str, Any], issuer_pk_id: str) -> None:
    """`keyIdentifier` (2022 shape), when sent, must name the configured key (§2.6)."""
    key_identifier = request.get("keyIdentifier")
    if key_identifier not in (None, "", issuer_pk_id):
        raise SignerFailure(500, "Could not find key with the specified identifier")


def _attribute_values(attributes: Any, version: int, what: str) -> dict[str, str]:
    """One attribute map: every value a string, every name of the version present, no others."""
    if not isinstance(attributes, dict) or not all(isinstance(value, str) for value in attributes.values()):
        raise SignerFailure(400, f"Could not JSON unmarshal {what}: attributes must be a map of strings")
    names = ATTRIBUTE_NAMES[version]
    for name in names:
        if name not in attributes:
            raise SignerFailure(500, f"Required attribute {name} was not supplied")
    for name in attributes:
        if name not in names:
            raise SignerFailure(500, f"Unknown attribute {name} for credential version {version}")
    return attributes


def prepare_issue_message(request: dict[str, Any], *, issuer_pk_id: str, random: RandomBytes) -> dict[str, Any]:
    """`/prepare_issue` (§2.2): the configured key id, a fresh 128-bit nonce, the echoed amount."""
    amount = request.get("credentialAmount", 0)
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise SignerFailure(400, "Could not JSON unmarshal prepare issue request: credentialAmount is not an integer")
    _check_key_identifier(request, issuer_pk_id)
    nonce = int.from_bytes(random(NONCE_BITS // 8), "big")
    return {"issuerPkId": issuer_pk_id, "issuerNonce": encode_big_int(nonce), "credentialAmount": amount}


def create_credential_messages(request: dict[str, Any], *, issuer_pk_id: str, random: RandomBytes) -> list[dict]:
    """`/issue` (§2.3): structural checks, then one placeholder signature per attribute map."""
    what = "issue message"
    prepare, commitments = request.get("prepareIssueMessage"), request.get("issueCommitmentMessage")
    attribute_maps = request.get("credentialsAttributes")
    if prepare is None or commitments is None or attribute_maps is None:
        raise SignerFailure(400, "A required field of issue message is missing")
    if not isinstance(prepare, dict) or not isinstance(commitments, dict) or not isinstance(attribute_maps, list):
        raise SignerFailure(400, f"Could not JSON unmarshal {what}: wrong field types")
    version = _credential_version(request, what)
    _check_key_identifier(request, issuer_pk_id)
    proofs = commitments.get("combinedProofs")
    try:
        decode_big_int(prepare.get("issuerNonce"))
        decode_big_int(commitments.get("n_2"))
        for proof in proofs if isinstance(proofs, list) else []:
            for value in proof.values() if isinstance(proof, dict) else []:
                decode_big_int(value)
    except GabiDecodeError as error:
        raise SignerFailure(400, f"Could not JSON unmarshal {what}: {error}") from error
    values = [_attribute_values(attributes, version, what) for attributes in attribute_maps]
    failure = "Could not issue credentials: "
    if prepare.get("issuerPkId") != issuer_pk_id:
        raise SignerFailure(500, failure + "The issuerPkId of the prepare issue message does not match the key")
    if not isinstance(proofs, list) or len(proofs) < len(values):
        raise SignerFailure(500, failure + "The amount of commitments is less than the amount of credentials")
    for proof in proofs[: len(values)]:
        if not isinstance(proof, dict) or "U" not in proof:
            raise SignerFailure(500, failure + "Could not recognize issue commitment")
    return [_create_credential_message(version, issuer_pk_id, attributes, random) for attributes in values]


def _create_credential_message(version: int, issuer_pk_id: str, values: dict[str, str], random: RandomBytes) -> dict:
    attributes = credential_attributes(version, issuer_pk_id, values)
    return {
        "issueSignatureMessage": {
            "proof": {"c": encode_big_int(_random_int(random, 256)), "e_response": encode_big_int(_random_int(random, 2048))},
            "signature": {
                "A": encode_big_int(_random_int(random, 2048)),
                "e": encode_big_int(_random_int(random, 597)),
                "v": encode_big_int(_random_int(random, 1700)),
                "KeyshareP": None,
            },
        },
        "attributes": [_b64(value) for value in attributes],
    }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def static_proof(request: dict[str, Any], *, issuer_pk_id: str, random: RandomBytes) -> dict[str, Any]:
    """`/issue_static` (§2.4): `{"qr": "NL<version>:<NL base45 of a DER blob>", "proofIdentifier"}`."""
    what = "static issue message"
    attributes = request.get("credentialAttributes")
    if attributes is None:
        raise SignerFailure(400, "A required field of static issue message is missing")
    version = _credential_version(request, what)
    _check_key_identifier(request, issuer_pk_id)
    values = _attribute_values(attributes, version, what)
    disclosed = [attribute_int(value) for value in credential_attributes(version, issuer_pk_id, values)]
    proof = StaticProof(
        {
            "disclosure_time_seconds": 0,
            "c": _random_int(random, 256),
            "a": _random_int(random, 2048),
            "e_response": _random_int(random, 2048),
            "v_response": _random_int(random, 2048),
            "a_response": _random_int(random, 2048),
            "a_disclosed": disclosed,
        }
    ).dump()
    return {"qr": f"NL{version}:" + dutch_base45_encode(proof), "proofIdentifier": _b64(random(16))}


def structural_issue_commitment_message(amount: int) -> str:
    """Base64 of an issue commitment message with the structure this stand-in checks (`n_2` and
    `amount` combined proofs) and random numbers in place of real proofs: for the demo, the tests
    and the benchmarks, which have no Idemix holder core."""
    number = _b64(secrets.token_bytes(32))
    proofs = [{"U": number, "c": number, "v_prime_response": number, "s_response": number} for _ in range(amount)]
    return _b64(json.dumps({"n_2": number, "combinedProofs": proofs}).encode())


def stats_document() -> dict[str, Any]:
    """`/stats` (§2.5): the outline of the Go signer's in-memory prime pool statistics."""
    return {
        "Name": "stand-in",
        "Size": 0,
        "Index": 0,
        "Hwm": 0,
        "Lwm": 0,
        "Depleted": False,
        "Depletions": 0,
        "BitStart": 0,
        "BitLength": 0,
    }


def _text_error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=message + "\n",
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _json_post(operation: Callable[..., Any], what: str) -> Callable:
    """POST only (405), `Content-Type` exactly `application/json` (400), then the operation."""

    async def handler(request: web.Request) -> web.Response:
        if request.method != "POST":
            return _text_error(405, "Expected POST method")
        if request.headers.get("Content-Type") != "application/json":
            return _text_error(400, "Expect application/json Content-Type")
        config = request.app[CONFIG]
        try:
            body = _parse_json_object(await request.read(), what)
            result = operation(body, issuer_pk_id=config["issuer_pk_id"], random=config["random"])
        except SignerFailure as failure:
            return _text_error(failure.status, str(failure))
        return web.Response(body=json.dumps(result, separators=(",", ":")).encode(), content_type="application/json")

    return handler


async def stats(request: web.Request) -> web.Response:
    return web.json_response(stats_document())


async def _mark_stand_in(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[STAND_IN_HEADER[0]] = STAND_IN_HEADER[1]


def create_domestic_app(
    *,
    issuer_pk_id: str = DEFAULT_ISSUER_PK_ID,
    random: RandomBytes = secrets.token_bytes,
    behaviour: SignerBehaviour | None = None,
    behaviour_control: bool = False,
) -> web.Application:
    """The domestic signer stand-in application (not cryptographically valid, see module docstring)."""
    behaviour = behaviour or SignerBehaviour()
    app = web.Application(middlewares=[behaviour_middleware(behaviour, SIGNING_PATHS)])
    app[CONFIG] = {"issuer_pk_id": issuer_pk_id, "random": random}
    app.on_response_prepare.append(_mark_stand_in)
    app.router.add_route("*", "/prepare_issue", _json_post(prepare_issue_message, "prepare issue request"))
    app.router.add_route("*", "/issue", _json_post(create_credential_messages, "issue message"))
    app.router.add_route("*", "/issue_static", _json_post(static_proof, "static issue message"))
    app.router.add_route("*", "/stats", stats)
    if behaviour_control:
        add_behaviour_control(app, behaviour)
    return app
