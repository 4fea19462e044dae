"""idemix.verifier: the real upstream vectors with their exact per-policy results, and the rules."""

from __future__ import annotations

import dataclasses

import pytest

from idemix import holder, keys, verifier
from idemix.encoding import SerializedProof, dutch_base45_decode, dutch_base45_encode, split_qr
from idemix.issuer import Issuer
from idemix.tests.conftest import KEY_ID, V2_ATTRIBUTES

POLICIES = ("1G", "3G", "2")


def _expected_ok(expectation: str) -> bool:
    return expectation == "success"


def test_vectors_exact_results(backend: str, vectors, key_map) -> None:  # type: ignore[no-untyped-def]
    config = verifier.VerifierConfig.from_json(vectors["verifier_config"])
    assert config.proof_identifier_denylist == frozenset({"STFNx7A24ZI1u5WDX8X9BA=="})
    now = vectors["verification_time_unix"]
    assert len(vectors["vectors"]) == 5
    for vector in vectors["vectors"]:
        credential = verifier.verify_qr(vector["qr"], key_map)  # crypto: valid
        assert vector["expect"]["crypto"] == "valid"
        assert credential.attributes == vector["disclosed_attributes"]
        assert credential.proof_identifier_b64 == vector["proof_identifier"]
        assert credential.credential_version == vector["credential_version"]
        assert credential.issuer_pk_id == "VWS-TEST-0"
        assert credential.attributes.get("category") == vector["category"]
        for policy in POLICIES:
            result = verifier.verify(vector["qr"], policy, key_map, config, now)
            expectation = vector["expect"].get(policy, "fail (unknown policy)")
            assert result.ok is _expected_ok(expectation), (vector["name"], policy, result.error)
            if policy == "2":
                assert result.error == "Unrecognized policy was provided"
        if vector["name"] == "denied":
            result = verifier.verify(vector["qr"], "3G", key_map, config, now)
            assert result.error == "The credential identifier was present in the proof identifier denylist"
            lifted = verifier.VerifierConfig(qr_valid_for_seconds=60)
            assert verifier.verify(vector["qr"], "3G", key_map, lifted, now).ok


def test_vectors_pass_exactly_as_listed(vectors, key_map) -> None:  # type: ignore[no-untyped-def]
    config = verifier.VerifierConfig.from_json(vectors["verifier_config"])
    now = vectors["verification_time_unix"]
    table = {
        vector["name"]: tuple(verifier.verify(vector["qr"], policy, key_map, config, now).ok for policy in ("1G", "3G"))
        for vector in vectors["vectors"]
    }
    assert table == {
        "category_absent": (False, True),
        "category_empty": (False, True),
        "category_1G": (True, True),
        "category_3G": (False, True),
        "denied": (False, False),
    }
    first = verifier.verify(vectors["vectors"][2]["qr"], "1", key_map, config, now)
    assert first.ok and first.details == {
        "credentialVersion": "3",
        "isSpecimen": "0",
        "issuerCountryCode": "NL",
        "firstNameInitial": "F",
        "lastNameInitial": "B",
        "birthDay": "27",
        "birthMonth": "4",
    }


def test_key_id_map_is_needed(vectors, public_key) -> None:  # type: ignore[no-untyped-def]
    qr = vectors["vectors"][0]["qr"]
    with pytest.raises(
        verifier.VerificationError, match="^Could not verify proof: Could not find public key for kid VWS-TEST-0$"
    ):
        verifier.verify_qr(qr, {"TST-KEY-01": public_key})
    assert verifier.verify_qr(qr, keys.with_aliases(public_key, ["VWS-TEST-0"])).issuer_pk_id == "VWS-TEST-0"


