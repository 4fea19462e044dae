"""Verification of domestic `NL2:`/`NL3:` QR codes (signers.md §2.4, §2.7), as the genuine verifier does it.

Two layers, after the upstream code:

- `verify_qr` (the idemix library's verifier): the `NL` + version character + `:` prefix, the
  radix-45 and DER decoding, the metadata attribute (credential version and issuer key id, resolved
  through a key-id → public key map), and the disclosure proof against the time-based challenge;
- `verify` (the mobile core's domestic verification): the proof-identifier deny list, validity
  (`validFrom` ≤ now < `validFrom` + `validForHours` hours), the QR's age (|now − disclosure time| ≤
  `qrValidForSeconds`, paper proofs exempt), and the 1G/3G policy; any other policy is refused.

The genuine verifier (mobile-core v0.4.5, and later) reads `maxValidityHours` and
`clockDeviationThresholdSeconds` from its configuration but does not apply them to a domestic QR
(the app uses them for display and for warning about the device clock); `VerifierConfig` carries
them so that callers can, and `verify` does not apply them, which is what keeps the real vectors'
results exact. The clock is always a parameter.
"""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from idemix.encoding import (
    ATTRIBUTE_NAMES,
    PROOF_VERSION_V2,
    PROOF_VERSION_V3,
    EncodingError,
    SerializedProof,
    decode_attribute_int,
    decode_metadata_attribute,
    dutch_base45_decode,
    proof_identifier,
    split_qr,
    time_based_challenge,
)
from idemix.keys import PublicKey
from idemix.proofs import ProofD, verify_proof_d

POLICY_1G = "1G"
POLICY_3G = "3G"
#: The upstream API's policy codes, accepted as aliases.
POLICY_ALIASES = {"1": POLICY_1G, "3": POLICY_3G, POLICY_1G: POLICY_1G, POLICY_3G: POLICY_3G}
CATEGORY_1G = "1"

_GO_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class VerificationError(Exception):
    """A QR that does not verify; the text follows the Go verifier's."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True, slots=True)
class VerifierConfig:
    qr_valid_for_seconds: int = 60
    clock_deviation_threshold_seconds: int = 30
    max_validity_hours: int | None = None
    proof_identifier_denylist: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VerifierConfig:
        """From the upstream configuration keys; the deny list may be a list or a {id: bool} map."""
        denylist = data.get("proofIdentifierDenylist") or ()
        if isinstance(denylist, Mapping):
            denied: Iterable[str] = (key for key, value in denylist.items() if value)
        else:
            denied = denylist
        return cls(
            qr_valid_for_seconds=int(data.get("qrValidForSeconds", 60)),
            clock_deviation_threshold_seconds=int(data.get("clockDeviationThresholdSeconds", 30)),
            max_validity_hours=int(data["maxValidityHours"]) if data.get("maxValidityHours") is not None else None,
            proof_identifier_denylist=frozenset(denied),
        )


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    attributes: dict[str, str]
    disclosure_time: int
    issuer_pk_id: str
    credential_version: int
    proof_identifier: bytes

    @property
    def proof_identifier_b64(self) -> str:
        return base64.b64encode(self.proof_identifier).decode("ascii")


class VerificationStatus(enum.IntEnum):
    """The mobile core's result codes."""

    SUCCESS = 1
    FAILED_UNRECOGNIZED_PREFIX = 2
    FAILED_IS_NL_DCC = 3
    FAILED_ERROR = 4


@dataclass(frozen=True, slots=True)
class VerificationResult:
    status: VerificationStatus
    details: dict[str, str] | None = None
    error: str = ""
    credential: VerifiedCredential | None = None

    @property
    def ok(self) -> bool:
        return self.status == VerificationStatus.SUCCESS


# --------------------------------------------------------------------------------------------
# The proof


def _metadata(value: int) -> tuple[int, str, tuple[str, ...]]:
    try:
        version, issuer_pk_id = decode_metadata_attribute(decode_attribute_int(value))
    except EncodingError as error:
        raise VerificationError(str(error)) from error
    names = ATTRIBUTE_NAMES.get(version)
    if names is None:
        raise VerificationError("Credential version is not supported")
    return version, issuer_pk_id, names


def _verify_serialized(proof: SerializedProof, keys: Mapping[str, PublicKey]) -> VerifiedCredential:
    disclosed_amount = len(proof.a_disclosed)
    hidden_amount = len(proof.a_responses)
    if disclosed_amount < 1:
        raise VerificationError("The metadata attribute must be disclosed")
    version, issuer_pk_id, names = _metadata(proof.a_disclosed[0])
    if (disclosed_amount - 1) + (hidden_amount - 1) != len(names):
        raise VerificationError("Invalid amount of disclosures")
    if hidden_amount < 1 or hidden_amount > 2:
        raise VerificationError("Invalid amount of hidden attributes")

    responses = {0: proof.a_responses[0]}
    for offset, response in enumerate(proof.a_responses[1:]):
        responses[1 + disclosed_amount + offset] = response
    disclosed = {1 + offset: value for offset, value in enumerate(proof.a_disclosed)}
    proof_d = ProofD(
        c=proof.c,
        a=proof.a,
        e_response=proof.e_response,
        v_response=proof.v_response,
        a_responses=responses,
        a_disclosed=disclosed,
    )

    key = keys.get(issuer_pk_id)
    if key is None:
        raise VerificationError(f"Could not find public key for kid {issuer_pk_id}")
    if not verify_proof_d(key, proof_d, time_based_challenge(proof.disclosure_time)):
        raise VerificationError("Invalid proof")

    attributes = {
        names[index - 2]: decode_attribute_int(value).decode("utf-8", errors="replace")
        for index, value in disclosed.items()
        if index != 1
    }
    return VerifiedCredential(
        attributes=attributes,
        disclosure_time=proof.disclosure_time,
        issuer_pk_id=issuer_pk_id,
        credential_version=version,
        proof_identifier=proof_identifier(proof.c),
    )


