"""Reads of the rule configuration and the provider registry (settings.md §3).

Both are kept in memory per process as one immutable snapshot; a cheap version query every
`RULE_CACHE_SECONDS` notices changes made in the admin or by commands in any process. Each
request takes one snapshot when it starts and uses it throughout (decision w).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings

from common import metrics
from common.db import run_db
from events import models
from events.decoding.cms import CertificateEntry, ProviderTrust, load_trust_anchors
from events.rules.config import RULE_CONSTANTS, HpkEntry, RuleConfig


@dataclass(frozen=True)
class ConfigSnapshot:
    version: int
    rules: RuleConfig
    providers: Mapping[str, ProviderTrust]
    trust_anchors: tuple[x509.Certificate, ...]


class _SnapshotCache:
    snapshot: ConfigSnapshot | None = None
    checked_at: float = 0.0


_cache = _SnapshotCache()
_trust_anchors: dict[str, tuple[x509.Certificate, ...]] = {}


def trust_anchors_get() -> tuple[x509.Certificate, ...]:
    path = settings.CMS_TRUST_ANCHORS_FILE
    if path not in _trust_anchors:
        _trust_anchors[path] = load_trust_anchors(Path(path).read_bytes())
    return _trust_anchors[path]


def rule_configuration_from_models() -> RuleConfig:
    """Build the `RuleConfig` from the database (sync; seeding creates the row)."""
    row = models.RuleConfiguration.objects.get(pk=1)
    value_sets: dict[str, set[str]] = {kind: set() for kind in models.ValueSetEntry.Kind.values}
    for kind, code in models.ValueSetEntry.objects.values_list("kind", "code"):
        value_sets[kind].add(code)
    constants: dict[str, Any] = {}
    for rule in RULE_CONSTANTS:
        value = getattr(row, rule.name)
        constants[rule.name] = tuple(value or ()) if rule.kind == "codes" else value
    return RuleConfig(
        **constants,
        hpk_codes=MappingProxyType({h.code: HpkEntry(vp=h.vp, mp=h.mp, ma=h.ma) for h in models.HpkCode.objects.all()}),
        vaccine_manufacturers=frozenset(value_sets[models.ValueSetEntry.Kind.VACCINE_MANUFACTURER]),
        vaccine_products=frozenset(value_sets[models.ValueSetEntry.Kind.VACCINE_PRODUCT]),
        test_types=frozenset(value_sets[models.ValueSetEntry.Kind.TEST_TYPE]),
        required_doses=MappingProxyType(dict(models.RequiredDoses.objects.values_list("brand", "doses"))),
        partial_disclosure=MappingProxyType(dict(models.PartialDisclosureRule.objects.values_list("initials", "letters"))),
    )


def provider_trust_from_models() -> dict[str, ProviderTrust]:
    providers: dict[str, list[CertificateEntry]] = {}
    accepted: dict[str, bool] = {}
    for provider in models.Provider.objects.all():
        providers[provider.identifier] = []
        accepted[provider.identifier] = provider.events_accepted
    for cert in models.ProviderCertificate.objects.select_related("provider"):
        der = x509.load_pem_x509_certificate(cert.pem.encode()).public_bytes(Encoding.DER)
        providers[cert.provider.identifier].append(
            CertificateEntry(der=der, match=cert.match, status=cert.status, retired_at=cert.retired_at)
        )
    return {
        identifier: ProviderTrust(identifier=identifier, events_accepted=accepted[identifier], certificates=tuple(entries))
        for identifier, entries in providers.items()
    }


def configuration_version_get() -> int:
    row = models.ConfigurationVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return row or 0


def _snapshot_load() -> ConfigSnapshot:

    version = configuration_version_get()
    return ConfigSnapshot(
        version=version,
        rules=rule_configuration_from_models(),
        providers=MappingProxyType(provider_trust_from_models()),
        trust_anchors=trust_anchors_get(),
    )


def _snapshot_refresh_sync() -> ConfigSnapshot:
    current = _cache.snapshot
    if current is None or configuration_version_get() != current.version:
        current = _snapshot_load()
        _cache.snapshot = current
        metrics.RULE_CONFIGURATION_VERSION.set(current.version)
    _cache.checked_at = time.monotonic()
    return current


def config_snapshot_get_sync() -> ConfigSnapshot:
    """Sync variant for management commands and tests."""
    current = _cache.snapshot
    if current is not None and time.monotonic() - _cache.checked_at < settings.RULE_CACHE_SECONDS:
        return current
    return _snapshot_refresh_sync()


async def config_snapshot_get() -> ConfigSnapshot:
    """The current snapshot; refreshed at most every `RULE_CACHE_SECONDS`."""
    current = _cache.snapshot
    if current is not None and time.monotonic() - _cache.checked_at < settings.RULE_CACHE_SECONDS:
        return current
    return await run_db(_snapshot_refresh_sync)


def config_cache_clear() -> None:
    _cache.snapshot = None
    _cache.checked_at = 0.0


async def providers_for_tokens() -> list[models.Provider]:
    """Providers that receive access tokens, in registry order (access-tokens.md §1, §5)."""
    providers = await run_db(lambda: list(models.Provider.objects.filter(tokens_enabled=True)))
    providers.sort(key=lambda p: (p.position is None, p.position or 0, p.identifier))
    return providers
