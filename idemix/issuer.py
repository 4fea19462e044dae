"""The issuing side of the domestic Idemix signer (signers.md §2.2, §2.3, §2.6, §2.7).

`Issuer.prepare_issue` makes the issue specification (key id, a fresh Lstatzk-bit nonce, the
amount); `Issuer.issue` checks the commitments and makes one CL signature with ProofS per attribute
map. Failures raise `IssuanceError` whose text is the Go signer's error text (before the route's
prefix, which `idemix.signer` adds), so that a server can answer as §2.1 says.

With the secret key's factors every exponentiation modulo n runs through CRT, including the
verification of the commitment proofs (the issuer may use its own trapdoor to check them; the
results are identical).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from idemix import arith
from idemix.arith import RandBits
from idemix.encoding import (
    ATTRIBUTE_NAMES,
    attribute_int,
    decode_big_int,
    decode_bytes,
    encode_big_int,
    encode_bytes,
    metadata_attribute,
)
from idemix.keys import PublicKey, SecretKey
from idemix.params import DEFAULT
from idemix.primes import PrimePool, SyncPrimePool
from idemix.proofs import (
    CONTEXT,
    CLSignature,
    IssueSignatureMessage,
    PowMod,
    ProofS,
    ProofU,
    proof_s_challenge,
    represent,
    verify_proof_u_list,
)

#: The key usage the Go server assumes when a request names neither identifier nor usage.
DEFAULT_KEY_USAGE = "dynamic"


class IdemixError(Exception):
    """A failure with the Go implementation's error text and the HTTP status of §2.1."""

    status = 500

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def wrapped(self, prefix: str) -> IdemixError:
        """The same error with a Go `WrapPrefix` prefix ("prefix: text")."""
        return type(self)(f"{prefix}: {self.text}")

    @property
    def body(self) -> str:
        """The text/plain response body: the error text and a newline (Go's http.Error)."""
        return self.text + "\n"


class BadRequestError(IdemixError):
    """The request does not have the expected structure (400)."""

    status = 400


class IssuanceError(IdemixError):
    """Issuance failed (500)."""

    status = 500


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """A key pair under its id."""

    key_id: str
    public: PublicKey
    secret: SecretKey


@dataclass(frozen=True, slots=True)
class IssueSpecification:
    """The /prepare_issue response ("issue specification message")."""

    issuer_pk_id: str
    issuer_nonce: int
    credential_amount: int

    def to_json(self) -> dict[str, Any]:
        return {
            "issuerPkId": self.issuer_pk_id,
            "issuerNonce": encode_big_int(self.issuer_nonce),
            "credentialAmount": self.credential_amount,
        }


@dataclass(frozen=True, slots=True)
class IssueCommitmentMessage:
    """The holder's commitments: n_2 and the list of proofs. An entry that is a disclosure proof
    (it has an `A`) is kept as None: gabi parses it, and the issuer then refuses it."""

    nonce2: int
    proofs: tuple[ProofU | None, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "n_2": encode_big_int(self.nonce2),
            "combinedProofs": [proof.to_json() if proof is not None else {"A": ""} for proof in self.proofs],
        }


