"""Our own HC1 decoder and verifier, for checking what an EU signer returns (signers.md §3.3).

Each step of the chain (prefix, base45, zlib, COSE/CWT decoding, signature, validity window,
schema, key usage) records its outcome in a `VerificationResult` whose flags are named after the
`EXPECTEDRESULTS` keys of the EU conformance vectors (reference/dgc-testdata/README.md). A step
that cannot run because an earlier one failed is recorded as failed; a step that was not asked
for (no clock, no trust list) stays `None`.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import base45
import cbor2
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from devtools.reference.hcert import (
    COSE_ALG_ES256,
    COSE_HEADER_ALG,
    COSE_HEADER_KID,
    COSE_SIGN1_TAG,
    CWT_EXP,
    CWT_HCERT,
    CWT_IAT,
    CWT_ISS,
    CWT_TAG,
    HC1_PREFIX,
    kid_of,
    sig_structure,
)
from events.dccschema import is_valid_dcc

COSE_ALG_PS256 = -37

# Extended-key-usage OIDs of a DSC per entry kind. The EU conformance vectors use the variant
# with an extra ".0" arc; both are accepted.
_KEY_USAGE_OIDS = {
    "t": ("1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"),
    "v": ("1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"),
    "r": ("1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"),
}
ALL_KEY_USAGES = frozenset(_KEY_USAGE_OIDS)


class DecodeError(ValueError):
    """One step of the HC1 chain failed."""


@dataclass(frozen=True)
class TrustedKey:
    """A verification key and the entry kinds (`v`, `t`, `r`) it may sign."""

    public_key: Any
    key_usage: frozenset[str] = ALL_KEY_USAGES


@dataclass(frozen=True)
class CoseSign1:
    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    @property
    def kid(self) -> bytes | None:
        """The kid from the protected header, else from the unprotected one."""
        for header in (self.protected, self.unprotected):
            if COSE_HEADER_KID in header:
                value = header[COSE_HEADER_KID]
                return value if isinstance(value, bytes) else None
        return None

    @property
    def alg(self) -> int | None:
        for header in (self.protected, self.unprotected):
            if COSE_HEADER_ALG in header:
                return header[COSE_HEADER_ALG]
        return None


@dataclass
class VerificationResult:
    unprefix: bool | None = None
    b45decode: bool | None = None
    compression: bool | None = None
    decode: bool | None = None
    verify: bool | None = None
    expiration_check: bool | None = None
    schema_validation: bool | None = None
    key_usage: bool | None = None
    compressed: bytes | None = None
    cose: bytes | None = None
    message: CoseSign1 | None = None
    claims: dict[int, Any] | None = None
    dcc: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    def expected_results(self) -> dict[str, bool]:
        """The evaluated steps under the conformance vectors' flag names."""
        names = {
            "EXPECTEDUNPREFIX": self.unprefix,
            "EXPECTEDB45DECODE": self.b45decode,
            "EXPECTEDCOMPRESSION": self.compression,
            "EXPECTEDDECODE": self.decode,
            "EXPECTEDVERIFY": self.verify,
            "EXPECTEDEXPIRATIONCHECK": self.expiration_check,
            "EXPECTEDSCHEMAVALIDATION": self.schema_validation,
            "EXPECTEDKEYUSAGE": self.key_usage,
        }
        return {name: value for name, value in names.items() if value is not None}

    @property
    def valid(self) -> bool:
        """Every evaluated step succeeded."""
        return all(self.expected_results().values())

    @property
    def kid(self) -> bytes | None:
        return self.message.kid if self.message else None

    @property
    def issuer(self) -> str | None:
        return self.claims.get(CWT_ISS) if self.claims else None

    @property
    def issued_at(self) -> int | None:
        return self.claims.get(CWT_IAT) if self.claims else None

    @property
    def expiration(self) -> int | None:
        return self.claims.get(CWT_EXP) if self.claims else None


def trusted_key_from_certificate(certificate: x509.Certificate) -> TrustedKey:
    """A DSC's key, with the entry kinds allowed by its extended key usage (none listed = all)."""
    oids = extended_key_usage_oids(certificate.public_bytes(serialization.Encoding.DER))
    allowed = frozenset(kind for kind, kind_oids in _KEY_USAGE_OIDS.items() if oids & set(kind_oids))
    return TrustedKey(public_key=certificate.public_key(), key_usage=allowed or ALL_KEY_USAGES)


def extended_key_usage_oids(certificate_der: bytes) -> set[str]:
    """The EKU OIDs of a certificate; read with asn1crypto, which tolerates an empty EKU sequence
    (the conformance vector CO15 has one; `cryptography` refuses to parse it)."""
    extensions = asn1_x509.Certificate.load(certificate_der)["tbs_certificate"]["extensions"]
    for extension in extensions or ():
        if extension["extn_id"].dotted == "2.5.29.37":
            return {purpose.dotted for purpose in extension["extn_value"].parsed}
    return set()


def trust_list_from_certificates(certificates: list[x509.Certificate]) -> dict[bytes, TrustedKey]:
    return {kid_of(certificate): trusted_key_from_certificate(certificate) for certificate in certificates}


def trust_list_from_public_keys(document: Mapping[str, list[Mapping[str, Any]]]) -> dict[bytes, TrustedKey]:
    """The Dutch verifier format `{b64 kid: [{"subjectPk": b64 SPKI, "keyUsage": [...]}]}`."""
    trust_list: dict[bytes, TrustedKey] = {}
    for kid_b64, entries in document.items():
        for entry in entries:
            public_key = serialization.load_der_public_key(base64.b64decode(entry["subjectPk"]))
            usage = frozenset(entry.get("keyUsage") or ()) & ALL_KEY_USAGES
            trust_list[base64.b64decode(kid_b64)] = TrustedKey(public_key=public_key, key_usage=usage)
    return trust_list


