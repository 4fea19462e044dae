"""Big-integer arithmetic for the Idemix signer (signers.md §2.7): gmpy2 when installed, pure Python otherwise.

Both backends give identical results: every function returns a plain `int`, and the only
randomness comes from an injected `randbits`-like callable, so a search (for instance for a prime)
visits the same candidates under either backend. Select a backend with `use_backend()` (or the
`backend()` context manager in tests); the default is gmpy2 when it can be imported.
"""

from __future__ import annotations

import contextlib
import math
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

try:  # pragma: no cover - depends on the environment
    import gmpy2 as _gmpy2
except ImportError:  # pragma: no cover
    _gmpy2 = None

RandBits = Callable[[int], int]
"""A source of randomness shaped like `secrets.randbits`: `randbits(k)` is uniform in [0, 2^k)."""

DEFAULT_RANDBITS: RandBits = secrets.randbits

GMPY2_AVAILABLE = _gmpy2 is not None

#: Odd primes below 2000, for trial division and sieving.
SMALL_PRIMES: tuple[int, ...] = tuple(
    number for number in range(3, 2000, 2) if all(number % divisor for divisor in range(3, math.isqrt(number) + 1, 2))
)

#: Extra Miller-Rabin bases used after the Baillie-PSW test in the pure-Python backend.
_EXTRA_BASES: tuple[int, ...] = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53)


class NotInvertibleError(ArithmeticError):
    """An inverse was asked for a number that shares a factor with the modulus."""


# --------------------------------------------------------------------------------------------
# Pure-Python primitives


def _py_powmod(base: int, exponent: int, modulus: int) -> int:
    return pow(base, exponent, modulus)


def _py_invert(value: int, modulus: int) -> int:
    try:
        return pow(value, -1, modulus)
    except ValueError as error:
        raise NotInvertibleError("not invertible") from error


def _miller_rabin(n: int, base: int, d: int, s: int) -> bool:
    """One strong-probable-prime round for odd n = d * 2^s + 1."""
    x = pow(base, d, n)
    if x == 1 or x == n - 1:
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def _jacobi(a: int, n: int) -> int:
    """Jacobi symbol (a/n) for odd positive n."""
    a %= n
    result = 1
    while a:
        while a % 2 == 0:
            a //= 2
            if n % 8 in (3, 5):
                result = -result
        a, n = n, a
        if a % 4 == 3 and n % 4 == 3:
            result = -result
        a %= n
    return result if n == 1 else 0


def _strong_lucas(n: int) -> bool:
    """Strong Lucas probable-prime test with Selfridge's parameters (method A)."""
    if math.isqrt(n) ** 2 == n:
        return False
    d = 5
    while True:
        j = _jacobi(d, n)
        if j == -1:
            break
        if j == 0 and abs(d) != n:
            return False
        d = -d - 2 if d > 0 else -d + 2
    p, q = 1, (1 - d) // 4
    # n + 1 = k * 2^s with k odd
    k, s = n + 1, 0
    while k % 2 == 0:
        k //= 2
        s += 1
    half = (n + 1) // 2  # inverse of 2 modulo odd n
    u, v, qk = 1, p, q % n  # U_1, V_1, Q^1
    for bit in bin(k)[3:]:
        u, v = u * v % n, (v * v - 2 * qk) % n
        qk = qk * qk % n
        if bit == "1":
            u, v = (p * u + v) * half % n, (d * u + p * v) * half % n
            qk = qk * q % n
    if u == 0 or v == 0:
        return True
    for _ in range(s - 1):
        v = (v * v - 2 * qk) % n
        qk = qk * qk % n
        if v == 0:
            return True
    return False


def _py_is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n in (2, 3):
        return True
    if n % 2 == 0:
        return False
    for prime in SMALL_PRIMES:
        if n == prime:
            return True
        if n % prime == 0:
            return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    if not _miller_rabin(n, 2, d, s):
        return False
    if not _strong_lucas(n):
        return False
    return all(_miller_rabin(n, base, d, s) for base in _EXTRA_BASES)


# --------------------------------------------------------------------------------------------
# Backends


@dataclass(frozen=True, slots=True)
class Backend:
    """One implementation of the primitives; every function takes and returns plain ints."""

    name: str
    powmod: Callable[[int, int, int], int]
    invert: Callable[[int, int], int]
    is_prime: Callable[[int], bool]
    to_native: Callable[[int], Any] = field(default=int)


def _gmp_powmod(base: int, exponent: int, modulus: int) -> int:
    return int(_gmpy2.powmod(base, exponent, modulus))


def _gmp_invert(value: int, modulus: int) -> int:
    try:
        return int(_gmpy2.invert(value, modulus))
    except ZeroDivisionError as error:
        raise NotInvertibleError("not invertible") from error


def _gmp_is_prime(n: int) -> bool:
    return n >= 2 and bool(_gmpy2.is_prime(n, 25))


PYTHON = Backend("python", _py_powmod, _py_invert, _py_is_prime)
GMPY2: Backend | None = (
    Backend("gmpy2", _gmp_powmod, _gmp_invert, _gmp_is_prime, to_native=_gmpy2.mpz) if _gmpy2 is not None else None
)

