"""Idemix issuer keys in gabi's XML format (signers.md §2.7): parse, write, generate and validate.

A public key is the modulus `n` and the bases `Z`, `S`, `R_0..R_k`; the secret key is the safe
primes `p = 2p' + 1`, `q = 2q' + 1`. The key id lives inside every credential (the metadata
attribute), so verifiers resolve ids through a map; the test key is known as `TST-KEY-01` here and
`VWS-TEST-0` / `testPk` upstream. Only files passed in are read.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from idemix import arith
from idemix.arith import CrtModulus, RandBits
from idemix.params import SystemParameters, parameters_for

NAMESPACE = "http://www.zurich.ibm.com/security/idemix"
_NS = {"i": NAMESPACE}
_XML_HEADER = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
DEFAULT_EPOCH_LENGTH = 432000
DEFAULT_NUM_BASES = 12

#: The same TEST ONLY key under the names it has in this project and upstream.
TEST_KEY_IDS = ("TST-KEY-01", "VWS-TEST-0", "testPk")

ProgressCallback = Callable[[str, int], None]
"""Called during key generation with a stage name and a counter (candidates tried, bases made)."""


class KeyFormatError(ValueError):
    """A key file that cannot be read."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    n: int
    z: int
    s: int
    r: tuple[int, ...]
    counter: int = 0
    expiry_date: int = 0
    epoch_length: int = DEFAULT_EPOCH_LENGTH

    @property
    def params(self) -> SystemParameters:
        return parameters_for(self.n.bit_length())


@dataclass(frozen=True)
class SecretKey:
    p: int
    q: int
    p_prime: int
    q_prime: int
    counter: int = 0
    expiry_date: int = 0

    @property
    def order(self) -> int:
        """p'·q', the order of the group of quadratic residues modulo n."""
        return self.p_prime * self.q_prime

    @cached_property
    def crt(self) -> CrtModulus:
        return CrtModulus.from_factors(self.p, self.q)


# --------------------------------------------------------------------------------------------
# XML


def _int_text(element: ElementTree.Element | None, name: str) -> int:
    if element is None or element.text is None:
        raise KeyFormatError(f"missing element {name}")
    try:
        return int(element.text.strip())
    except ValueError as error:
        raise KeyFormatError(f"element {name} is not a decimal integer") from error


def _root(data: bytes | str, tag: str) -> ElementTree.Element:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise KeyFormatError(f"not XML: {error}") from error
    if root.tag != f"{{{NAMESPACE}}}{tag}":
        raise KeyFormatError(f"expected an {tag} element")
    return root


def parse_public_key(data: bytes | str) -> PublicKey:
    """A gabi `IssuerPublicKey` XML document."""
    root = _root(data, "IssuerPublicKey")
    elements = root.find("i:Elements", _NS)
    if elements is None:
        raise KeyFormatError("missing element Elements")
    bases_element = elements.find("i:Bases", _NS)
    if bases_element is None:
        raise KeyFormatError("missing element Bases")
    bases: list[int] = []
    for index in range(len(bases_element)):
        bases.append(_int_text(bases_element.find(f"i:Base_{index}", _NS), f"Base_{index}"))
    declared = bases_element.get("num")
    if declared is not None and int(declared) != len(bases):
        raise KeyFormatError("Bases num does not match the number of bases")
    epoch = root.find("i:Features/i:Epoch", _NS)
    return PublicKey(
        n=_int_text(elements.find("i:n", _NS), "n"),
        z=_int_text(elements.find("i:Z", _NS), "Z"),
        s=_int_text(elements.find("i:S", _NS), "S"),
        r=tuple(bases),
        counter=_int_text(root.find("i:Counter", _NS), "Counter"),
        expiry_date=_int_text(root.find("i:ExpiryDate", _NS), "ExpiryDate"),
        epoch_length=int(epoch.get("length", DEFAULT_EPOCH_LENGTH)) if epoch is not None else DEFAULT_EPOCH_LENGTH,
    )


