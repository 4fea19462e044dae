"""Identity hash, BSN box and the provider JWTs (access-tokens.md §2–§4). Pure: clock and nonce injected."""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from nacl.public import Box, PrivateKey, PublicKey

NONCE_BYTES = 24
ROLE_IDENTIFIER = "01"
# Exactly this key order (access-tokens.md §4); never sorted.
_JWT_HEADER = b'{"typ":"JWT","alg":"RS256"}'


class HolderNameAndBirthDate(Protocol):
    """What the identity hash needs of a holder: RVIG values verbatim, birth date `YYYY-MM-DD` (XX allowed)."""

    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def birth_date(self) -> str: ...


class TokenProvider(Protocol):
    """The provider registry fields used for access tokens (access-tokens.md §5)."""

    identifier: str
    unomi_url: str
    event_url: str
    identity_hash_secret: str
    bsn_public_key: str
    bsn_private_key: str


def birth_day_digits(birth_date: str) -> str:
    """`DD` of the identity message: the day digits as they are, `00` for an unknown day (§2)."""
    day = birth_date[8:10]
    return "00" if day.upper() == "XX" else day


def identity_message(bsn: str, holder: HolderNameAndBirthDate) -> str:
    """`{bsn}-{firstName}-{lastName}-{DD}` (access-tokens.md §2)."""
    return f"{bsn}-{holder.first_name}-{holder.last_name}-{birth_day_digits(holder.birth_date)}"


def identity_hash(secret: str, bsn: str, holder: HolderNameAndBirthDate) -> str:
    """Lowercase hex HMAC-SHA256 keyed with the secret's UTF-8 text (not hex-decoded) (§2)."""
    message = identity_message(bsn, holder).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def encrypt_bsn_for_provider(bsn: str, public_key_b64: str, private_key_b64: str, nonce: bytes) -> tuple[str, str]:
    """NaCl box of the BSN for the provider; returns (hex ciphertext without nonce, hex nonce) (§3)."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError("the nonce must be 24 bytes")
    box = Box(PrivateKey(base64.b64decode(private_key_b64)), PublicKey(base64.b64decode(public_key_b64)))
    encrypted = box.encrypt(bsn.encode("ascii"), nonce)
    return encrypted.ciphertext.hex(), nonce.hex()


def unix_seconds(now: datetime) -> int:
    """Integer Unix seconds of an aware datetime, fractions dropped (§4 `iat`)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return calendar.timegm(now.utctimetuple())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_jwt(claims: dict[str, Any], signing_key: RSAPrivateKey) -> str:
    """RS256 JWT with header `{"typ":"JWT","alg":"RS256"}`, sorted compact claims, base64url (§4)."""
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    signing_input = f"{_b64url(_JWT_HEADER)}.{_b64url(payload)}".encode("ascii")
    signature = signing_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode('ascii')}.{_b64url(signature)}"


def unomi_claims(*, audience: str, identity_hash_value: str, issuer: str, iat: int, validity_seconds: int) -> dict:
    """Claims of the `unomi` ("do you know me?") token (§4 table)."""
    return {
        "aud": audience,
        "exp": iat + validity_seconds,
        "iat": iat,
        "identityHash": identity_hash_value,
        "iss": issuer,
        "nbf": iat,
    }


def event_claims(
    *,
    audience: str,
    identity_hash_value: str,
    issuer: str,
    iat: int,
    validity_seconds: int,
    bsn_ciphertext_hex: str,
    nonce_hex: str,
) -> dict:
    """Claims of the `event` token (§4 table)."""
    claims = unomi_claims(
        audience=audience,
        identity_hash_value=identity_hash_value,
        issuer=issuer,
        iat=iat,
        validity_seconds=validity_seconds,
    )
    claims.update({"bsn": bsn_ciphertext_hex, "nonce": nonce_hex, "roleIdentifier": ROLE_IDENTIFIER})
    return claims


def provider_jwts(
    provider: TokenProvider,
    *,
    bsn: str,
    holder: HolderNameAndBirthDate,
    signing_key: RSAPrivateKey,
    issuer: str,
    validity_seconds: int,
    now: datetime,
    nonce: bytes,
) -> dict[str, str]:
    """One element of the access-token response: `{"provider_identifier", "unomi", "event"}` (§1 step 4)."""
    iat = unix_seconds(now)
    hashed = identity_hash(provider.identity_hash_secret, bsn, holder)
    ciphertext_hex, nonce_hex = encrypt_bsn_for_provider(bsn, provider.bsn_public_key, provider.bsn_private_key, nonce)
    unomi = unomi_claims(
        audience=provider.unomi_url,
        identity_hash_value=hashed,
        issuer=issuer,
        iat=iat,
        validity_seconds=validity_seconds,
    )
    event = event_claims(
        audience=provider.event_url,
        identity_hash_value=hashed,
        issuer=issuer,
        iat=iat,
        validity_seconds=validity_seconds,
        bsn_ciphertext_hex=ciphertext_hex,
        nonce_hex=nonce_hex,
    )
    return {
        "provider_identifier": provider.identifier,
        "unomi": sign_jwt(unomi, signing_key),
        "event": sign_jwt(event, signing_key),
    }
