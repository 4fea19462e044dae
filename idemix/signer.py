"""The domestic signer's routes at the JSON level (signers.md §2.1–§2.6), without any HTTP.

A server maps each route to one call here: the request body (bytes) in, the response JSON bytes
out, or an `IdemixError` whose `status` (400/500) and `body` (Go error text plus a newline) are
the §2.1 answer. The method and Content-Type checks (405/400) stay in the server. The calls are
CPU-bound (tens to hundreds of milliseconds): run them off the event loop.

Request decoding follows Go's encoding/json where it matters: unknown keys are ignored, key
matching is case-insensitive, `null` leaves a field at its zero value, only the first JSON value
of the body is read, and big integers are base64 strings or decimal numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from idemix import holder
from idemix.encoding import EncodingError, decode_big_int, encode_bytes
from idemix.issuer import (
    DEFAULT_KEY_USAGE,
    BadRequestError,
    IdemixError,
    IssuanceError,
    IssueCommitmentMessage,
    Issuer,
    IssueSpecification,
)
from idemix.proofs import ProofU


def go_json(value: Any) -> bytes:
    """JSON bytes as Go's json.Marshal writes them (compact, HTML characters escaped)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for character, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(character, escape)
    return text.encode("utf-8")


class _Decode(Exception):
    """A decoding failure inside one request (turned into the route's 400)."""


def _load(body: bytes | str) -> Any:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes | bytearray) else body
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        raise _Decode("EOF")
    try:
        value, _end = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError as error:
        raise _Decode(f"invalid character in JSON: {error.msg}") from error
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _field(obj: Mapping[str, Any], name: str) -> Any:
    """Go's key matching: exact first, then case-insensitive."""
    if name in obj:
        return obj[name]
    folded = name.casefold()
    for key, value in obj.items():
        if key.casefold() == folded:
            return value
    return None