BACKENDS: dict[str, Backend] = {"python": PYTHON}
if GMPY2 is not None:
    BACKENDS["gmpy2"] = GMPY2

_active: Backend = GMPY2 if GMPY2 is not None else PYTHON


def use_backend(name: str) -> Backend:
    """Select the backend ("gmpy2" or "python") for all later calls; returns the previous one."""
    global _active
    try:
        chosen = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown or unavailable arithmetic backend {name!r}") from None
    previous, _active = _active, chosen
    return previous


def active_backend() -> Backend:
    return _active


@contextlib.contextmanager
def backend(name: str) -> Iterator[Backend]:
    """Run a block with the named backend, restoring the previous one afterwards."""
    previous = use_backend(name)
    try:
        yield _active
    finally:
        use_backend(previous.name)


# --------------------------------------------------------------------------------------------
# Public functions (dispatch to the active backend)


def powmod(base: int, exponent: int, modulus: int) -> int:
    """base^exponent mod modulus; a negative exponent uses the inverse of the base."""
    if exponent < 0:
        return _active.powmod(invert(base, modulus), -exponent, modulus)
    return _active.powmod(base, exponent, modulus)


def invert(value: int, modulus: int) -> int:
    """The inverse of value modulo modulus; raises NotInvertibleError when there is none."""
    if modulus <= 1 or math.gcd(value, modulus) != 1:
        raise NotInvertibleError("not invertible")
    return _active.invert(value % modulus, modulus)


def is_prime(n: int) -> bool:
    """Probable-prime test (Baillie-PSW plus Miller-Rabin rounds); no known counterexample."""
    return _active.is_prime(n)


def legendre_is_residue(value: int, prime: int) -> bool:
    """Whether value is a non-zero quadratic residue modulo an odd prime (Euler's criterion)."""
    return value % prime != 0 and powmod(value, (prime - 1) // 2, prime) == 1


def random_bits(bits: int, randbits: RandBits = DEFAULT_RANDBITS) -> int:
    """Uniform in [0, 2^bits)."""
    return randbits(bits) if bits > 0 else 0


def random_below(bound: int, randbits: RandBits = DEFAULT_RANDBITS) -> int:
    """Uniform in [0, bound) by rejection sampling."""
    if bound <= 0:
        raise ValueError("bound must be positive")
    bits = bound.bit_length()
    while True:
        candidate = randbits(bits)
        if candidate < bound:
            return candidate


def random_unit(modulus: int, randbits: RandBits = DEFAULT_RANDBITS) -> int:
    """Uniform in the multiplicative group: [1, modulus) and coprime with modulus."""
    while True:
        candidate = random_below(modulus, randbits)
        if candidate > 0 and math.gcd(candidate, modulus) == 1:
            return candidate


def next_prime_from(start: int, limit: int | None = None) -> int | None:
    """The smallest prime >= start (and <= limit when given), found with a sieve over small primes.

    Deterministic: both backends return the same prime for the same start.
    """
    candidate = max(start, 2)
    if candidate <= 3:
        return candidate if limit is None or candidate <= limit else None
    if candidate % 2 == 0:
        candidate += 1
    window = 4096  # odd numbers per sieve segment
    while limit is None or candidate <= limit:
        sieve = bytearray(b"\x01") * window
        for prime in SMALL_PRIMES:
            if prime * prime > candidate + 2 * window:
                break
            # first index i with candidate + 2i ≡ 0 (mod prime)
            first = (-candidate * pow(2, -1, prime)) % prime
            if candidate + 2 * first == prime:
                first += prime
            sieve[first::prime] = bytes(len(range(first, window, prime)))
        for index in range(window):
            if sieve[index]:
                number = candidate + 2 * index
                if limit is not None and number > limit:
                    return None
                if is_prime(number):
                    return number
        candidate += 2 * window
    return None


@dataclass(frozen=True, slots=True)
class CrtModulus:
    """Exponentiation modulo n = p·q through the factors (Chinese remainder theorem, Garner's form).

    Gives exactly `pow(base, exponent, p * q)` for every base and non-negative exponent.
    """

    p: int
    q: int
    q_inverse_mod_p: int

    @classmethod
    def from_factors(cls, p: int, q: int) -> CrtModulus:
        return cls(p, q, invert(q, p))

    @property
    def n(self) -> int:
        return self.p * self.q

    def _half(self, base: int, exponent: int, prime: int) -> int:
        residue = base % prime
        if residue == 0:
            return 0 if exponent > 0 else 1 % prime
        return _active.powmod(residue, exponent % (prime - 1), prime)

    def powmod(self, base: int, exponent: int) -> int:
        if exponent < 0:
            base, exponent = invert(base, self.n), -exponent
        mp = self._half(base, exponent, self.p)
        mq = self._half(base, exponent, self.q)
        h = (self.q_inverse_mod_p * (mp - mq)) % self.p
        return mq + h * self.q