def decode_qr(qr: str | bytes) -> tuple[str, SerializedProof]:
    """(version character, parsed proof) of a QR, without verifying anything."""
    try:
        version, payload = split_qr(qr)
    except EncodingError as error:
        raise VerificationError(str(error)) from error
    if version not in (PROOF_VERSION_V2, PROOF_VERSION_V3):
        raise VerificationError("Unsupported proof version")
    try:
        proof_der = dutch_base45_decode(payload)
    except EncodingError as error:
        raise VerificationError("Could not base45 decode v2 proof") from error
    try:
        return version, SerializedProof.from_der(proof_der, version)
    except EncodingError as error:
        raise VerificationError(str(error)) from error


def qr_issuer_pk_id(qr: str | bytes) -> str:
    """The issuer key id a QR's metadata attribute names, without verifying anything (to pick
    the key to verify with, e.g. when one key is known under whatever id the signer uses)."""
    _version, proof = decode_qr(qr)
    if not proof.a_disclosed:
        raise VerificationError("Could not read metadata attribute")
    return _metadata(proof.a_disclosed[0])[1]


def verify_qr(qr: str | bytes, keys: Mapping[str, PublicKey]) -> VerifiedCredential:
    """The cryptographic verification of an `NL2:`/`NL3:` QR (the idemix verifier)."""
    _version, proof = decode_qr(qr)
    try:
        return _verify_serialized(proof, keys)
    except VerificationError as error:
        raise VerificationError(f"Could not verify proof: {error.text}") from error


# --------------------------------------------------------------------------------------------
# The rules


def _parse_go_int(text: str | None, what: str) -> int:
    value = text if text is not None else ""
    if not _GO_INT.fullmatch(value):
        raise VerificationError(f'Could not parse {what} as int: strconv.ParseInt: parsing "{value}": invalid syntax')
    number = int(value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise VerificationError(f'Could not parse {what} as int: strconv.ParseInt: parsing "{value}": value out of range')
    return number


def _wrap_int64(value: int) -> int:
    return (value + 2**63) % 2**64 - 2**63


def check_validity(attributes: Mapping[str, str], now: int) -> None:
    valid_from = _parse_go_int(attributes.get("validFrom"), "validFrom")
    valid_for_hours = _parse_go_int(attributes.get("validForHours"), "validForHours")
    if now < valid_from:
        raise VerificationError("The credential is not yet valid")
    if now >= _wrap_int64(valid_from + _wrap_int64(valid_for_hours * 3600)):
        raise VerificationError("The credential is not valid anymore")


def check_freshness(disclosure_time: int, is_paper_proof: str | None, config: VerifierConfig, now: int) -> None:
    if is_paper_proof == "1":
        return
    if abs(float(now) - float(disclosure_time)) > float(config.qr_valid_for_seconds):
        raise VerificationError("The credential has been generated too long ago, or clock skew is too large")


def check_policy(policy: str, attributes: Mapping[str, str]) -> None:
    if policy == POLICY_3G:
        return
    if policy != POLICY_1G:
        raise VerificationError("Unrecognized verification policy was given")
    if attributes.get("category") != CATEGORY_1G:
        raise VerificationError("The credential did not contain the required 1G attribute")


def verify(qr: str | bytes, policy: str, keys: Mapping[str, PublicKey], config: VerifierConfig, now: int) -> VerificationResult:
    """The domestic verification of the mobile core, at unix time `now`, under policy 1G or 3G."""
    normalised = POLICY_ALIASES.get(policy)
    if normalised is None:
        return VerificationResult(VerificationStatus.FAILED_ERROR, error="Unrecognized policy was provided")
    credential: VerifiedCredential | None = None
    try:
        credential = verify_qr(qr, keys)
        if credential.proof_identifier_b64 in config.proof_identifier_denylist:
            raise VerificationError("The credential identifier was present in the proof identifier denylist")
        attributes = credential.attributes
        check_validity(attributes, now)
        check_freshness(credential.disclosure_time, attributes.get("isPaperProof"), config, now)
        check_policy(normalised, attributes)
    except VerificationError as error:
        return VerificationResult(VerificationStatus.FAILED_ERROR, error=error.text, credential=credential)
    details = {
        "credentialVersion": str(credential.credential_version),
        "isSpecimen": attributes.get("isSpecimen", ""),
        "issuerCountryCode": "NL",
        "firstNameInitial": attributes.get("firstNameInitial", ""),
        "lastNameInitial": attributes.get("lastNameInitial", ""),
        "birthDay": attributes.get("birthDay", ""),
        "birthMonth": attributes.get("birthMonth", ""),
    }
    return VerificationResult(VerificationStatus.SUCCESS, details=details, credential=credential)
