"""The HC1 byte pipeline of the EU signer (signers.md §3.3), as pure functions.

DCC → ordered CBOR map → CWT payload → COSE_Sign1 (ES256, low-S) → zlib → base45 → ``HC1:``.
The clock is a parameter; nothing here does I/O.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import base45
import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from rfc3339_validator import validate_rfc3339

KEY_USAGES = ("vaccination", "test", "recovery")
SPECIMEN_EXPIRATION_TIME = "1970-01-01T00:00:42+00:00"
DEFAULT_ISSUER = "NL"
DEFAULT_BACKDATE_SECONDS = 3600
HC1_PREFIX = "HC1:"

COSE_ALG_ES256 = -7
COSE_HEADER_ALG = 1
COSE_HEADER_KID = 4
COSE_SIGN1_TAG = 18
CWT_TAG = 61
CWT_ISS, CWT_EXP, CWT_IAT, CWT_HCERT = 1, 4, 6, -260

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# Entry keys in signer order (§3.3 step 4). Absent fields are written as the Go struct would write
# them ("" or 0), except the fields listed in _OMIT_WHEN_EMPTY.
_NAME_KEYS = ("fn", "fnt", "gn", "gnt")
_ENTRY_KEYS = {
    "v": ("tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "is", "ci"),
    "t": ("tg", "tt", "nm", "ma", "sc", "tr", "tc", "co", "is", "ci"),
    "r": ("tg", "fr", "co", "is", "df", "du", "ci"),
}
_INTEGER_KEYS = {"dn", "sd"}
_OMIT_WHEN_EMPTY = {"t": {"nm", "ma"}}


class SigningError(ValueError):
    """A request the EU signer cannot sign (answered with 500)."""


@dataclass(frozen=True)
class SignerKey:
    """A DSC certificate with its EC P-256 private key and kid (§3.3 step 1)."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    kid: bytes


@dataclass(frozen=True)
class SignedCredential:
    credential: str
    proof_identifier: str
    expiration: int
    issued_at: int


def kid_of(certificate: x509.Certificate) -> bytes:
    """The first 8 bytes of SHA-256 over the DSC's DER encoding (§3.3 step 1)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def signer_key(private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> SignerKey:
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
        raise ValueError("the DSC key must be an EC P-256 key")
    return SignerKey(private_key=private_key, certificate=certificate, kid=kid_of(certificate))


def dcc_to_cbor_map(dcc: Mapping[str, Any]) -> dict[str, Any]:
    """The DCC as the ordered map the signer encodes; unknown fields dropped (§3.3 step 4)."""
    names = dcc.get("nam") or {}
    result: dict[str, Any] = {
        "ver": dcc.get("ver", ""),
        "dob": dcc.get("dob", ""),
        "nam": {key: names.get(key, "") for key in _NAME_KEYS},
    }
    for group, keys in _ENTRY_KEYS.items():
        entries = dcc.get(group)
        if entries:
            result[group] = [_entry_to_cbor_map(group, keys, entry) for entry in entries]
    return result


def _entry_to_cbor_map(group: str, keys: tuple[str, ...], entry: Mapping[str, Any]) -> dict[str, Any]:
    omit = _OMIT_WHEN_EMPTY.get(group, set())
    result: dict[str, Any] = {}
    for key in keys:
        value = entry.get(key, 0 if key in _INTEGER_KEYS else "")
        if key in omit and value in ("", None):
            continue
        if key in _INTEGER_KEYS and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON 2.0 is a valid schema integer; CBOR must carry an unsigned integer
        result[key] = value
    return result


def parse_expiration_time(value: str) -> int:
    """`expirationTime` (RFC 3339) as Unix seconds, the CWT `exp` (§3.1)."""
    if not isinstance(value, str) or not validate_rfc3339(value):
        raise SigningError("Could not parse expirationTime")
    moment = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", value).replace("t", "T"))
    return math.floor(moment.timestamp())


def cwt_payload(dcc_map: Mapping[str, Any], *, issuer: str, expiration: int, issued_at: int) -> bytes:
    """The CWT claims map iss, exp, iat, hcert in this order (§3.3 step 5)."""
    if not re.fullmatch(r"[A-Z]{2}", issuer):
        raise ValueError("the issuer country must match ^[A-Z]{2}$")
    return cbor2.dumps({CWT_ISS: issuer, CWT_EXP: expiration, CWT_IAT: issued_at, CWT_HCERT: {1: dcc_map}})


def protected_header(kid: bytes) -> bytes:
    """`A2 04 48 <kid> 01 26`: kid first, then alg ES256 (§3.3 step 2)."""
    if len(kid) != 8:
        raise ValueError("kid must be 8 bytes")
    return cbor2.dumps({COSE_HEADER_KID: kid, COSE_HEADER_ALG: COSE_ALG_ES256})


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """`["Signature1", protected, h'', payload]` (§3.3 step 6)."""
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign_es256(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 over `data` as `r || s` with low-S normalisation (§3.3 step 6)."""
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    if s > _P256_ORDER // 2:
        s = _P256_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def cose_sign1(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """Tag 18 around `[protected, {}, payload, signature]` (§3.3 steps 3 and 7)."""
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def hc1_encode(cose: bytes) -> str:
    """zlib level 9, base45 (RFC 9285), `HC1:` prefix (§3.3 step 8)."""
    return HC1_PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")


def proof_identifier(signature: bytes) -> str:
    """base64 of the first 16 bytes of SHA-256 over the signature (§3.3 step 9)."""
    return base64.b64encode(hashlib.sha256(signature).digest()[:16]).decode("ascii")


def sign_dcc(
    dcc: Mapping[str, Any],
    *,
    key: SignerKey,
    expiration_time: str,
    now: datetime,
    issuer: str = DEFAULT_ISSUER,
    backdate_seconds: int = DEFAULT_BACKDATE_SECONDS,
) -> SignedCredential:
    """The whole pipeline of §3.3 for one DCC; `now` is the injected clock (aware datetime)."""
    expiration = parse_expiration_time(expiration_time)
    issued_at = math.floor(now.timestamp()) - backdate_seconds
    payload = cwt_payload(dcc_to_cbor_map(dcc), issuer=issuer, expiration=expiration, issued_at=issued_at)
    protected = protected_header(key.kid)
    signature = sign_es256(key.private_key, sig_structure(protected, payload))
    return SignedCredential(
        credential=hc1_encode(cose_sign1(protected, payload, signature)),
        proof_identifier=proof_identifier(signature),
        expiration=expiration,
        issued_at=issued_at,
    )
