"""The zero-knowledge proofs and the CL signature of gabi's issuance and disclosure (signers.md §2.3, §2.7).

- ProofU: the holder's proof of knowledge of the secret and v' behind a commitment
  U = S^v' · R_0^secret; a list of them shares one Fiat-Shamir challenge and one secret-key response.
- CL signature (A, e, v) with Z = A^e · S^v · Π R_i^m_i (mod n), `e` prime in the fixed range.
- ProofS: the issuer's proof of knowledge of 1/e (modulo the group order) in A = Q^(1/e).
- ProofD: the disclosure proof: randomised A, responses for the hidden attributes (the secret, and
  possibly the category), the disclosed attribute integers.

Challenges are `hash_commit([context, contributions..., nonce])` with context 1. Exponentiations
modulo n go through a `powmod(base, exponent)` function so that the issuer can use CRT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from idemix import arith
from idemix.encoding import decode_big_int, encode_big_int, hash_commit, sha256_int
from idemix.keys import PublicKey

#: gabi's context for all proofs of this scheme.
CONTEXT = 1

PowMod = Callable[[int, int], int]
"""Exponentiation modulo the key's n (plain or CRT)."""


def modulus_powmod(key: PublicKey) -> PowMod:
    n = key.n
    return lambda base, exponent: arith.powmod(base, exponent, n)


def create_challenge(context: int, nonce: int, contributions: Sequence[int]) -> int:
    """The Fiat-Shamir challenge: the contributions sandwiched between context and nonce."""
    return hash_commit([context, *contributions, nonce])


def message_exponent(value: int, lm: int) -> int:
    """An attribute as an exponent: hashed with SHA-256 when it is longer than Lm bits (gabi's rule)."""
    return sha256_int(value) if value.bit_length() > lm else value


def represent(key: PublicKey, exponents: Sequence[int], powmod: PowMod) -> int:
    """Π R_i^m_i mod n over the given exponents (long ones hashed)."""
    if len(exponents) > len(key.r):
        raise ValueError("more attributes than the public key has bases")
    lm = key.params.lm
    result = 1
    for base, exponent in zip(key.r, exponents, strict=False):
        exponent = message_exponent(exponent, lm)
        if exponent:
            result = result * powmod(base, exponent) % key.n
    return result


# --------------------------------------------------------------------------------------------
# ProofU


@dataclass(frozen=True, slots=True)
class ProofU:
    u: int
    c: int
    v_prime_response: int
    s_response: int
    m_user_responses: Mapping[int, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "U": encode_big_int(self.u),
            "c": encode_big_int(self.c),
            "v_prime_response": encode_big_int(self.v_prime_response),
            "s_response": encode_big_int(self.s_response),
        }
        if self.m_user_responses:
            result["m_user_responses"] = {str(k): encode_big_int(v) for k, v in self.m_user_responses.items()}
        return result


def proof_u_contribution(key: PublicKey, proof: ProofU, powmod: PowMod) -> tuple[int, int]:
    """(U, U_commit) with U_commit = U^-c · S^v'_response · R_0^s_response · Π R_i^m_i_response."""
    n = key.n
    u_commit = powmod(arith.invert(proof.u, n), proof.c)
    u_commit = u_commit * powmod(key.s, proof.v_prime_response) % n
    u_commit = u_commit * powmod(key.r[0], proof.s_response) % n
    for index, response in proof.m_user_responses.items():
        u_commit = u_commit * powmod(key.r[index], response) % n
    return proof.u, u_commit


def verify_proof_u_list(
    key: PublicKey, proofs: Sequence[ProofU], nonce: int, *, context: int = CONTEXT, powmod: PowMod | None = None
) -> bool:
    """gabi's ProofList.Verify for commitment proofs under one key: one challenge over the whole
    list, the v'-response range check of every proof, and equal secret-key responses."""
    if not proofs:
        return False
    powmod = powmod or modulus_powmod(key)
    bound = (1 << (key.params.lv_prime_commit + 1)) - 1
    contributions: list[int] = []
    try:
        for proof in proofs:
            contributions.extend(proof_u_contribution(key, proof, powmod))
    except (arith.NotInvertibleError, IndexError):
        return False
    expected = create_challenge(context, nonce, contributions)
    s_response = proofs[0].s_response
    for proof in proofs:
        if not -bound <= proof.v_prime_response <= bound:
            return False
        if proof.c != expected or proof.s_response != s_response:
            return False
    return True


# --------------------------------------------------------------------------------------------
# CL signature and ProofS