def parse_secret_key(data: bytes | str) -> SecretKey:
    """A gabi `IssuerPrivateKey` XML document."""
    root = _root(data, "IssuerPrivateKey")
    elements = root.find("i:Elements", _NS)
    if elements is None:
        raise KeyFormatError("missing element Elements")
    return SecretKey(
        p=_int_text(elements.find("i:p", _NS), "p"),
        q=_int_text(elements.find("i:q", _NS), "q"),
        p_prime=_int_text(elements.find("i:pPrime", _NS), "pPrime"),
        q_prime=_int_text(elements.find("i:qPrime", _NS), "qPrime"),
        counter=_int_text(root.find("i:Counter", _NS), "Counter"),
        expiry_date=_int_text(root.find("i:ExpiryDate", _NS), "ExpiryDate"),
    )


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    with open(path, "rb") as handle:
        return parse_public_key(handle.read())


def load_secret_key(path: str | os.PathLike[str]) -> SecretKey:
    with open(path, "rb") as handle:
        return parse_secret_key(handle.read())


def public_key_xml(key: PublicKey) -> str:
    """The key in gabi's layout (three-space indentation, as the upstream files are written)."""
    lines = [
        f'<IssuerPublicKey xmlns="{NAMESPACE}">',
        f"   <Counter>{key.counter}</Counter>",
        f"   <ExpiryDate>{key.expiry_date}</ExpiryDate>",
        "   <Elements>",
        f"      <n>{key.n}</n>",
        f"      <Z>{key.z}</Z>",
        f"      <S>{key.s}</S>",
        f'      <Bases num="{len(key.r)}">',
        *(f"         <Base_{index}>{base}</Base_{index}>" for index, base in enumerate(key.r)),
        "      </Bases>",
        "   </Elements>",
        "   <Features>",
        f'      <Epoch length="{key.epoch_length}"></Epoch>',
        "   </Features>",
        "</IssuerPublicKey>",
    ]
    return _XML_HEADER + "\n".join(lines) + "\n"


def secret_key_xml(key: SecretKey) -> str:
    lines = [
        f'<IssuerPrivateKey xmlns="{NAMESPACE}">',
        f"   <Counter>{key.counter}</Counter>",
        f"   <ExpiryDate>{key.expiry_date}</ExpiryDate>",
        "   <Elements>",
        f"      <p>{key.p}</p>",
        f"      <q>{key.q}</q>",
        f"      <pPrime>{key.p_prime}</pPrime>",
        f"      <qPrime>{key.q_prime}</qPrime>",
        "   </Elements>",
        "</IssuerPrivateKey>",
    ]
    return _XML_HEADER + "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Key-id map


def key_map(entries: Iterable[tuple[str, PublicKey]] | Mapping[str, PublicKey]) -> dict[str, PublicKey]:
    """A key-id → public key map; the same key may appear under several ids (aliases)."""
    items = entries.items() if isinstance(entries, Mapping) else entries
    result: dict[str, PublicKey] = {}
    for key_id, key in items:
        if not key_id:
            raise KeyFormatError("empty key id")
        result[key_id] = key
    return result


def with_aliases(key: PublicKey, ids: Iterable[str] = TEST_KEY_IDS) -> dict[str, PublicKey]:
    """One key under several ids (e.g. the test key as TST-KEY-01 and VWS-TEST-0)."""
    return key_map((key_id, key) for key_id in ids)


# --------------------------------------------------------------------------------------------
# Validation


def validate_key_pair(public: PublicKey, secret: SecretKey) -> list[str]:
    """Problems with a configured pair; empty when valid.

    Checks n = p·q, p = 2p'+1 and q = 2q'+1 with all four prime, p ≠ q, and that S, Z and every
    R_i are quadratic residues modulo both p and q (so they generate subgroups of QR_n).
    """
    problems: list[str] = []
    if secret.p == secret.q:
        problems.append("p and q are equal")
    if public.n != secret.p * secret.q:
        problems.append("n is not p·q")
    for name, prime, half in (("p", secret.p, secret.p_prime), ("q", secret.q, secret.q_prime)):
        if prime != 2 * half + 1:
            problems.append(f"{name} is not 2·{name}'+1")
        if not arith.is_prime(prime):
            problems.append(f"{name} is not prime")
        if not arith.is_prime(half):
            problems.append(f"{name}' is not prime ({name} is not a safe prime)")
    if problems:
        return problems
    if public.n.bit_length() < 512:
        problems.append("the modulus is shorter than 512 bits")
    if not public.r:
        problems.append("the key has no bases R_i")
    bases = [("S", public.s), ("Z", public.z)] + [(f"R_{index}", value) for index, value in enumerate(public.r)]
    for name, value in bases:
        if not 1 < value < public.n or math.gcd(value, public.n) != 1:
            problems.append(f"{name} is not a unit modulo n")
        elif not (arith.legendre_is_residue(value, secret.p) and arith.legendre_is_residue(value, secret.q)):
            problems.append(f"{name} is not a quadratic residue modulo n")
    return problems


