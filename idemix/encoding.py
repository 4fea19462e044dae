"""Wire encodings of the domestic Idemix signer (signers.md §2.1, §2.3, §2.4, §2.7), as pure functions.

- big integers in JSON: padded standard base64 of the unsigned big-endian magnitude; a plain
  decimal JSON number is accepted when reading (§2.1);
- the attribute order per credential version and the attribute integer `(bytes << 1) | 1` (§2.3);
- the metadata attribute, DER `SEQUENCE { OCTET STRING (version byte), PrintableString issuerPkId }`;
- the `NL2:`/`NL3:` QR: prefix `NL` + one version character + `:`, then the DER proof read as one
  big integer written in radix 45 with the QR alphanumeric alphabet (§2.4);
- the small DER subset the scheme needs (INTEGER, OCTET STRING, strings, SEQUENCE), the
  Fiat-Shamir hash over a DER sequence of integers, the time-based disclosure challenge and the
  proof identifier (§2.7).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

QR_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_QR_INDEX = {character: index for index, character in enumerate(QR_ALPHABET)}
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]*")

ATTRIBUTE_NAMES: dict[int, tuple[str, ...]] = {
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
ATTRIBUTE_NAMES[3] = (*ATTRIBUTE_NAMES[2], "category")

#: Proof serialisation versions (the QR's version character).
PROOF_VERSION_V2 = "2"
PROOF_VERSION_V3 = "3"

#: Bytes of the time-based disclosure challenge (Lstatzk / 8 for the 2048-bit parameters).
CHALLENGE_BYTES = 16
#: Bytes of the proof identifier.
PROOF_IDENTIFIER_BYTES = 16

_TAG_INTEGER = 0x02
_TAG_OCTET_STRING = 0x04
_TAG_UTF8_STRING = 0x0C
_TAG_PRINTABLE_STRING = 0x13
_TAG_T61_STRING = 0x14
_TAG_IA5_STRING = 0x16
_TAG_SEQUENCE = 0x30
_STRING_TAGS = (_TAG_PRINTABLE_STRING, _TAG_UTF8_STRING, _TAG_IA5_STRING, _TAG_T61_STRING)


class EncodingError(ValueError):
    """Input that does not decode; the message is the text the Go implementation would give."""


# --------------------------------------------------------------------------------------------
# JSON big integers and byte arrays (§2.1)


def encode_big_int(value: int) -> str:
    """Padded standard base64 of the unsigned big-endian magnitude (zero encodes as "")."""
    if value < 0:
        raise ValueError("gabi big integers are unsigned here")
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")


def _base64_error_offset(text: str) -> int:
    """Where Go's base64 decoder would report the first problem (approximately)."""
    for index, character in enumerate(text):
        if character == "=":
            return index
        if not (character.isascii() and (character.isalnum() or character in "+/")):
            return index
    return len(text) - len(text) % 4 if len(text) % 4 else len(text)


def decode_big_int(value: Any) -> int:
    """A base64 string (standard alphabet, padded), or a plain non-negative decimal JSON number."""
    if isinstance(value, bool):
        raise EncodingError("not a big integer")
    if isinstance(value, int):
        if value < 0:
            raise EncodingError("Unexpected negative integer")
        return value
    if isinstance(value, str):
        return int.from_bytes(decode_bytes(value), "big")
    raise EncodingError("not a big integer")


def encode_bytes(value: bytes) -> str:
    """A byte array in JSON: standard padded base64."""
    return base64.b64encode(value).decode("ascii")