@dataclass(frozen=True, slots=True)
class CLSignature:
    a: int
    e: int
    v: int

    def to_json(self) -> dict[str, Any]:
        return {"A": encode_big_int(self.a), "e": encode_big_int(self.e), "v": encode_big_int(self.v), "KeyshareP": None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CLSignature:
        return cls(decode_big_int(data["A"]), decode_big_int(data["e"]), decode_big_int(data["v"]))


@dataclass(frozen=True, slots=True)
class ProofS:
    c: int
    e_response: int

    def to_json(self) -> dict[str, Any]:
        return {"c": encode_big_int(self.c), "e_response": encode_big_int(self.e_response)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProofS:
        return cls(decode_big_int(data["c"]), decode_big_int(data["e_response"]))


@dataclass(frozen=True, slots=True)
class IssueSignatureMessage:
    signature: CLSignature
    proof: ProofS

    def to_json(self) -> dict[str, Any]:
        return {"proof": self.proof.to_json(), "signature": self.signature.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssueSignatureMessage:
        return cls(CLSignature.from_json(data["signature"]), ProofS.from_json(data["proof"]))


def e_in_range(key: PublicKey, e: int) -> bool:
    """`e` in [2^(Le-1), 2^(Le-1) + 2^(Le'-1)]."""
    params = key.params
    start = 1 << (params.le - 1)
    return start <= e <= start + (1 << (params.le_prime - 1))


def proof_s_challenge(key: PublicKey, signature: CLSignature, nonce2: int, a_commit: int, q: int, context: int) -> int:
    return hash_commit([context, q, signature.a, nonce2, a_commit])


def verify_proof_s(key: PublicKey, signature: CLSignature, proof: ProofS, nonce2: int, *, context: int = CONTEXT) -> bool:
    """A_commit = A^(c + e_response·e); the proof holds when c = H(context, A^e, A, n_2, A_commit)."""
    n = key.n
    a_commit = arith.powmod(signature.a, proof.c + proof.e_response * signature.e, n)
    q = arith.powmod(signature.a, signature.e, n)
    return proof.c == proof_s_challenge(key, signature, nonce2, a_commit, q, context)


def verify_cl_signature(key: PublicKey, signature: CLSignature, messages: Sequence[int]) -> bool:
    """The range of e and Z = A^e · Π R_i^m_i · S^v (mod n); messages[0] is the secret."""
    if not e_in_range(key, signature.e):
        return False
    n = key.n
    powmod = modulus_powmod(key)
    try:
        value = powmod(signature.a, signature.e) * represent(key, messages, powmod) % n
        value = value * powmod(key.s, signature.v) % n
    except (arith.NotInvertibleError, ValueError):
        return False
    return value == key.z % n


# --------------------------------------------------------------------------------------------
# ProofD


@dataclass(frozen=True, slots=True)
class ProofD:
    """A disclosure proof; attribute indices count the secret as 0 and the metadata as 1."""

    c: int
    a: int
    e_response: int
    v_response: int
    a_responses: Mapping[int, int]
    a_disclosed: Mapping[int, int]


def proof_d_contribution(key: PublicKey, proof: ProofD) -> tuple[int, int]:
    """(A, Z_reconstructed) for the challenge."""
    n = key.n
    params = key.params
    numerator = arith.powmod(proof.a, 1 << (params.le - 1), n)
    for index, attribute in proof.a_disclosed.items():
        numerator = numerator * arith.powmod(key.r[index], message_exponent(attribute, params.lm), n) % n
    known = key.z * arith.invert(numerator, n) % n
    z = arith.powmod(known, -proof.c, n)
    z = z * arith.powmod(proof.a, proof.e_response, n) % n
    for index, response in proof.a_responses.items():
        z = z * arith.powmod(key.r[index], response, n) % n
    z = z * arith.powmod(key.s, proof.v_response, n) % n
    return proof.a, z


def proof_d_response_sizes_ok(key: PublicKey, proof: ProofD) -> bool:
    params = key.params
    bound = (1 << (params.lm_commit + 1)) - 1
    if any(not -bound <= response <= bound for response in proof.a_responses.values()):
        return False
    bound = (1 << (params.le_commit + 1)) - 1
    return -bound <= proof.e_response <= bound


def verify_proof_d(key: PublicKey, proof: ProofD, nonce: int, *, context: int = CONTEXT) -> bool:
    """A single disclosure proof, as gabi's ProofList.Verify checks a list of one."""
    try:
        contributions = proof_d_contribution(key, proof)
    except (arith.NotInvertibleError, IndexError):
        return False
    if not proof_d_response_sizes_ok(key, proof):
        return False
    return proof.c == create_challenge(context, nonce, contributions)
