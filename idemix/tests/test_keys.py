"""idemix.keys: gabi XML keys, validation of a pair, and generation (at a small size)."""

from __future__ import annotations

import dataclasses

import pytest

from idemix import arith, keys
from idemix.tests.conftest import reference_dir, seeded


def test_test_key_parses(public_key: keys.PublicKey, secret_key: keys.SecretKey) -> None:
    assert public_key.n.bit_length() == 2048
    assert len(public_key.r) == 12
    assert public_key.params.le == 645 and public_key.params.lstatzk == 128
    assert public_key.expiry_date == 1643236269 and public_key.epoch_length == 432000
    assert secret_key.p == 2 * secret_key.p_prime + 1
    assert secret_key.order == secret_key.p_prime * secret_key.q_prime


def test_xml_written_byte_for_byte_like_gabi(public_key: keys.PublicKey, secret_key: keys.SecretKey) -> None:
    directory = reference_dir() / "keys" / "idemix"
    assert keys.public_key_xml(public_key) == (directory / "pk.xml").read_text()
    assert keys.secret_key_xml(secret_key) == (directory / "sk.xml").read_text()


def test_test_pair_validates(backend: str, public_key: keys.PublicKey, secret_key: keys.SecretKey) -> None:
    assert keys.validate_key_pair(public_key, secret_key) == []


def _non_residue(prime: int) -> int:
    return next(x for x in range(2, 1000) if not arith.legendre_is_residue(x, prime))


def test_validation_finds_problems(public_key: keys.PublicKey, secret_key: keys.SecretKey) -> None:
    wrong_n = dataclasses.replace(public_key, n=public_key.n + 2)
    assert keys.validate_key_pair(wrong_n, secret_key) == ["n is not p·q"]

    # A non-residue modulo p as R_3 (combined with 1 modulo q by CRT).
    x = _non_residue(secret_key.p)
    p, q = secret_key.p, secret_key.q
    bad_base = (x * q * pow(q, -1, p) + p * pow(p, -1, q)) % public_key.n
    bad_bases = dataclasses.replace(public_key, r=(*public_key.r[:3], bad_base, *public_key.r[4:]))
    assert keys.validate_key_pair(bad_bases, secret_key) == ["R_3 is not a quadratic residue modulo n"]

    # A p' that does not belong to p, and a p whose p' is composite.
    not_safe = dataclasses.replace(secret_key, p_prime=secret_key.p_prime * 3)
    assert "p is not 2·p'+1" in keys.validate_key_pair(public_key, not_safe)
    unsafe = keys.SecretKey(p=2 * 15 + 1, q=2 * 11 + 1, p_prime=15, q_prime=11)
    problems = keys.validate_key_pair(keys.PublicKey(n=31 * 23, z=4, s=4, r=(4,)), unsafe)
    assert problems == ["p' is not prime (p is not a safe prime)"]


def test_parse_errors() -> None:
    with pytest.raises(keys.KeyFormatError, match="not XML"):
        keys.parse_public_key(b"<nope")
    with pytest.raises(keys.KeyFormatError, match="IssuerPublicKey"):
        keys.parse_public_key(b'<IssuerPrivateKey xmlns="http://www.zurich.ibm.com/security/idemix"/>')
    with pytest.raises(keys.KeyFormatError, match="missing element Elements"):
        keys.parse_secret_key(b'<IssuerPrivateKey xmlns="http://www.zurich.ibm.com/security/idemix"/>')


def test_generate_small_key_pair(backend: str) -> None:
    seen: list[tuple[str, int]] = []
    secret, public = keys.generate_key_pair(
        512, num_bases=12, randbits=seeded(42), progress=lambda stage, count: seen.append((stage, count))
    )
    assert public.n.bit_length() == 512
    assert len(public.r) == 12
    assert keys.validate_key_pair(public, secret) == []
    assert [stage for stage, _ in seen].count("safe prime found") == 2
    assert ("bases", 12) in seen
    assert keys.parse_public_key(keys.public_key_xml(public)) == public
    assert keys.parse_secret_key(keys.secret_key_xml(secret)) == secret


def test_generation_identical_across_backends() -> None:
    results = []
    for name in ("gmpy2", "python"):
        with arith.backend(name):
            results.append(keys.generate_key_pair(384, num_bases=3, randbits=seeded(5)))
    assert results[0] == results[1]


def test_safe_prime(backend: str) -> None:
    prime = keys.random_safe_prime(128, seeded(9))
    assert prime.bit_length() == 128
    assert arith.is_prime(prime) and arith.is_prime(prime // 2)


def test_key_map_aliases(public_key: keys.PublicKey) -> None:
    mapping = keys.with_aliases(public_key)
    assert mapping["TST-KEY-01"] is mapping["VWS-TEST-0"] is public_key
    with pytest.raises(keys.KeyFormatError):
        keys.key_map({"": public_key})