# --------------------------------------------------------------------------------------------
# Generation


def random_safe_prime(bits: int, randbits: RandBits = arith.DEFAULT_RANDBITS, progress: ProgressCallback | None = None) -> int:
    """A random safe prime p = 2p'+1 of exactly `bits` bits, its two top bits set.

    Walks p' upwards from a random odd start in windows, sieving p' and 2p'+1 together by the
    small primes, then tests the survivors (Fermat base 2 first, then the full test).
    """
    if bits < 16:
        raise ValueError("safe primes this small are not useful")
    window = 8192
    tried = 0
    while True:
        # The two top bits set, so that the product of two such primes has exactly twice the bits.
        half = arith.random_bits(bits - 1, randbits) | (3 << (bits - 3)) | 1
        for _ in range(8):
            sieve = bytearray(b"\x01") * window  # index i stands for p' = half + 2i
            for prime in arith.SMALL_PRIMES:
                inverse_two = (prime + 1) // 2
                first = (-half * inverse_two) % prime
                sieve[first::prime] = bytes(len(range(first, window, prime)))
                first = (-(2 * half + 1) * inverse_two * inverse_two) % prime
                sieve[first::prime] = bytes(len(range(first, window, prime)))
            for index in range(window):
                if not sieve[index]:
                    continue
                tried += 1
                candidate_half = half + 2 * index
                candidate = 2 * candidate_half + 1
                if candidate.bit_length() != bits:
                    break
                if (
                    arith.powmod(2, candidate_half - 1, candidate_half) == 1
                    and arith.powmod(2, candidate - 1, candidate) == 1
                    and arith.is_prime(candidate_half)
                    and arith.is_prime(candidate)
                ):
                    if progress is not None:
                        progress("safe prime found", tried)
                    return candidate
                if progress is not None and tried % 1000 == 0:
                    progress("safe prime candidates", tried)
            half += 2 * window
            if (2 * half + 1).bit_length() != bits:
                break


def _random_residue_base(n: int, s: int, randbits: RandBits, bits: int) -> int:
    while True:
        exponent = arith.random_bits(bits, randbits)
        if 2 < exponent < n:
            return arith.powmod(s, exponent, n)


def generate_key_pair(
    bits: int = 2048,
    num_bases: int = DEFAULT_NUM_BASES,
    *,
    counter: int = 0,
    expiry_date: int = 0,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
    progress: ProgressCallback | None = None,
) -> tuple[SecretKey, PublicKey]:
    """A fresh pair like gabi's: n from two safe primes, S a random quadratic residue, and
    Z and R_i random powers of S. 2048 bits takes minutes; `progress` is called as it goes."""
    half_bits = bits // 2
    p = random_safe_prime(half_bits, randbits, progress)
    while True:
        q = random_safe_prime(bits - half_bits, randbits, progress)
        if q != p and (p * q).bit_length() == bits:
            break
    n = p * q
    while True:
        s = arith.random_bits(bits, randbits)
        if 1 < s < n and arith.legendre_is_residue(s, p) and arith.legendre_is_residue(s, q):
            break
    z = _random_residue_base(n, s, randbits, half_bits)
    bases = []
    for index in range(num_bases):
        bases.append(_random_residue_base(n, s, randbits, half_bits))
        if progress is not None:
            progress("bases", index + 1)
    secret = SecretKey(p=p, q=q, p_prime=p >> 1, q_prime=q >> 1, counter=counter, expiry_date=expiry_date)
    public = PublicKey(n=n, z=z, s=s, r=tuple(bases), counter=counter, expiry_date=expiry_date)
    return secret, public