@dataclass(frozen=True, slots=True)
class CreateCredentialMessage:
    """One element of the /issue response."""

    signature_message: IssueSignatureMessage
    attributes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "issueSignatureMessage": self.signature_message.to_json(),
            "attributes": [encode_bytes(value) for value in self.attributes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CreateCredentialMessage:
        return cls(
            IssueSignatureMessage.from_json(data["issueSignatureMessage"]),
            tuple(decode_bytes(value) for value in data["attributes"]),
        )


def new_nonce(randbits: RandBits = arith.DEFAULT_RANDBITS) -> int:
    """A fresh issuer nonce of Lstatzk (128) bits."""
    return arith.random_bits(DEFAULT.lstatzk, randbits)


def attribute_list(credential_version: int, values: Mapping[str, str], metadata: bytes) -> list[bytes]:
    """The metadata attribute and the values in signer order; errors carry the Go texts."""
    names = ATTRIBUTE_NAMES.get(credential_version)
    if names is None:
        raise IssuanceError("The provided credentials version is not supported")
    result = [metadata]
    for name in names:
        value = values.get(name)
        if value is None:
            raise IssuanceError(f"Required attribute {name} was not supplied")
        result.append(value.encode("utf-8"))
    return result


def _crt_powmod(secret: SecretKey) -> PowMod:
    return secret.crt.powmod


def sign(
    public: PublicKey,
    secret: SecretKey,
    u: int,
    attributes: Sequence[int],
    nonce2: int,
    e: int,
    *,
    context: int = CONTEXT,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
) -> IssueSignatureMessage:
    """One CL signature on the commitment U and the attribute integers, with its ProofS.

    A = (Z / (S^v'' · U · Π R_i^m_i))^(1/e) mod n, with 1/e taken modulo p'q' and v'' = 2^(Lv-1)
    plus Lv-1 random bits; then ProofS over n_2.
    """
    n = public.n
    params = public.params
    powmod = _crt_powmod(secret)
    v = (1 << (params.lv - 1)) + arith.random_bits(params.lv - 1, randbits)
    numerator = powmod(public.s, v) * represent(public, [0, *attributes], powmod) % n
    numerator = numerator * u % n
    q = public.z * arith.invert(numerator, n) % n
    order = secret.order
    d = arith.invert(e, order)
    a = powmod(q, d)
    signature = CLSignature(a=a, e=e, v=v)
    return IssueSignatureMessage(signature, prove_signature(public, secret, signature, nonce2, d, context, randbits))


def prove_signature(
    public: PublicKey,
    secret: SecretKey,
    signature: CLSignature,
    nonce2: int,
    d: int,
    context: int = CONTEXT,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
) -> ProofS:
    """ProofS: knowledge of d = 1/e (mod p'q') with A = Q^d, Q = A^e."""
    powmod = _crt_powmod(secret)
    order = secret.order
    q = powmod(signature.a, signature.e)
    e_commit = arith.random_unit(order, randbits)
    a_commit = powmod(q, e_commit)
    c = proof_s_challenge(public, signature, nonce2, a_commit, q, context)
    return ProofS(c=c, e_response=(e_commit - c * d) % order)


def verify_commitments(public: PublicKey, proofs: Sequence[ProofU], nonce: int, secret: SecretKey | None = None) -> bool:
    """All commitment proofs under one challenge (CRT when the secret key is given)."""
    return verify_proof_u_list(public, proofs, nonce, powmod=_crt_powmod(secret) if secret is not None else None)


@dataclass
class Issuer:
    """The signer's keys (by id, and optionally by deprecated usage) and its prime pool."""

    keys: Mapping[str, IssuerKey]
    pool: PrimePool = field(default_factory=SyncPrimePool)
    usages: Mapping[str, str] = field(default_factory=dict)
    randbits: RandBits = arith.DEFAULT_RANDBITS

    def find_key(self, key_identifier: str = "", key_usage: str = "") -> IssuerKey:
        """§2.6: by identifier first, else by usage; errors carry the Go texts."""
        if key_identifier:
            key = self.keys.get(key_identifier)
            if key is None:
                raise IssuanceError(f"Specified key for identifier {key_identifier} is not present")
            return key
        if key_usage:
            key_id = self.usages.get(key_usage)
            key = self.keys.get(key_id) if key_id is not None else None
            if key is None:
                raise IssuanceError(f"Specified key for usage {key_usage} is not present")
            return key
        raise IssuanceError("No key identifier or usage was specified")

    def prepare_issue(
        self, credential_amount: int, key_identifier: str = "", key_usage: str = DEFAULT_KEY_USAGE
    ) -> IssueSpecification:
        key = self.find_key(key_identifier, key_usage)
        return IssueSpecification(key.key_id, new_nonce(self.randbits), credential_amount)

    def issue(
        self,
        specification: IssueSpecification,
        commitments: IssueCommitmentMessage,
        attribute_maps: Sequence[Mapping[str, str]],
        credential_version: int,
        key_identifier: str = "",
        key_usage: str = DEFAULT_KEY_USAGE,
    ) -> list[CreateCredentialMessage]:
        """/issue: the checks in the Go signer's order, then one signature per attribute map."""
        credential_amount = len(attribute_maps)
        if credential_amount > len(commitments.proofs):
            raise IssuanceError("More credentials are being issued than commitments have been supplied")
        try:
            key = self.find_key(key_identifier, key_usage)
        except IssuanceError as error:
            raise error.wrapped("Could not find public key that is used to issue credentials") from error
        if specification.issuer_pk_id != key.key_id:
            raise IssuanceError("Key specified by usage doesn't match prepare issue message public key id")
        metadata = metadata_attribute(credential_version & 0xFF, specification.issuer_pk_id)

        proofs: list[ProofU] = []
        attribute_bytes: list[list[bytes]] = []
        for index, proof in enumerate(commitments.proofs):
            if proof is None:
                raise IssuanceError("Could not recognize issue commitment")
            proofs.append(proof)
            if index < credential_amount:
                try:
                    attribute_bytes.append(attribute_list(credential_version, attribute_maps[index], metadata))
                except IssuanceError as error:
                    raise error.wrapped("Could not compute attributes list") from error

        if not verify_commitments(key.public, proofs, specification.issuer_nonce, key.secret):
            raise IssuanceError("Holder commitments did did not verify against nonce")

        messages: list[CreateCredentialMessage] = []
        for index, values in enumerate(attribute_bytes):
            try:
                signature_message = sign(
                    key.public,
                    key.secret,
                    proofs[index].u,
                    [attribute_int(value) for value in values],
                    commitments.nonce2,
                    self.pool.take(),
                    randbits=self.randbits,
                )
            except (arith.NotInvertibleError, ValueError) as error:
                raise IssuanceError(f"Could not sign: Could not create gabi signature: {error}") from error
            messages.append(CreateCredentialMessage(signature_message, tuple(values)))
        return messages


def parse_proof_u(data: Mapping[str, Any]) -> ProofU:
    """One ProofU from JSON (big integers as base64 strings or decimal numbers)."""
    responses_json = data.get("m_user_responses") or {}
    responses = {int(index): decode_big_int(value) for index, value in responses_json.items()}
    return ProofU(
        u=decode_big_int(data["U"]),
        c=decode_big_int(data["c"]),
        v_prime_response=decode_big_int(data["v_prime_response"]),
        s_response=decode_big_int(data["s_response"]),
        m_user_responses=responses,
    )
