"""idemix.holder: commitments, construction checks, disclosure modes, and the whole round trip."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idemix import arith, holder, signer, verifier
from idemix.encoding import ATTRIBUTE_NAMES, decode_big_int, split_qr
from idemix.holder import CategoryMode, HolderError
from idemix.issuer import CreateCredentialMessage, Issuer
from idemix.proofs import CLSignature, IssueSignatureMessage, ProofS
from idemix.tests.conftest import KEY_ID, V2_ATTRIBUTES, V3_ATTRIBUTES, seeded

NOW = 1622505700
CONFIG = verifier.VerifierConfig(qr_valid_for_seconds=60)


def _issue(issuer: Issuer, attributes: dict[str, str], version: int, count: int = 1, seed: int = 1):  # type: ignore[no-untyped-def]
    spec = issuer.prepare_issue(count)
    key = issuer.find_key(KEY_ID)
    secret = holder.generate_secret(seeded(seed))
    builders, commitments = holder.create_commitments(key.public, secret, spec.issuer_nonce, count, randbits=seeded(seed))
    messages = issuer.issue(spec, commitments, [attributes] * count, version)
    return secret, builders, messages


def test_commitments_share_secret_and_challenge(public_key) -> None:  # type: ignore[no-untyped-def]
    builders, message = holder.create_commitments(public_key, 7, 99, 3, randbits=seeded(1))
    assert len(builders) == len(message.proofs) == 3
    assert len({proof.c for proof in message.proofs}) == 1
    assert len({proof.s_response for proof in message.proofs}) == 1
    assert len({proof.u for proof in message.proofs}) == 3
    n = public_key.n
    for builder in builders:
        assert builder.u == pow(public_key.s, builder.v_prime, n) * pow(public_key.r[0], 7, n) % n
        assert builder.v_prime.bit_length() <= public_key.params.lv_prime
    with pytest.raises(HolderError):
        holder.create_commitments(public_key, 7, 99, 0)


def test_commitments_identical_across_backends(public_key) -> None:  # type: ignore[no-untyped-def]
    made = []
    for name in ("gmpy2", "python"):
        with arith.backend(name):
            made.append(holder.create_commitments(public_key, 7, 99, 2, randbits=seeded(5))[1])
    assert made[0] == made[1]


def test_construct_and_read(backend: str, issuer: Issuer) -> None:
    secret, builders, messages = _issue(issuer, V3_ATTRIBUTES, 3)
    credentials = holder.construct_credentials(builders, messages, 3)
    assert credentials[0].read() == (V3_ATTRIBUTES, 3)
    with pytest.raises(HolderError, match="^Invalid credential version in freshly constructed credential$"):
        holder.construct_credentials(builders, messages, 2)
    with pytest.raises(HolderError, match="More credentials are being issued than there are proof builders"):
        holder.construct_credentials([], messages, 3)


def _replace_signature(message: CreateCredentialMessage, **changes: int) -> CreateCredentialMessage:
    signature = dataclasses.replace(message.signature_message.signature, **changes)
    return dataclasses.replace(message, signature_message=dataclasses.replace(message.signature_message, signature=signature))


def test_construct_refuses_bad_signatures(issuer: Issuer) -> None:
    _secret, builders, messages = _issue(issuer, V2_ATTRIBUTES, 2)
    builder, message = builders[0], messages[0]
    good = message.signature_message
    bad_proof = dataclasses.replace(good, proof=ProofS(good.proof.c + 1, good.proof.e_response))
    with pytest.raises(HolderError, match=r"^Proof of correctness on signature does not verify\.$"):
        holder.construct_credential(builder, bad_proof, message.attributes)
    # ProofS still checks out with another A, but the CL equation does not.
    wrong_attributes = (message.attributes[0], b"1", *message.attributes[2:])
    with pytest.raises(HolderError, match=r"^The Signature on the attributes is not correct\.$"):
        holder.construct_credential(builder, good, wrong_attributes)
    with pytest.raises(HolderError, match=r"^The Signature on the attributes is not correct\.$"):
        holder.construct_credential(
            builder, _replace_signature(message, v=good.signature.v + 1).signature_message, message.attributes
        )
    # An e outside the range (or not prime) is refused even when the proof is rebuilt around it.
    for e in (good.signature.e + (1 << 130), good.signature.e + 2):
        forged = IssueSignatureMessage(CLSignature(good.signature.a, e, good.signature.v), good.proof)
        with pytest.raises(HolderError):
            holder.construct_credential(builder, forged, message.attributes)


@pytest.mark.parametrize(
    ("mode", "prefix", "hidden_category"),
    [
        (CategoryMode.DISCLOSED_V2_SERIALIZATION, "NL2:", False),
        (CategoryMode.DISCLOSED_V3_SERIALIZATION, "NL3:", False),
        (CategoryMode.HIDDEN, "NL3:", True),
    ],
)
def test_disclosure_modes(backend: str, issuer: Issuer, key_map, mode: CategoryMode, prefix: str, hidden_category: bool) -> None:  # type: ignore[no-untyped-def]
    secret, builders, messages = _issue(issuer, V3_ATTRIBUTES, 3)
    credential = holder.construct_credentials(builders, messages, 3)[0]
    qr, identifier = holder.disclose_qr(secret, credential, mode, NOW, randbits=seeded(2))
    assert qr.startswith(prefix)
    verified = verifier.verify_qr(qr, key_map)
    expected = {k: v for k, v in V3_ATTRIBUTES.items() if not (hidden_category and k == "category")}
    assert verified.attributes == expected
    assert verified.proof_identifier == identifier and verified.disclosure_time == NOW
    assert verified.issuer_pk_id == KEY_ID and verified.credential_version == 3
    # A wrong secret gives a proof that does not verify.
    qr_wrong, _ = holder.disclose_qr(secret + 1, credential, mode, NOW)
    with pytest.raises(verifier.VerificationError, match="^Could not verify proof: Invalid proof$"):
        verifier.verify_qr(qr_wrong, key_map)


def test_disclosure_identical_across_backends(issuer: Issuer) -> None:
    secret, builders, messages = _issue(issuer, V2_ATTRIBUTES, 2)
    credential = holder.construct_credentials(builders, messages, 2)[0]
    qrs = []
    for name in ("gmpy2", "python"):
        with arith.backend(name):
            qrs.append(holder.disclose_qr(secret, credential, CategoryMode.HIDDEN, NOW, randbits=seeded(8)))
    assert qrs[0] == qrs[1]


def test_issue_static(backend: str, issuer: Issuer, key_map) -> None:  # type: ignore[no-untyped-def]
    attributes = {**V2_ATTRIBUTES, "isPaperProof": "1"}
    qr, identifier = holder.issue_static(issuer, attributes, 2, KEY_ID)
    assert split_qr(qr)[0] == "2"
    result = verifier.verify(qr, "3G", key_map, CONFIG, NOW + 3600)
    assert result.ok, result.error
    assert result.credential is not None
    assert result.credential.disclosure_time == 0 and result.credential.proof_identifier == identifier
    assert result.credential.attributes == attributes


_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    version=st.sampled_from([2, 3]),
    values=st.fixed_dictionaries({name: _values for name in ATTRIBUTE_NAMES[3]}),
    amount=st.integers(min_value=1, max_value=3),
    mode=st.sampled_from(list(CategoryMode)),
    backend_name=st.sampled_from(["gmpy2", "python"]),
)
def test_round_trip_property(
    issuer: Issuer, key_map, version: int, values: dict[str, str], amount: int, mode: CategoryMode, backend_name: str
) -> None:  # type: ignore[no-untyped-def]
    """prepare → commit → issue (JSON route) → construct → disclose → verify, random attribute maps."""
    attributes = {name: values[name] for name in ATTRIBUTE_NAMES[version]}
    routes = signer.Signer(issuer)
    with arith.backend(backend_name):
        spec_json = json.loads(routes.prepare_issue(json.dumps({"credentialAmount": amount}).encode()))
        key = issuer.find_key(KEY_ID)
        secret = holder.generate_secret()
        builders, commitments = holder.create_commitments(key.public, secret, decode_big_int(spec_json["issuerNonce"]), amount)
        request = {
            "prepareIssueMessage": spec_json,
            "issueCommitmentMessage": commitments.to_json(),
            "credentialsAttributes": [attributes] * amount,
            "credentialVersion": version,
        }
        response = json.loads(routes.issue(json.dumps(request).encode()))
        messages = [CreateCredentialMessage.from_json(item) for item in response]
        credentials = holder.construct_credentials(builders, messages, version)
        assert [credential.read() for credential in credentials] == [(attributes, version)] * amount
        qr, identifier = holder.disclose_qr(secret, credentials[-1], mode, NOW)
        verified = verifier.verify_qr(qr, key_map)
    hide = mode == CategoryMode.HIDDEN
    assert verified.attributes == {k: v for k, v in attributes.items() if not (hide and k == "category")}
    assert verified.proof_identifier == identifier
