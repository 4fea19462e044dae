"""idemix.arith: both backends give the same answers, and the answers are right."""

from __future__ import annotations

import math
import random

import pytest

from idemix import arith
from idemix.tests.conftest import seeded

MERSENNE_127 = 2**127 - 1
MERSENNE_521 = 2**521 - 1
# Composites that fool weaker tests: Carmichael numbers, strong pseudoprimes to several bases.
PSEUDOPRIMES = [561, 1105, 2047, 3215031751, 3825123056546413051, 318665857834031151167461]


def test_both_backends_are_available() -> None:
    assert set(arith.BACKENDS) == {"gmpy2", "python"}


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        arith.use_backend("nope")


@pytest.mark.parametrize("seed", range(5))
def test_powmod_invert_identical_across_backends(seed: int) -> None:
    rng = random.Random(seed)
    modulus = rng.getrandbits(2048) | 1
    base = rng.getrandbits(2040)
    exponent = rng.getrandbits(700)
    results = {}
    for name in ("gmpy2", "python"):
        with arith.backend(name):
            results[name] = (
                arith.powmod(base, exponent, modulus),
                arith.powmod(base, -exponent, modulus) if math.gcd(base, modulus) == 1 else None,
                arith.invert(base, modulus) if math.gcd(base, modulus) == 1 else None,
            )
    assert results["gmpy2"] == results["python"]
    assert results["python"][0] == pow(base, exponent, modulus)


def test_negative_exponent_uses_the_inverse(backend: str) -> None:
    assert arith.powmod(3, -1, 7) == 5
    assert arith.powmod(3, -2, 7) == 5 * 5 % 7


def test_invert_refuses_a_shared_factor(backend: str) -> None:
    with pytest.raises(arith.NotInvertibleError):
        arith.invert(6, 9)
    with pytest.raises(arith.NotInvertibleError):
        arith.powmod(6, -1, 9)
    assert arith.invert(4, 9) == 7


@pytest.mark.parametrize("n", [2, 3, 5, 97, 1999, 2003, 2**61 - 1, MERSENNE_127, MERSENNE_521, 2**64 + 13])
def test_primes_are_prime(backend: str, n: int) -> None:
    assert arith.is_prime(n) is True


@pytest.mark.parametrize("n", [0, 1, 4, 9, 2001, 2**64 + 1, 2**128 + 1, MERSENNE_127 * MERSENNE_521, *PSEUDOPRIMES])
def test_composites_are_not_prime(backend: str, n: int) -> None:
    assert arith.is_prime(n) is False


def test_next_prime_from(backend: str) -> None:
    assert arith.next_prime_from(2**64) == 2**64 + 13
    assert arith.next_prime_from(2**64 + 13) == 2**64 + 13
    assert arith.next_prime_from(24) == 29
    assert arith.next_prime_from(2) == 2
    assert arith.next_prime_from(2**64, limit=2**64 + 12) is None


def test_next_prime_identical_across_backends() -> None:
    start = (1 << 644) + random.Random(7).getrandbits(119)
    found = {}
    for name in ("gmpy2", "python"):
        with arith.backend(name):
            found[name] = arith.next_prime_from(start)
    assert found["gmpy2"] == found["python"]
    assert found["python"] >= start
    with arith.backend("gmpy2"):
        # No prime was skipped: nothing between start and the result is prime.
        assert not any(arith.is_prime(n) for n in range(start, found["python"]))


def test_crt_matches_plain_powmod(backend: str, secret_key) -> None:  # type: ignore[no-untyped-def]
    crt = arith.CrtModulus.from_factors(secret_key.p, secret_key.q)
    n = secret_key.p * secret_key.q
    rng = random.Random(3)
    for _ in range(5):
        base, exponent = rng.getrandbits(2048) % n, rng.getrandbits(2900)
        assert crt.powmod(base, exponent) == pow(base, exponent, n)
    # Bases sharing a factor with n, exponent zero, and negative exponents.
    assert crt.powmod(secret_key.p * 5, 12345) == pow(secret_key.p * 5, 12345, n)
    assert crt.powmod(secret_key.q, 0) == 1
    assert crt.powmod(7, -3) == pow(7, -3, n)


def test_random_helpers_respect_their_ranges() -> None:
    randbits = seeded(1)
    assert all(0 <= arith.random_below(10, randbits) < 10 for _ in range(200))
    assert {arith.random_below(3, randbits) for _ in range(200)} == {0, 1, 2}
    units = [arith.random_unit(12, randbits) for _ in range(100)]
    assert set(units) <= {1, 5, 7, 11}
    assert arith.random_bits(0, randbits) == 0
    assert arith.random_bits(128, seeded(2)) == seeded(2)(128)


def test_legendre(backend: str) -> None:
    assert arith.legendre_is_residue(4, 7) is True
    assert arith.legendre_is_residue(3, 7) is False
    assert arith.legendre_is_residue(14, 7) is False