def decode_bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise EncodingError("not a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as error:
        raise EncodingError(f"illegal base64 data at input byte {_base64_error_offset(value)}") from error


# --------------------------------------------------------------------------------------------
# Attributes (§2.3)


def attribute_int(value: bytes) -> int:
    """How an attribute enters the CL signature: `(bytes as big-endian integer) << 1 | 1`."""
    return (int.from_bytes(value, "big") << 1) | 1


def decode_attribute_int(value: int) -> bytes:
    """The inverse of `attribute_int`; an even integer is an absent (optional) attribute: b""."""
    if value & 1 == 0:
        return b""
    value >>= 1
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def metadata_attribute(credential_version: int, issuer_pk_id: str) -> bytes:
    """DER `SEQUENCE { OCTET STRING (one byte: version), PrintableString issuerPkId }` (§2.3)."""
    if not 0 <= credential_version <= 255:
        raise ValueError("the credential version is one byte")
    if not _PRINTABLE.fullmatch(issuer_pk_id):
        raise ValueError("issuerPkId is not a PrintableString")
    return der_sequence(
        [
            der_tlv(_TAG_OCTET_STRING, bytes([credential_version])),
            der_tlv(_TAG_PRINTABLE_STRING, issuer_pk_id.encode("ascii")),
        ]
    )


def decode_metadata_attribute(data: bytes) -> tuple[int, str]:
    """(credential version, issuer key id) of a metadata attribute's bytes."""
    try:
        node, _rest = parse_der(data)
        if node.tag != _TAG_SEQUENCE or len(node.children) < 2:
            raise EncodingError("sequence truncated")
        version_node, id_node = node.children[0], node.children[1]
        if version_node.tag != _TAG_OCTET_STRING:
            raise EncodingError("tags don't match")
        if id_node.tag not in _STRING_TAGS:
            raise EncodingError("tags don't match")
        if not version_node.content:
            raise EncodingError("empty credential version")
        issuer_pk_id = id_node.content.decode("utf-8")
    except (EncodingError, UnicodeDecodeError) as error:
        raise EncodingError(f"Could not unmarshal metadata attribute: {error}") from error
    return version_node.content[0], issuer_pk_id


def credential_attributes(credential_version: int, issuer_pk_id: str, values: Mapping[str, str]) -> list[bytes]:
    """The metadata attribute, then the UTF-8 values in the signer's attribute order (§2.3).

    Raises KeyError for an unknown version or a missing attribute name.
    """
    return [metadata_attribute(credential_version, issuer_pk_id)] + [
        values[name].encode("utf-8") for name in ATTRIBUTE_NAMES[credential_version]
    ]


# --------------------------------------------------------------------------------------------
# The Dutch radix-45 QR encoding (§2.4)

_CHUNK_DIGITS = 11
_CHUNK = 45**_CHUNK_DIGITS


def dutch_base45_encode(data: bytes) -> str:
    """The whole byte string as one big integer in radix 45 (QR alphanumeric digits; not RFC 9285)."""
    number = int.from_bytes(data, "big")
    if number == 0:
        return QR_ALPHABET[0]
    chunks: list[int] = []
    while number:
        number, chunk = divmod(number, _CHUNK)
        chunks.append(chunk)
    digits: list[str] = []
    for position, chunk in enumerate(reversed(chunks)):
        part: list[str] = []
        for _ in range(_CHUNK_DIGITS):
            chunk, remainder = divmod(chunk, 45)
            part.append(QR_ALPHABET[remainder])
        text = "".join(reversed(part))
        digits.append(text.lstrip(QR_ALPHABET[0]) if position == 0 else text)
    return "".join(digits)


def dutch_base45_decode(text: str) -> bytes:
    if not text:
        raise EncodingError("Could not decode invalid character in input; not alphanumeric")
    number = 0
    for start in range(0, len(text), _CHUNK_DIGITS):
        piece = text[start : start + _CHUNK_DIGITS]
        value = 0
        for character in piece:
            index = _QR_INDEX.get(character)
            if index is None:
                raise EncodingError("Could not decode invalid character in input; not alphanumeric")
            value = value * 45 + index
        number = number * 45 ** len(piece) + value
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def split_qr(qr: str | bytes) -> tuple[str, str]:
    """(version character, radix-45 payload) of an `NL?:` QR; errors carry the Go texts."""
    text = qr.decode("latin-1") if isinstance(qr, bytes | bytearray) else qr
    if len(text) < 4:
        raise EncodingError("Could not process abnormally short QR")
    if text[0] != "N" or text[1] != "L" or text[3] != ":":
        raise EncodingError("QR is not prefixed as an NL entry proof")
    version = text[2]
    if not (("0" <= version <= "9") or ("A" <= version <= "Z")):
        raise EncodingError("QR has invalid context id byte")
    return version, text[4:]


def has_nl_prefix(qr: str | bytes) -> bool:
    try:
        split_qr(qr)
    except EncodingError:
        return False
    return True


def format_qr(version: str, proof_der: bytes) -> str:
    """`NL` + version character + `:` + the radix-45 digits of the DER proof."""
    if len(version) != 1:
        raise ValueError("the proof version is one character")
    if proof_der[:1] == b"\x00":
        raise ValueError("Could not encode input that starts with a zero-byte")
    return f"NL{version}:{dutch_base45_encode(proof_der)}"


# --------------------------------------------------------------------------------------------
# DER (the subset the scheme uses)


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def der_integer(value: int) -> bytes:
    """DER INTEGER: minimal two's complement, as Go's encoding/asn1 writes `*big.Int` and int64."""
    size = ((value if value >= 0 else -value - 1).bit_length() + 8) // 8
    return der_tlv(_TAG_INTEGER, value.to_bytes(size, "big", signed=True))


def der_sequence(parts: Iterable[bytes]) -> bytes:
    return der_tlv(_TAG_SEQUENCE, b"".join(parts))


def der_integer_sequence(values: Iterable[int]) -> bytes:
    return der_sequence(der_integer(value) for value in values)


@dataclass(frozen=True, slots=True)
class DerNode:
    """One parsed TLV; `children` is filled for a SEQUENCE."""

    tag: int
    content: bytes
    children: tuple[DerNode, ...] = ()

    def integer(self) -> int:
        if self.tag != _TAG_INTEGER:
            raise EncodingError("tags don't match")
        content = self.content
        if not content:
            raise EncodingError("empty integer")
        if len(content) > 1 and (
            (content[0] == 0 and content[1] & 0x80 == 0) or (content[0] == 0xFF and content[1] & 0x80 == 0x80)
        ):
            raise EncodingError("integer not minimally-encoded")
        return int.from_bytes(content, "big", signed=True)


def parse_der(data: bytes, depth: int = 0) -> tuple[DerNode, bytes]:
    """Parse one DER TLV (strictly: definite, minimal lengths); returns it and the rest."""
    if depth > 8:
        raise EncodingError("nesting too deep")
    if len(data) < 2:
        raise EncodingError("data truncated")
    tag = data[0]
    if tag & 0x1F == 0x1F:
        raise EncodingError("high-tag-number form is not used here")
    first = data[1]
    offset = 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise EncodingError("indefinite length found (not DER)")
        if count > 4 or len(data) < 2 + count:
            raise EncodingError("data truncated")
        length = int.from_bytes(data[2 : 2 + count], "big")
        if data[2] == 0 or length < 0x80:
            raise EncodingError("non-minimal length")
        offset += count
    if len(data) < offset + length:
        raise EncodingError("data truncated")
    content = bytes(data[offset : offset + length])
    rest = bytes(data[offset + length :])
    children: tuple[DerNode, ...] = ()
    if tag == _TAG_SEQUENCE:
        items: list[DerNode] = []
        remaining = content
        while remaining:
            child, remaining = parse_der(remaining, depth + 1)
            items.append(child)
        children = tuple(items)
    return DerNode(tag, content, children), rest


# --------------------------------------------------------------------------------------------
# Fiat-Shamir hashing, challenges and identifiers (§2.7)


def hash_commit(values: Sequence[int]) -> int:
    """SHA-256 over DER `SEQUENCE { INTEGER count, INTEGER values... }`, read as a positive integer."""
    digest = hashlib.sha256(der_integer_sequence([len(values), *values])).digest()
    return int.from_bytes(digest, "big")


def sha256_int(value: int) -> int:
    """SHA-256 of the magnitude bytes of a non-negative integer (gabi's hash for long attributes)."""
    data = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return int.from_bytes(hashlib.sha256(data).digest(), "big")


def time_based_challenge(unix_seconds: int) -> int:
    """The disclosure 'nonce': the first 16 bytes of SHA-256 of the decimal disclosure time."""
    return int.from_bytes(hashlib.sha256(str(unix_seconds).encode("ascii")).digest()[:CHALLENGE_BYTES], "big")


def proof_identifier(challenge: int) -> bytes:
    """The first 16 bytes of SHA-256 of the magnitude bytes of the disclosure proof's C."""
    data = challenge.to_bytes((challenge.bit_length() + 7) // 8, "big")
    return hashlib.sha256(data).digest()[:PROOF_IDENTIFIER_BYTES]


# --------------------------------------------------------------------------------------------
# The disclosure proof as it travels in the QR (§2.4, §2.7)


@dataclass(frozen=True, slots=True)
class SerializedProof:
    """The QR's proof, in the version-3 shape; version 2 carries exactly one hidden response.

    `a_responses[0]` is the secret key's response; `a_disclosed[0]` is the metadata attribute.
    """

    disclosure_time: int
    c: int
    a: int
    e_response: int
    v_response: int
    a_responses: tuple[int, ...]
    a_disclosed: tuple[int, ...]

    def to_der(self, version: str) -> bytes:
        head = [der_integer(value) for value in (self.disclosure_time, self.c, self.a, self.e_response, self.v_response)]
        disclosed = der_integer_sequence(self.a_disclosed)
        if version == PROOF_VERSION_V2:
            if len(self.a_responses) != 1:
                raise ValueError("Cannot downgrade to v2 serialization with more than one hidden attribute")
            return der_sequence([*head, der_integer(self.a_responses[0]), disclosed])
        if version == PROOF_VERSION_V3:
            return der_sequence([*head, der_integer_sequence(self.a_responses), disclosed])
        raise ValueError("Unsupported proof version")

    @classmethod
    def from_der(cls, data: bytes, version: str) -> SerializedProof:
        """Parse like Go's encoding/asn1: trailing elements and trailing bytes are tolerated."""
        try:
            node, _rest = parse_der(data)
            if node.tag != _TAG_SEQUENCE or len(node.children) < 7:
                raise EncodingError("sequence truncated")
            fields = node.children
            disclosure_time = fields[0].integer()
            if not -(2**63) <= disclosure_time < 2**63:
                raise EncodingError("integer too large")
            head = [field.integer() for field in fields[1:5]]
            if version == PROOF_VERSION_V2:
                responses: tuple[int, ...] = (fields[5].integer(),)
            elif version == PROOF_VERSION_V3:
                if fields[5].tag != _TAG_SEQUENCE:
                    raise EncodingError("tags don't match")
                responses = tuple(child.integer() for child in fields[5].children)
            else:
                raise EncodingError("Unsupported proof version")
            if fields[6].tag != _TAG_SEQUENCE:
                raise EncodingError("tags don't match")
            disclosed = tuple(child.integer() for child in fields[6].children)
        except EncodingError as error:
            raise EncodingError(f"Could not unmarshal v{version} proof") from error
        return cls(disclosure_time, head[0], head[1], head[2], head[3], responses, disclosed)
