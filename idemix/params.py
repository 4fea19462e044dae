"""Idemix system parameters (signers.md §2.7): the bit lengths gabi derives per modulus size.

The base parameters are gabi's defaults per key length; the derived ones follow gabi's formulas.
For the 2048-bit test key: Le = 645 (so `e` lies in [2^644, 2^644 + 2^119]), Lv = 2820,
Lstatzk = 128 (the nonce length), LvPrimeCommit = 2560 (the ProofU range bound).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SystemParameters:
    """Bit lengths of one parameter set (names follow gabi: Le' is `le_prime`, Lv' is `lv_prime`)."""

    le_prime: int
    lh: int
    lm: int
    ln: int
    lstatzk: int

    @property
    def le(self) -> int:
        return self.lstatzk + self.lh + self.lm + 5

    @property
    def le_commit(self) -> int:
        return self.le_prime + self.lstatzk + self.lh

    @property
    def lm_commit(self) -> int:
        return self.lm + self.lstatzk + self.lh

    @property
    def lra(self) -> int:
        return self.ln + self.lstatzk

    @property
    def ls_commit(self) -> int:
        return self.lm + self.lstatzk + self.lh + 1

    @property
    def lv(self) -> int:
        return self.ln + 2 * self.lstatzk + self.lh + self.lm + 4

    @property
    def lv_commit(self) -> int:
        return self.lv + self.lstatzk + self.lh

    @property
    def lv_prime(self) -> int:
        return self.ln + self.lstatzk

    @property
    def lv_prime_commit(self) -> int:
        return self.ln + 2 * self.lstatzk + self.lh

    @property
    def e_start_bits(self) -> int:
        """`e` lies in [2^e_start_bits, 2^e_start_bits + 2^e_length_bits]."""
        return self.le - 1

    @property
    def e_length_bits(self) -> int:
        return self.le_prime - 1


PARAMETERS: dict[int, SystemParameters] = {
    1024: SystemParameters(le_prime=120, lh=256, lm=256, ln=1024, lstatzk=80),
    2048: SystemParameters(le_prime=120, lh=256, lm=256, ln=2048, lstatzk=128),
    4096: SystemParameters(le_prime=120, lh=256, lm=512, ln=4096, lstatzk=128),
}

#: The parameter set of the domestic scheme (its nonces, secrets and challenges).
DEFAULT = PARAMETERS[2048]

#: The holder's secret-key randomizer is sized for the smallest key length (gabi's choice).
SECRET_KEY_COMMIT_BITS = PARAMETERS[1024].lm_commit


def parameters_for(modulus_bits: int) -> SystemParameters:
    """The parameters for a modulus of this size; sizes without defaults (small test keys)
    use the 2048-bit parameters with their own `ln`, which keeps every range check meaningful."""
    known = PARAMETERS.get(modulus_bits)
    if known is not None:
        return known
    base = PARAMETERS[2048]
    return SystemParameters(le_prime=base.le_prime, lh=base.lh, lm=base.lm, ln=modulus_bits, lstatzk=base.lstatzk)
