"""Inge-6: the bearer header, the JWT check and the BSN box (signers.md §4 steps 1, 2 and 4).

Pure: the clock and the keys are parameters. Every failure raises the spec's error; no message
carries the token, the body or the BSN.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import datetime
from numbers import Real
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey

from common import errors
from common.base64rule import decode_base64
from events.accesstokens.identity import unix_seconds

_BEARER = "Bearer "
_ASCII_DIGITS = re.compile(rb"[0-9]+")


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (§4 step 1); `"Bearer"` alone fails."""
    if header is None or not header.startswith(_BEARER):
        raise errors.invalid_token_type()
    token = header[len(_BEARER) :].strip()
    if not token:
        raise errors.invalid_token()
    return token


def _numeric_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None and name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise errors.invalid_token()
    return float(value)


def check_token_times(claims: dict[str, Any], *, now: datetime) -> None:
    """`exp` required and in the future; `nbf` and `iat` not in the future when present (§4 step 2)."""
    current = unix_seconds(now)
    expires = _numeric_claim(claims, "exp")
    if expires is None or expires <= current:
        raise errors.invalid_token()
    not_before = _numeric_claim(claims, "nbf")
    if not_before is not None and not_before > current:
        raise errors.invalid_token()
    issued_at = _numeric_claim(claims, "iat")
    if issued_at is not None and issued_at > current:
        raise errors.invalid_token()


def verify_inge6_jwt(
    token: str,
    *,
    public_key_pem: str | bytes | RSAPublicKey,
    audiences: Sequence[str],
    issuer: str,
    now: datetime,
) -> dict[str, Any]:
    """Check the Inge-6 JWT (§4 step 2): RS256 signature, audience, required `exp`, `nbf`/`iat`
    when present, `iss` when `issuer` is non-empty. Any failure → 401 invalid token."""
    if not audiences:
        raise errors.invalid_token()
    required = ["exp", "aud"] + (["iss"] if issuer else [])
    try:
        claims = jwt.decode(
            token,
            public_key_pem,
            algorithms=["RS256"],
            audience=list(audiences),
            issuer=issuer or None,
            # The times are checked below against the injected clock.
            options={"require": required, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except Exception:  # noqa: BLE001 - any decoding problem is an invalid token, whatever raised it
        raise errors.invalid_token() from None
    check_token_times(claims, now=now)
    return claims


def decrypt_bsn(body: str, *, private_key_b64: str, inge6_public_key_b64: str) -> str:
    """The BSN from Inge-6's answer: base64 of `nonce || box` (§4 step 4). Failures → 502."""
    try:
        raw = decode_base64(body)
        box = Box(PrivateKey(base64.b64decode(private_key_b64)), PublicKey(base64.b64decode(inge6_public_key_b64)))
        plaintext = box.decrypt(raw)
    except (ValueError, TypeError, CryptoError):
        raise errors.downstream_bad_response() from None
    if _ASCII_DIGITS.fullmatch(plaintext) is None:
        raise errors.downstream_bad_response()
    return plaintext.decode("ascii")