def unprefix(text: str, prefix: str = HC1_PREFIX) -> str:
    if not text.startswith(prefix):
        raise DecodeError("missing or unsupported context prefix")
    return text[len(prefix) :]


def b45decode(text: str) -> bytes:
    try:
        return base45.b45decode(text)
    except (ValueError, TypeError) as error:
        raise DecodeError("invalid base45") from error


def inflate(compressed: bytes) -> bytes:
    try:
        return zlib.decompress(compressed)
    except zlib.error as error:
        raise DecodeError("zlib inflation failed") from error


def decode_cose_sign1(data: bytes) -> CoseSign1:
    """A COSE_Sign1 with tag 18, optionally inside a CWT tag 61, or untagged."""
    try:
        item = cbor2.loads(data)
    except Exception as error:  # cbor2 raises several error types for malformed input
        raise DecodeError("not CBOR") from error
    if isinstance(item, cbor2.CBORTag) and item.tag == CWT_TAG:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise DecodeError("not a COSE_Sign1 tag")
        item = item.value
    if not (isinstance(item, list) and len(item) == 4):
        raise DecodeError("COSE_Sign1 is not an array of four")
    protected_bytes, unprotected, payload, signature = item
    if not all(isinstance(part, bytes) for part in (protected_bytes, payload, signature)):
        raise DecodeError("COSE_Sign1 parts have the wrong types")
    if not isinstance(unprotected, dict):
        raise DecodeError("unprotected header is not a map")
    try:
        protected = cbor2.loads(protected_bytes) if protected_bytes else {}
    except Exception as error:
        raise DecodeError("protected header is not CBOR") from error
    if not isinstance(protected, dict):
        raise DecodeError("protected header is not a map")
    return CoseSign1(protected_bytes, protected, unprotected, payload, signature)


def decode_cwt_claims(payload: bytes) -> dict[int, Any]:
    try:
        claims = cbor2.loads(payload)
    except Exception as error:
        raise DecodeError("CWT payload is not CBOR") from error
    if isinstance(claims, cbor2.CBORTag) and claims.tag == CWT_TAG:
        claims = claims.value
    if not isinstance(claims, dict):
        raise DecodeError("CWT payload is not a map")
    for claim in (CWT_IAT, CWT_EXP):
        if claim in claims and not isinstance(claims[claim], (int, float)):
            raise DecodeError("CWT time claim is not a number")
    return claims


def extract_dcc(claims: Mapping[int, Any]) -> dict[str, Any]:
    hcert = claims.get(CWT_HCERT)
    dcc = hcert.get(1) if isinstance(hcert, dict) else None
    if not isinstance(dcc, dict):
        raise DecodeError("no DCC in the hcert claim")
    return dcc


def verify_signature(message: CoseSign1, public_key: Any) -> bool:
    """ES256 (r || s) or PS256 over the Sig_structure with the protected bytes as received."""
    data = sig_structure(message.protected_bytes, message.payload)
    try:
        if message.alg == COSE_ALG_ES256 and isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(message.signature) != 64:
                return False
            r = int.from_bytes(message.signature[:32], "big")
            s = int.from_bytes(message.signature[32:], "big")
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            return True
        if message.alg == COSE_ALG_PS256 and isinstance(public_key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            public_key.verify(message.signature, data, pss, hashes.SHA256())
            return True
    except InvalidSignature:
        return False
    return False


def check_expiration(claims: Mapping[int, Any], clock: datetime) -> bool:
    """`iat` ≤ clock ≤ `exp`."""
    moment = clock.timestamp()
    issued_at, expiration = claims.get(CWT_IAT), claims.get(CWT_EXP)
    return issued_at is not None and expiration is not None and issued_at <= moment <= expiration


def check_key_usage(trusted: TrustedKey, dcc: Mapping[str, Any]) -> bool:
    """Every entry kind present in the DCC is allowed for the signing key."""
    kinds = {kind for kind in ("v", "t", "r") if dcc.get(kind)}
    return bool(kinds) and kinds <= trusted.key_usage


def verify_hc1(
    text: str,
    *,
    trust_list: Mapping[bytes, TrustedKey] | None = None,
    clock: datetime | None = None,
    prefix: str = HC1_PREFIX,
) -> VerificationResult:
    """Run the whole chain on `text`; signature and key-usage steps need a trust list keyed by kid."""
    result = VerificationResult()
    steps = ("unprefix", "b45decode", "compression", "decode")
    try:
        body = unprefix(text, prefix)
        result.unprefix = True
        result.compressed = b45decode(body)
        result.b45decode = True
        result.cose = inflate(result.compressed)
        result.compression = True
        result.message = decode_cose_sign1(result.cose)
        result.claims = decode_cwt_claims(result.message.payload)
        result.dcc = extract_dcc(result.claims)
        result.decode = True
    except DecodeError as error:
        result.errors.append(str(error))
        for step in steps:
            if getattr(result, step) is None:
                setattr(result, step, False)
    trusted = _find_trusted_key(result, trust_list)
    if trust_list is not None:
        result.verify = bool(result.message and trusted and verify_signature(result.message, trusted.public_key))
        result.key_usage = bool(result.dcc and trusted and check_key_usage(trusted, result.dcc))
    if clock is not None:
        result.expiration_check = bool(result.claims and check_expiration(result.claims, clock))
    result.schema_validation = bool(result.dcc is not None and is_valid_dcc(result.dcc))
    return result


def _find_trusted_key(result: VerificationResult, trust_list: Mapping[bytes, TrustedKey] | None) -> TrustedKey | None:
    if not trust_list or result.message is None or result.kid is None:
        return None
    return trust_list.get(result.kid)