def _object(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Decode(f"json: cannot unmarshal {_json_kind(value)} into Go value of type {where}")
    return value


def _int(obj: Mapping[str, Any], struct: str, name: str) -> int:
    value = _field(obj, name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        shown = value if isinstance(value, int | float) and not isinstance(value, bool) else _json_kind(value)
        kind = f"number {shown}" if _json_kind(value) == "number" else _json_kind(value)
        raise _Decode(f"json: cannot unmarshal {kind} into Go struct field {struct}.{name} of type int")
    return int(value)


def _str(obj: Mapping[str, Any], struct: str, name: str, default: str = "") -> str:
    value = _field(obj, name)
    if value is None:  # absent or null: the field keeps its preset value
        return default
    if not isinstance(value, str):
        raise _Decode(f"json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{name} of type string")
    return value


def _string_map(value: Any, struct: str, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Decode(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{name} of type map[string]string"
        )
    result: dict[str, str] = {}
    for key, item in value.items():
        if item is None:
            result[key] = ""
        elif not isinstance(item, str):
            raise _Decode(f"json: cannot unmarshal {_json_kind(item)} into Go struct field {struct}.{name} of type string")
        else:
            result[key] = item
    return result


def _big(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return decode_big_int(value)
    except EncodingError as error:
        raise _Decode(str(error)) from error


def _proof(value: Any) -> ProofU | None | bool:
    """A ProofU, None for a disclosure proof (refused later), False for a ProofU with gaps."""
    obj = _object(value, "gabi.Proof")
    if obj is None:
        raise _Decode("Unknown proof type found in ProofList")
    if _big(_field(obj, "A")) is not None:
        return None
    u = _big(_field(obj, "U"))
    if u is None:
        raise _Decode("Unknown proof type found in ProofList")
    c = _big(_field(obj, "c"))
    v_prime_response = _big(_field(obj, "v_prime_response"))
    s_response = _big(_field(obj, "s_response"))
    responses_json = _field(obj, "m_user_responses") or {}
    if not isinstance(responses_json, dict):
        raise _Decode("json: cannot unmarshal m_user_responses")
    responses: dict[int, int] = {}
    for key, item in responses_json.items():
        try:
            index = int(key)
        except ValueError as error:
            raise _Decode(f"json: invalid map key {key!r}") from error
        number = _big(item)
        if number is not None:
            responses[index] = number
    if c is None or v_prime_response is None or s_response is None:
        return False
    return ProofU(u=u, c=c, v_prime_response=v_prime_response, s_response=s_response, m_user_responses=responses)


@dataclass
class Signer:
    """The routes of the domestic signer around one `Issuer`.

    `static_key_usage`: the key usage `/issue_static` assumes when a request names neither a key
    identifier nor a usage. Empty (the default) is the May 2022 signer, which refuses such a
    request; a usage (e.g. "static", registered in the issuer's `usages`) gives the June 2021
    shape `{credentialAttributes}` the single-key behaviour of the 2021 signer (§2.6).
    """

    issuer: Issuer
    static_key_usage: str = ""

    def prepare_issue(self, body: bytes | str) -> bytes:
        """POST /prepare_issue."""
        try:
            request = _object(_load(body), "issuer.PrepareIssueRequestMessage") or {}
            amount = _int(request, "PrepareIssueRequestMessage", "credentialAmount")
            key_identifier = _str(request, "PrepareIssueRequestMessage", "keyIdentifier")
            key_usage = _str(request, "PrepareIssueRequestMessage", "keyUsage", DEFAULT_KEY_USAGE)
        except _Decode as error:
            raise BadRequestError(f"Could not JSON unmarshal prepare issue request: {error}") from error
        specification = self.issuer.prepare_issue(amount, key_identifier, key_usage)
        return go_json(specification.to_json())

    def issue(self, body: bytes | str) -> bytes:
        """POST /issue."""
        prefix = "Could not JSON unmarshal issue message"
        try:
            request = _object(_load(body), "issuer.IssueMessage") or {}
            prepare = _object(_field(request, "prepareIssueMessage"), "common.IssueSpecificationMessage")
            commitment = _object(_field(request, "issueCommitmentMessage"), "gabi.IssueCommitmentMessage")
            attributes_json = _field(request, "credentialsAttributes")
            if attributes_json is not None and not isinstance(attributes_json, list):
                raise _Decode(
                    f"json: cannot unmarshal {_json_kind(attributes_json)} into Go struct field "
                    "IssueMessage.credentialsAttributes of type []map[string]string"
                )
            attribute_maps = [_string_map(item, "IssueMessage", "credentialsAttributes") for item in (attributes_json or [])]
            version = _int(request, "IssueMessage", "credentialVersion")
            key_identifier = _str(request, "IssueMessage", "keyIdentifier")
            key_usage = _str(request, "IssueMessage", "keyUsage", DEFAULT_KEY_USAGE)
            specification = None
            if prepare is not None:
                nonce = _big(_field(prepare, "issuerNonce"))
                specification = IssueSpecification(
                    issuer_pk_id=_str(prepare, "IssueSpecificationMessage", "issuerPkId"),
                    issuer_nonce=nonce if nonce is not None else -1,
                    credential_amount=_int(prepare, "IssueSpecificationMessage", "credentialAmount"),
                )
            commitments = None
            incomplete = False
            if commitment is not None:
                proofs_json = _field(commitment, "combinedProofs") or []
                if not isinstance(proofs_json, list):
                    raise _Decode("json: cannot unmarshal combinedProofs")
                proofs: list[ProofU | None] = []
                for item in proofs_json:
                    proof = _proof(item)
                    if proof is False:
                        incomplete = True
                        continue
                    proofs.append(proof if isinstance(proof, ProofU) else None)
                nonce2 = _big(_field(commitment, "n_2"))
                incomplete = incomplete or nonce2 is None
                commitments = IssueCommitmentMessage(nonce2=nonce2 or 0, proofs=tuple(proofs))
        except _Decode as error:
            raise BadRequestError(f"{prefix}: {error}") from error
        if (
            attributes_json is None
            or commitments is None
            or specification is None
            or (not key_usage and not key_identifier)
            or incomplete
            or specification.issuer_nonce < 0
        ):
            # Go would dereference a nil big integer for the last three; refused as missing here.
            raise BadRequestError("A required field of issue message is missing")
        try:
            messages = self.issuer.issue(specification, commitments, attribute_maps, version, key_identifier, key_usage)
        except IdemixError as error:
            raise IssuanceError(f"Could not issue credentials: {error.text}") from error
        return go_json([message.to_json() for message in messages])

    def issue_static(self, body: bytes | str) -> bytes:
        """POST /issue_static."""
        try:
            request = _object(_load(body), "issuer.StaticIssueMessage") or {}
            attributes = _string_map(_field(request, "credentialAttributes"), "StaticIssueMessage", "credentialAttributes")
            version = _int(request, "StaticIssueMessage", "credentialVersion")
            key_identifier = _str(request, "StaticIssueMessage", "keyIdentifier")
            key_usage = _str(request, "StaticIssueMessage", "keyUsage")
            if not key_identifier and not key_usage:
                key_usage = self.static_key_usage
        except _Decode as error:
            raise BadRequestError(f"Could not JSON unmarshal static issue message: {error}") from error
        try:
            qr, identifier = holder.issue_static(self.issuer, attributes, version, key_identifier, key_usage)
        except IdemixError as error:
            raise IssuanceError(f"Could not issue static proof: {error.text}") from error
        return go_json({"qr": qr, "proofIdentifier": encode_bytes(identifier)})

    def stats(self) -> bytes:
        """GET /stats: the prime pool's figures."""
        return go_json(self.issuer.pool.stats())
