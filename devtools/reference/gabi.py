"""Wire encodings of the domestic (Idemix/gabi) signer (signers.md §2.1, §2.3, §2.4), pure functions."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, ClassVar

from asn1crypto import core

QR_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")

ATTRIBUTE_NAMES = {
    2: (
        "isSpecimen",
        "isPaperProof",
        "validFrom",
        "validForHours",
        "firstNameInitial",
        "lastNameInitial",
        "birthDay",
        "birthMonth",
    ),
}
ATTRIBUTE_NAMES[3] = ATTRIBUTE_NAMES[2] + ("category",)


class GabiDecodeError(ValueError):
    pass


def encode_big_int(value: int) -> str:
    """Standard padded base64 of the unsigned big-endian magnitude (zero → "")."""
    if value < 0:
        raise ValueError("gabi big integers are unsigned here")
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")


def decode_big_int(value: Any) -> int:
    """A base64 string, or a plain decimal JSON number."""
    if isinstance(value, bool):
        raise GabiDecodeError("not a big integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int.from_bytes(base64.b64decode(value, validate=True), "big")
        except (binascii.Error, ValueError) as error:
            raise GabiDecodeError("illegal base64 data") from error
    raise GabiDecodeError("not a big integer")


class CredentialMetadata(core.Sequence):
    _fields: ClassVar = [("credential_version", core.OctetString), ("issuer_pk_id", core.PrintableString)]


def metadata_attribute(credential_version: int, issuer_pk_id: str) -> bytes:
    """DER `SEQUENCE { OCTET STRING (one byte: version), PrintableString issuerPkId }` (§2.3)."""
    if not _PRINTABLE.fullmatch(issuer_pk_id):
        raise ValueError("issuerPkId is not a PrintableString")
    return CredentialMetadata(
        {
            "credential_version": bytes([credential_version]),
            "issuer_pk_id": issuer_pk_id,
        }
    ).dump()


def credential_attributes(credential_version: int, issuer_pk_id: str, values: dict[str, str]) -> list[bytes]:
    """The metadata attribute, then the UTF-8 values in the signer's attribute order (§2.3)."""
    return [metadata_attribute(credential_version, issuer_pk_id)] + [
        values[name].encode("utf-8") for name in ATTRIBUTE_NAMES[credential_version]
    ]


def attribute_int(value: bytes) -> int:
    """How an attribute enters the CL signature: `(bytes as big-endian integer) << 1 | 1`."""
    return (int.from_bytes(value, "big") << 1) | 1


def dutch_base45_encode(data: bytes) -> str:
    """The whole byte string as one big integer in radix 45 (QR alphanumeric digits; not RFC 9285)."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 45)
        digits.append(QR_ALPHABET[remainder])
    return "".join(reversed(digits))


def dutch_base45_decode(text: str) -> bytes:
    number = 0
    for character in text:
        index = QR_ALPHABET.find(character)
        if index < 0:
            raise GabiDecodeError("Invalid character in QR; not alphanumeric")
        number = number * 45 + index
    return number.to_bytes((number.bit_length() + 7) // 8, "big")
