"""The holder side of domestic Idemix issuance and disclosure (signers.md §2.3, §2.4, §2.7).

- `create_commitments`: U = S^v' · R_0^secret per credential and one ProofU list under a shared
  challenge over the issuer's nonce;
- `construct_credential(s)`: checks ProofS, the range and primality of `e` and the CL equation,
  and adds v' to v;
- `disclose` / `disclose_qr`: a ProofD over the time-based challenge, serialised as the `NL2:` /
  `NL3:` QR with its proof identifier, in one of the category modes;
- `issue_static`: the whole holder side of `/issue_static` around an `Issuer`.

Randomness is injected (`randbits`); the disclosure time is a parameter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from idemix import arith
from idemix.arith import RandBits
from idemix.encoding import (
    ATTRIBUTE_NAMES,
    PROOF_VERSION_V2,
    PROOF_VERSION_V3,
    SerializedProof,
    attribute_int,
    decode_attribute_int,
    decode_metadata_attribute,
    format_qr,
    proof_identifier,
    time_based_challenge,
)
from idemix.issuer import (
    DEFAULT_KEY_USAGE,
    CreateCredentialMessage,
    IdemixError,
    IssuanceError,
    IssueCommitmentMessage,
    Issuer,
)
from idemix.keys import PublicKey
from idemix.params import DEFAULT, SECRET_KEY_COMMIT_BITS
from idemix.proofs import (
    CONTEXT,
    CLSignature,
    IssueSignatureMessage,
    ProofU,
    create_challenge,
    e_in_range,
    message_exponent,
    verify_cl_signature,
    verify_proof_s,
)


class CategoryMode(enum.IntEnum):
    """How the category attribute is treated when disclosing (the Go holder's constants)."""

    HIDDEN = 1
    DISCLOSED_V2_SERIALIZATION = 2
    DISCLOSED_V3_SERIALIZATION = 3


class HolderError(IdemixError):
    """A failure on the holder's side, with gabi's / the Go holder's text."""


def generate_secret(randbits: RandBits = arith.DEFAULT_RANDBITS) -> int:
    """The holder secret: Lm (256) random bits."""
    return arith.random_bits(DEFAULT.lm, randbits)


@dataclass(frozen=True, slots=True)
class CredentialBuilder:
    """The holder's state for one credential between commitment and construction."""

    public: PublicKey
    secret: int
    v_prime: int
    u: int
    nonce2: int
    context: int = CONTEXT


@dataclass(frozen=True, slots=True)
class Credential:
    """A constructed credential without the secret: attributes[0] is the metadata attribute."""

    public: PublicKey
    signature: CLSignature
    attributes: tuple[int, ...]

    def read(self) -> tuple[dict[str, str], int]:
        """(named attributes, credential version)."""
        return read_attributes(self.attributes)


def read_attributes(attributes: Sequence[int]) -> tuple[dict[str, str], int]:
    """Decode metadata + named attribute integers into (values, version)."""
    if len(attributes) < 1:
        raise HolderError("Unexpected amount of attributes in credential")
    version, _issuer_pk_id = decode_metadata_attribute(decode_attribute_int(attributes[0]))
    names = ATTRIBUTE_NAMES.get(version)
    if names is None:
        raise HolderError("Credential version is not supported")
    if len(attributes) - 1 != len(names):
        raise HolderError("Unexpected amount of named attributes in credential")
    values = {name: decode_attribute_int(value).decode("utf-8") for name, value in zip(names, attributes[1:], strict=True)}
    return values, version


def create_commitments(
    public: PublicKey,
    secret: int,
    issuer_nonce: int,
    count: int,
    *,
    context: int = CONTEXT,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
) -> tuple[list[CredentialBuilder], IssueCommitmentMessage]:
    """`count` commitments to the same secret, with their ProofU list under one challenge."""
    if count < 1:
        raise HolderError("at least one commitment is needed")
    n = public.n
    params = public.params
    nonce2 = arith.random_bits(DEFAULT.lstatzk, randbits)
    secret_part = arith.powmod(public.r[0], secret, n)
    builders: list[CredentialBuilder] = []
    for _ in range(count):
        v_prime = arith.random_bits(params.lv_prime, randbits)
        u = arith.powmod(public.s, v_prime, n) * secret_part % n
        builders.append(CredentialBuilder(public, secret, v_prime, u, nonce2, context))

    secret_commit = arith.random_bits(SECRET_KEY_COMMIT_BITS, randbits)
    secret_commit_part = arith.powmod(public.r[0], secret_commit, n)
    v_prime_commits: list[int] = []
    contributions: list[int] = []
    for builder in builders:
        v_prime_commit = arith.random_bits(params.lv_prime_commit, randbits)
        v_prime_commits.append(v_prime_commit)
        contributions += [builder.u, arith.powmod(public.s, v_prime_commit, n) * secret_commit_part % n]
    challenge = create_challenge(context, issuer_nonce, contributions)
    proofs = tuple(
        ProofU(
            u=builder.u,
            c=challenge,
            v_prime_response=v_prime_commit + challenge * builder.v_prime,
            s_response=secret_commit + challenge * secret,
        )
        for builder, v_prime_commit in zip(builders, v_prime_commits, strict=True)
    )
    return builders, IssueCommitmentMessage(nonce2=nonce2, proofs=proofs)


def construct_credential(builder: CredentialBuilder, message: IssueSignatureMessage, attributes: Sequence[bytes]) -> Credential:
    """Check the issuer's signature on (secret, attributes) and complete it with v'."""
    public = builder.public
    if not verify_proof_s(public, message.signature, message.proof, builder.nonce2, context=builder.context):
        raise HolderError("Proof of correctness on signature does not verify.")
    signature = CLSignature(a=message.signature.a, e=message.signature.e, v=message.signature.v + builder.v_prime)
    if not e_in_range(public, signature.e) or not arith.is_prime(signature.e):
        raise HolderError("The Signature on the attributes is not correct.")
    ints = tuple(attribute_int(value) for value in attributes)
    if not verify_cl_signature(public, signature, [builder.secret, *ints]):
        raise HolderError("The Signature on the attributes is not correct.")
    return Credential(public, signature, ints)


def construct_credentials(
    builders: Sequence[CredentialBuilder], messages: Sequence[CreateCredentialMessage], credential_version: int
) -> list[Credential]:
    """The Go holder's CreateCredentials: construct each, then check it reads as the expected version."""
    if len(messages) > len(builders):
        raise HolderError("More credentials are being issued than there are proof builders")
    credentials: list[Credential] = []
    for builder, message in zip(builders, messages, strict=False):
        try:
            credential = construct_credential(builder, message.signature_message, message.attributes)
        except IdemixError as error:
            raise HolderError(f"Could not construct credential: {error.text}") from error
        try:
            _values, version = credential.read()
        except (IdemixError, ValueError) as error:
            raise HolderError(f"Could not read freshly constructed credential: {error}") from error
        if version != credential_version:
            raise HolderError("Invalid credential version in freshly constructed credential")
        credentials.append(credential)
    return credentials


def disclose(
    secret: int,
    credential: Credential,
    category_mode: CategoryMode,
    disclosure_time: int,
    *,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
) -> tuple[SerializedProof, bytes]:
    """A disclosure proof of every attribute (except the secret, and the category when hidden).

    Returns the serialisable proof and the proof identifier (16 bytes).
    """
    public = credential.public
    n = public.n
    params = public.params
    _values, version = credential.read()
    names = ATTRIBUTE_NAMES[version]
    all_attributes = (secret, *credential.attributes)

    disclosed = [1] + [
        index + 2 for index, name in enumerate(names) if category_mode != CategoryMode.HIDDEN or name != "category"
    ]
    hidden = [index for index in range(len(all_attributes)) if index not in disclosed]

    # Randomise the signature: A' = A·S^r, v' = v - e·r.
    r = arith.random_bits(params.lra, randbits)
    a = credential.signature.a * arith.powmod(public.s, r, n) % n
    v = credential.signature.v - credential.signature.e * r
    e = credential.signature.e

    e_commit = arith.random_bits(params.le_commit, randbits)
    v_commit = arith.random_bits(params.lv_commit, randbits)
    randomizers = {index: arith.random_bits(params.lm_commit, randbits) for index in hidden}
    randomizers[0] = arith.random_bits(SECRET_KEY_COMMIT_BITS, randbits)

    z = arith.powmod(a, e_commit, n) * arith.powmod(public.s, v_commit, n) % n
    for index in hidden:
        z = z * arith.powmod(public.r[index], randomizers[index], n) % n
    challenge = create_challenge(CONTEXT, time_based_challenge(disclosure_time), [a, z])

    e_prime = e - (1 << (params.le - 1))
    responses = {index: randomizers[index] + challenge * message_exponent(all_attributes[index], params.lm) for index in hidden}
    proof = SerializedProof(
        disclosure_time=disclosure_time,
        c=challenge,
        a=a,
        e_response=e_commit + challenge * e_prime,
        v_response=v_commit + challenge * v,
        a_responses=tuple(responses[index] for index in hidden),
        a_disclosed=tuple(all_attributes[index] for index in disclosed),
    )
    return proof, proof_identifier(challenge)


def disclose_qr(
    secret: int,
    credential: Credential,
    category_mode: CategoryMode,
    disclosure_time: int,
    *,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
) -> tuple[str, bytes]:
    """The `NL2:`/`NL3:` QR text and the proof identifier."""
    proof, identifier = disclose(secret, credential, category_mode, disclosure_time, randbits=randbits)
    version = PROOF_VERSION_V2 if category_mode == CategoryMode.DISCLOSED_V2_SERIALIZATION else PROOF_VERSION_V3
    try:
        return format_qr(version, proof.to_der(version)), identifier
    except ValueError as error:
        raise HolderError(str(error)) from error


def issue_static(
    issuer: Issuer,
    attributes: Mapping[str, str],
    credential_version: int,
    key_identifier: str = "",
    key_usage: str = "",
    *,
    disclosure_time: int = 0,
    randbits: RandBits = arith.DEFAULT_RANDBITS,
) -> tuple[str, bytes]:
    """`/issue_static`: fresh secret, one commitment, issuance, construction, and a disclosure at
    time 0 in the version-2 layout. Errors carry the Go signer's texts (before the route prefix)."""
    try:
        specification = issuer.prepare_issue(1, key_identifier, key_usage)
    except IdemixError as error:
        raise IssuanceError(f"Could not create prepare issue message: {error.text}") from error
    try:
        key = issuer.find_key(key_identifier, key_usage)
    except IdemixError as error:  # pragma: no cover - prepare_issue found it a moment ago
        raise IssuanceError(f"Could not find public key to issue static credential: {error.text}") from error
    secret = generate_secret(randbits)
    builders, commitments = create_commitments(key.public, secret, specification.issuer_nonce, 1, randbits=randbits)
    try:
        messages = issuer.issue(specification, commitments, [attributes], credential_version, key_identifier, key_usage)
    except IdemixError as error:
        raise IssuanceError(f"Could not issue static credential: {error.text}") from error
    try:
        credentials = construct_credentials(builders, messages, credential_version)
    except IdemixError as error:
        raise IssuanceError(f"Could not create static credential: {error.text}") from error
    if len(credentials) != 1:
        raise IssuanceError(f"Expected only a single credential, got {len(credentials)} instead")
    try:
        return disclose_qr(secret, credentials[0], CategoryMode.DISCLOSED_V2_SERIALIZATION, disclosure_time, randbits=randbits)
    except IdemixError as error:
        raise IssuanceError(f"Could not disclose credential: {error.text}") from error


__all__ = [
    "DEFAULT_KEY_USAGE",
    "CategoryMode",
    "Credential",
    "CredentialBuilder",
    "HolderError",
    "construct_credential",
    "construct_credentials",
    "create_commitments",
    "disclose",
    "disclose_qr",
    "generate_secret",
    "issue_static",
    "read_attributes",
]
