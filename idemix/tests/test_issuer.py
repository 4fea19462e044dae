"""idemix.issuer and idemix.signer: commitment checks, signatures, Go error texts (§2.1–§2.3, §2.6)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from idemix import arith, holder, primes, proofs, signer
from idemix import issuer as issuer_module
from idemix.encoding import decode_big_int, encode_big_int
from idemix.issuer import IdemixError, IssuanceError, Issuer
from idemix.tests.conftest import KEY_ID, V2_ATTRIBUTES, V3_ATTRIBUTES, seeded


def _commit(issuer_: Issuer, count: int, seed: int = 1) -> tuple[Any, Any, Any, int]:
    spec = issuer_.prepare_issue(count)
    key = issuer_.find_key(KEY_ID)
    secret = holder.generate_secret(seeded(seed))
    builders, commitments = holder.create_commitments(key.public, secret, spec.issuer_nonce, count, randbits=seeded(seed))
    return spec, builders, commitments, secret


def test_prepare_issue(issuer: Issuer) -> None:
    spec = issuer.prepare_issue(34)
    assert spec.issuer_pk_id == KEY_ID and spec.credential_amount == 34
    assert 0 <= spec.issuer_nonce < 2**128
    assert issuer.prepare_issue(1, key_identifier=KEY_ID).issuer_pk_id == KEY_ID
    with pytest.raises(IssuanceError, match="^Specified key for identifier NOPE is not present$"):
        issuer.prepare_issue(1, key_identifier="NOPE")
    with pytest.raises(IssuanceError, match="^Specified key for usage static is not present$"):
        issuer.prepare_issue(1, key_usage="static")
    with pytest.raises(IssuanceError, match="^No key identifier or usage was specified$"):
        issuer.prepare_issue(1, key_usage="")


@pytest.mark.parametrize(("version", "attributes"), [(2, V2_ATTRIBUTES), (3, V3_ATTRIBUTES)])
def test_issue_signs_each_map(backend: str, issuer: Issuer, version: int, attributes: dict[str, str]) -> None:
    spec, _builders, commitments, _secret = _commit(issuer, 3)
    messages = issuer.issue(spec, commitments, [attributes, attributes], version)
    assert len(messages) == 2  # the third commitment is ignored
    key = issuer.find_key(KEY_ID)
    for message in messages:
        signature = message.signature_message.signature
        assert message.attributes[0] == bytes.fromhex("300f0401") + bytes([version]) + b"\x13\x0a" + KEY_ID.encode()
        assert [value.decode() for value in message.attributes[1:]] == [attributes[name] for name in attributes]
        assert proofs.e_in_range(key.public, signature.e) and arith.is_prime(signature.e)
        assert signature.v.bit_length() == key.public.params.lv
        assert proofs.verify_proof_s(key.public, signature, message.signature_message.proof, commitments.nonce2)


def test_signature_identical_across_backends(public_key, secret_key) -> None:  # type: ignore[no-untyped-def]
    e = primes.random_prime_in_range(644, 119, seeded(3))
    results = []
    for name in ("gmpy2", "python"):
        with arith.backend(name):
            results.append(issuer_module.sign(public_key, secret_key, 12345, [3, 5, 7], 99, e, randbits=seeded(4)))
    assert results[0] == results[1]
    # CRT and plain arithmetic agree: A^e · S^v · R_1^3 R_2^5 R_3^7 · U = Z.
    signature = results[0].signature
    n = public_key.n
    lhs = pow(signature.a, e, n) * pow(public_key.s, signature.v, n) * 12345 % n
    lhs = lhs * pow(public_key.r[1], 3, n) * pow(public_key.r[2], 5, n) * pow(public_key.r[3], 7, n) % n
    assert lhs == public_key.z


def _tamper(
    commitments: issuer_module.IssueCommitmentMessage, index: int, **changes: int
) -> issuer_module.IssueCommitmentMessage:
    proofs_ = list(commitments.proofs)
    proofs_[index] = dataclasses.replace(proofs_[index], **changes)
    return dataclasses.replace(commitments, proofs=tuple(proofs_))


def test_commitment_checks(issuer: Issuer) -> None:
    spec, _builders, commitments, _secret = _commit(issuer, 2)
    failure = "^Holder commitments did did not verify against nonce$"
    first = commitments.proofs[1]
    assert first is not None
    for bad in (
        _tamper(commitments, 1, u=first.u + 1),
        _tamper(commitments, 1, s_response=first.s_response + 1),
        _tamper(commitments, 1, v_prime_response=first.v_prime_response + 1),
        _tamper(commitments, 0, c=first.c + 1),
        _tamper(commitments, 1, v_prime_response=first.v_prime_response + (1 << 2561)),
        _tamper(commitments, 0, u=0),
    ):
        with pytest.raises(IssuanceError, match=failure):
            issuer.issue(spec, bad, [V2_ATTRIBUTES], 2)
    with pytest.raises(IssuanceError, match=failure):
        issuer.issue(dataclasses.replace(spec, issuer_nonce=spec.issuer_nonce + 1), commitments, [V2_ATTRIBUTES], 2)
    with pytest.raises(IssuanceError, match="^More credentials are being issued than commitments have been supplied$"):
        issuer.issue(spec, commitments, [V2_ATTRIBUTES] * 3, 2)
    with pytest.raises(IssuanceError, match="^Key specified by usage doesn't match prepare issue message public key id$"):
        issuer.issue(dataclasses.replace(spec, issuer_pk_id="VWS-TEST-0"), commitments, [V2_ATTRIBUTES], 2)
    with pytest.raises(IssuanceError, match="^Could not compute attributes list: The provided credentials version"):
        issuer.issue(spec, commitments, [V2_ATTRIBUTES], 4)
    with pytest.raises(IssuanceError, match="^Could not compute attributes list: Required attribute category was"):
        issuer.issue(spec, commitments, [V2_ATTRIBUTES], 3)
    with pytest.raises(IssuanceError, match="^Could not recognize issue commitment$"):
        issuer.issue(spec, dataclasses.replace(commitments, proofs=(None, *commitments.proofs)), [V2_ATTRIBUTES], 2)
    # Correct commitments pass, under the plain verifier as well as the CRT one.
    key = issuer.find_key(KEY_ID)
    assert issuer_module.verify_commitments(key.public, commitments.proofs, spec.issuer_nonce)
    assert issuer_module.verify_commitments(key.public, commitments.proofs, spec.issuer_nonce, key.secret)
    assert not issuer_module.verify_commitments(key.public, [], spec.issuer_nonce)


# -------------------------------------------------------------------------------------------- JSON routes


def _issue_request(issuer_: Issuer, count: int = 2, maps: int = 2, version: int = 2) -> dict[str, Any]:
    spec, _builders, commitments, _secret = _commit(issuer_, count)
    return {
        "prepareIssueMessage": spec.to_json(),
        "issueCommitmentMessage": commitments.to_json(),
        "credentialsAttributes": [V3_ATTRIBUTES if version == 3 else V2_ATTRIBUTES] * maps,
        "credentialVersion": version,
    }


def _error(call: Any, body: Any) -> tuple[int, str]:
    with pytest.raises(IdemixError) as caught:
        call(json.dumps(body).encode() if not isinstance(body, bytes) else body)
    return caught.value.status, caught.value.body


def test_routes_happy_path(issuer: Issuer) -> None:
    routes = signer.Signer(issuer)
    prepared = json.loads(routes.prepare_issue(b'{"credentialAmount": 34, "unknown": 1}'))
    assert list(prepared) == ["issuerPkId", "issuerNonce", "credentialAmount"]
    assert prepared["issuerPkId"] == KEY_ID and prepared["credentialAmount"] == 34
    assert decode_big_int(prepared["issuerNonce"]) < 2**128

    body = routes.issue(json.dumps(_issue_request(issuer, version=3)).encode())
    response = json.loads(body)
    assert b" " not in body and len(response) == 2
    first = response[0]
    assert list(first) == ["issueSignatureMessage", "attributes"]
    assert list(first["issueSignatureMessage"]["signature"]) == ["A", "e", "v", "KeyshareP"]
    assert first["issueSignatureMessage"]["signature"]["KeyshareP"] is None

    static = json.loads(
        routes.issue_static(
            json.dumps(
                {"credentialAttributes": {**V2_ATTRIBUTES, "isPaperProof": "1"}, "credentialVersion": 2, "keyIdentifier": KEY_ID}
            ).encode()
        )
    )
    assert static["qr"].startswith("NL2:") and len(static["proofIdentifier"]) == 24
    stats = json.loads(routes.stats())
    assert stats == {"Name": "random"}


def test_routes_errors(issuer: Issuer) -> None:
    routes = signer.Signer(issuer)
    request = _issue_request(issuer)

    tampered = json.loads(json.dumps(request))
    proof = tampered["issueCommitmentMessage"]["combinedProofs"][0]
    proof["U"] = encode_big_int(decode_big_int(proof["U"]) + 1)
    assert _error(routes.issue, tampered) == (
        500,
        "Could not issue credentials: Holder commitments did did not verify against nonce\n",
    )
    wrong_nonce = json.loads(json.dumps(request))
    wrong_nonce["prepareIssueMessage"]["issuerNonce"] = encode_big_int(12345)
    assert _error(routes.issue, wrong_nonce)[1].endswith("did did not verify against nonce\n")
    wrong_id = json.loads(json.dumps(request))
    wrong_id["prepareIssueMessage"]["issuerPkId"] = "VWS-TEST-0"
    assert _error(routes.issue, wrong_id) == (
        500,
        "Could not issue credentials: Key specified by usage doesn't match prepare issue message public key id\n",
    )
    fewer = {**request, "credentialsAttributes": [V2_ATTRIBUTES] * 3}
    assert _error(routes.issue, fewer) == (
        500,
        "Could not issue credentials: More credentials are being issued than commitments have been supplied\n",
    )
    malformed = json.loads(json.dumps(request))
    malformed["issueCommitmentMessage"]["n_2"] = "not*base64"
    status, text = _error(routes.issue, malformed)
    assert status == 400 and text.startswith("Could not JSON unmarshal issue message: illegal base64 data at input byte 3")
    assert _error(routes.issue, {**request, "credentialVersion": "2"}) == (
        400,
        "Could not JSON unmarshal issue message: json: cannot unmarshal string into Go struct field "
        "IssueMessage.credentialVersion of type int\n",
    )
    assert _error(routes.issue, {k: v for k, v in request.items() if k != "credentialsAttributes"}) == (
        400,
        "A required field of issue message is missing\n",
    )
    assert _error(routes.issue, b"") == (400, "Could not JSON unmarshal issue message: EOF\n")
    assert _error(routes.issue, {**request, "keyIdentifier": "NOPE"}) == (
        500,
        "Could not issue credentials: Could not find public key that is used to issue credentials: "
        "Specified key for identifier NOPE is not present\n",
    )
    assert _error(routes.issue, {**request, "credentialVersion": None}) == (
        500,
        "Could not issue credentials: Could not compute attributes list: The provided credentials version is not supported\n",
    )
    assert _error(routes.issue_static, {"credentialAttributes": V2_ATTRIBUTES, "credentialVersion": 2}) == (
        500,
        "Could not issue static proof: Could not create prepare issue message: No key identifier or usage was specified\n",
    )
    assert _error(routes.prepare_issue, {"credentialAmount": 1, "keyUsage": "static"}) == (
        500,
        "Specified key for usage static is not present\n",
    )
    assert _error(routes.prepare_issue, {"credentialAmount": "1"})[0] == 400


def test_process_prime_pool() -> None:
    with primes.ProcessPrimePool(size=4, lwm=1, hwm=3) as pool:
        assert pool.wait_until(4, timeout=60)
        before = pool.stats()
        assert before["Name"] == "in-memory" and before["Index"] == 4 and before["Size"] == 4
        assert (before["BitStart"], before["BitLength"]) == (644, 119)
        taken = [pool.take() for _ in range(6)]
        assert all(2**644 <= e <= 2**644 + 2**119 and arith.is_prime(e) for e in taken)
        assert len(set(taken)) == 6
        assert pool.wait_until(4, timeout=60)  # the background process refills the buffer
        assert pool.stats()["Depleted"] is False


def test_pool_without_workers_falls_back_and_counts_depletions() -> None:
    with primes.ProcessPrimePool(size=4, lwm=2, hwm=3, workers=0) as pool:
        first, second = pool.take(), pool.take()
        assert first != second and arith.is_prime(first) and 2**644 <= first <= 2**644 + 2**119
        stats = pool.stats()
        assert (stats["Index"], stats["Depleted"], stats["Depletions"]) == (0, True, 1)
        assert pool.synchronous_takes == 2


def test_random_prime_in_range_deterministic() -> None:
    assert primes.random_prime_in_range(644, 119, seeded(1)) == primes.random_prime_in_range(644, 119, seeded(1))
    small = primes.random_prime_in_range(10, 3, seeded(2))
    assert 1024 <= small <= 1032 and arith.is_prime(small)


def _take_in_worker(count: int) -> list[int]:
    return [_worker_pool.take() for _ in range(count)]


_worker_pool: Any = None


def _set_worker_pool(pool: Any) -> None:
    global _worker_pool
    _worker_pool = pool


def test_process_prime_pool_shared_with_a_worker_process() -> None:
    """A copy handed to a process pool worker takes from the same buffer and counts into the same
    statistics; the worker's copy owns nothing (closing it stops no process)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with primes.ProcessPrimePool(size=4, lwm=2, hwm=3, workers=0) as pool:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context, initializer=_set_worker_pool, initargs=(pool,)) as executor:
            taken = executor.submit(_take_in_worker, 2).result(timeout=120)
        assert len(set(taken)) == 2 and all(arith.is_prime(e) for e in taken)
        stats = pool.stats()
        assert (stats["Index"], stats["Depleted"], stats["Depletions"]) == (0, True, 1)
        assert pool.synchronous_takes == 2