def _mutate_proof(qr: str, **changes: int) -> str:
    version, payload = split_qr(qr)
    proof = SerializedProof.from_der(dutch_base45_decode(payload), version)
    return f"NL{version}:" + dutch_base45_encode(dataclasses.replace(proof, **changes).to_der(version))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda qr: "NL:" + qr[4:], "QR is not prefixed as an NL entry proof"),
        (lambda qr: "NL4:" + qr[4:], "Unsupported proof version"),
        (lambda qr: "NL2:" + qr[4:] + "a", "Could not base45 decode v2 proof"),
        (lambda qr: "NL3:" + qr[4:], "Could not unmarshal v3 proof"),
        (lambda qr: "NL2:" + qr[4:-3], "Could not unmarshal v2 proof"),
        (lambda qr: _mutate_proof(qr, c=12345), "Could not verify proof: Invalid proof"),
        (lambda qr: _mutate_proof(qr, disclosure_time=1), "Could not verify proof: Invalid proof"),
        (lambda qr: _mutate_proof(qr, e_response=1 << 505), "Could not verify proof: Invalid proof"),
        (lambda qr: _mutate_proof(qr, a_disclosed=()), "Could not verify proof: The metadata attribute must be disclosed"),
    ],
)
def test_malformed_qr(vectors, key_map, change, error: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(verifier.VerificationError) as caught:
        verifier.verify_qr(change(vectors["vectors"][0]["qr"]), key_map)
    assert caught.value.text == error


def test_disclosed_attribute_tampering(vectors, key_map) -> None:  # type: ignore[no-untyped-def]
    qr = vectors["vectors"][0]["qr"]
    version, payload = split_qr(qr)
    proof = SerializedProof.from_der(dutch_base45_decode(payload), version)
    disclosed = list(proof.a_disclosed)
    disclosed[-1] = (ord("5") << 1) | 1  # birthMonth 4 → 5
    tampered = _mutate_proof(qr, a_disclosed=tuple(disclosed))  # type: ignore[arg-type]
    with pytest.raises(verifier.VerificationError, match="Invalid proof"):
        verifier.verify_qr(tampered, key_map)


def test_validity_and_freshness(issuer: Issuer, key_map) -> None:  # type: ignore[no-untyped-def]
    config = verifier.VerifierConfig(qr_valid_for_seconds=60)
    attributes = {**V2_ATTRIBUTES, "validFrom": "1000000", "validForHours": "2"}
    secret, builders, messages = _issue_one(issuer, attributes)
    credential = holder.construct_credentials(builders, messages, 2)[0]
    at = 1003600
    qr, _ = holder.disclose_qr(secret, credential, holder.CategoryMode.DISCLOSED_V2_SERIALIZATION, at)

    def check(now: int) -> str:
        return verifier.verify(qr, "3G", key_map, config, now).error

    assert check(at) == "" and check(at + 60) == "" and check(at - 60) == ""
    assert check(at + 61) == "The credential has been generated too long ago, or clock skew is too large"
    assert check(at - 61) == "The credential has been generated too long ago, or clock skew is too large"
    old = verifier.verify(qr, "3G", key_map, verifier.VerifierConfig(qr_valid_for_seconds=10**6), 1000000 + 7200)
    assert old.error == "The credential is not valid anymore"
    early = verifier.verify(qr, "3G", key_map, verifier.VerifierConfig(qr_valid_for_seconds=10**6), 999999)
    assert early.error == "The credential is not yet valid"
    assert verifier.verify(qr, "1G", key_map, config, at).error == "The credential did not contain the required 1G attribute"


def test_unparsable_validity(issuer: Issuer, key_map) -> None:  # type: ignore[no-untyped-def]
    secret, builders, messages = _issue_one(issuer, {**V2_ATTRIBUTES, "validFrom": " 12"})
    credential = holder.construct_credentials(builders, messages, 2)[0]
    qr, _ = holder.disclose_qr(secret, credential, holder.CategoryMode.HIDDEN, 0)
    result = verifier.verify(qr, "3G", key_map, verifier.VerifierConfig(), 100)
    assert result.error == 'Could not parse validFrom as int: strconv.ParseInt: parsing " 12": invalid syntax'


def _issue_one(issuer: Issuer, attributes: dict[str, str]):  # type: ignore[no-untyped-def]
    spec = issuer.prepare_issue(1)
    key = issuer.find_key(KEY_ID)
    secret = holder.generate_secret()
    builders, commitments = holder.create_commitments(key.public, secret, spec.issuer_nonce, 1)
    return secret, builders, issuer.issue(spec, commitments, [attributes], 2)


def test_qr_issuer_pk_id_reads_the_metadata(vectors) -> None:  # type: ignore[no-untyped-def]
    qr = vectors["vectors"][0]["qr"]
    assert verifier.qr_issuer_pk_id(qr) == "VWS-TEST-0"
    with pytest.raises(verifier.VerificationError):
        verifier.qr_issuer_pk_id("NL:ABC")
