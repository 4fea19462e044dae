"""The rule configuration snapshot the pure rules read (settings.md §1.4, rules-domestic.md §0).

Field names are the spec's setting names in lower case. One immutable snapshot is read per
request and used for both computations (decision w). Loading it from the database is the job of
`events.selectors.rule_configuration_get`; the rules only ever see this dataclass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class HpkEntry:
    vp: str
    mp: str
    ma: str


@dataclass(frozen=True)
class RuleConfig:
    domestic_nl_dynamic_signer_enabled: bool = True
    domestic_nl_print_signer_enabled: bool = True
    eu_international_dynamic_signer_enabled: bool = True
    eu_international_print_signer_enabled: bool = True
    domestic_strip_validity_hours: int = 24
    domestic_maximum_randomized_overlap_hours: int = 4
    domestic_maximum_issuance_days: int = 28
    domestic_nl_expiry_days_vaccination: int = 1461
    domestic_nl_positive_test_recovery_days: int = 11
    domestic_nl_expiry_days_positive_test: int = 180
    domestic_nl_expiry_hours_negative_test: int = 40
    domestic_print_proof_validity_hours_vaccination: int = 2016
    domestic_print_proof_validity_hours_recovery: int = 2016
    eu_international_greencard_expiration_time_days: int = 28
    eu_international_print_expiration_time_days: int | None = None
    eu_international_positive_test_recovery_days: int = 11
    eu_international_positivetest_recovery_du_days: int = 180
    eu_recovery_test_types: tuple[str, ...] = ("LP6464-4", "LP217198-3")
    eu_international_override_tc: str = ""
    deduplication_margin: int = 2
    cms_signing_time_skew_seconds: int = 300
    # Rule data (rules-domestic.md §0).
    hpk_codes: Mapping[str, HpkEntry] = field(default_factory=lambda: MappingProxyType({}))
    vaccine_manufacturers: frozenset[str] = frozenset()
    vaccine_products: frozenset[str] = frozenset()
    test_types: frozenset[str] = frozenset()
    required_doses: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    partial_disclosure: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def eu_print_expiration_days(self) -> int:
        """`EU_INTERNATIONAL_PRINT_EXPIRATION_TIME_DAYS`, empty = the app value (rules-eu.md §0)."""
        if self.eu_international_print_expiration_time_days is None:
            return self.eu_international_greencard_expiration_time_days
        return self.eu_international_print_expiration_time_days


def credential_amount(config: RuleConfig) -> int:
    """`credentialAmount` for prepare-issue (rules-domestic.md §9)."""
    return math.ceil(
        config.domestic_maximum_issuance_days
        * 24
        / (config.domestic_strip_validity_hours - config.domestic_maximum_randomized_overlap_hours)
    )
