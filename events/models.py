"""Rule configuration, rule data, the provider registry and print-portal tokens.

The business rules' constants and data live here (settings.md §1.4, decision w), edited by staff
in the admin with a change history, and read by the rules through the per-process snapshot of
`events.selectors`. The provider registry is access-tokens.md §5.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords

from events.rules.config import RULE_CONSTANTS, RuleConstant


def rule_constant_field(rule: RuleConstant) -> models.Field:
    """The database column of one business-rule constant, from its definition."""
    common: dict[str, Any] = {"verbose_name": rule.label, "help_text": rule.help_text}
    if rule.kind == "switch":
        return models.BooleanField(default=rule.default, **common)
    if rule.kind == "count":
        return models.PositiveIntegerField(default=rule.default, **common)
    if rule.kind == "optional count":
        return models.PositiveIntegerField(null=True, blank=True, default=rule.default, **common)
    if rule.kind == "codes":
        return models.JSONField(default=functools.partial(list, rule.default), **common)
    return models.CharField(max_length=rule.max_length, blank=True, default=rule.default, **common)


# An abstract model with one column per constant of `events.rules.config.RuleConfig`.
RuleConstantColumns = type(
    "RuleConstantColumns",
    (models.Model,),
    {
        "__module__": __name__,
        "Meta": type("Meta", (), {"abstract": True}),
        **{rule.name: rule_constant_field(rule) for rule in RULE_CONSTANTS},
    },
)


class RuleConfiguration(RuleConstantColumns):  # type: ignore[valid-type,misc]  # columns generated from RuleConfig
    """The single row of business-rule constants and signer switches (rules-domestic.md §0,
    rules-eu.md §0); its columns are generated from the definitions in `events.rules.config`."""

    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "rule configuration"
        verbose_name_plural = "rule configuration"
        permissions = [("change_rules", "Can change business rules and rule data")]

    def __str__(self) -> str:
        return "Business rule configuration"


class HpkCode(models.Model):
    """HPK code → EU vaccine codes (rules-domestic.md §0)."""

    code = models.CharField(max_length=32, unique=True)
    vp = models.CharField("vaccine type (vp)", max_length=64)
    mp = models.CharField("medicinal product (mp)", max_length=64)
    ma = models.CharField("marketing authorisation holder (ma)", max_length=64)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = "HPK code"

    def __str__(self) -> str:
        return self.code


class ValueSetEntry(models.Model):
    """One accepted code of an eligibility value set (rules-domestic.md §0)."""

    class Kind(models.TextChoices):
        VACCINE_MANUFACTURER = "vaccine-mah-manf", "vaccine manufacturer (ma)"
        VACCINE_PRODUCT = "vaccine-medicinal-product", "vaccine product (mp)"
        TEST_TYPE = "test-type", "test type"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    code = models.CharField(max_length=64)
    display = models.CharField(max_length=200, blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="unique_value_set_code")]
        verbose_name = "value set entry"
        verbose_name_plural = "value set entries"

    def __str__(self) -> str:
        return f"{self.kind}: {self.code}"


class RequiredDoses(models.Model):
    """Doses for a complete series per brand (`mp` code)."""

    brand = models.CharField(max_length=64, unique=True)
    doses = models.PositiveIntegerField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand"]
        verbose_name_plural = "required doses"

    def __str__(self) -> str:
        return f"{self.brand}: {self.doses}"


class PartialDisclosureRule(models.Model):
    """Initials pair → disclosed attributes for app strips (rules-domestic.md §6)."""

    initials = models.CharField(max_length=2, unique=True)
    letters = models.CharField(max_length=4, blank=True, default="", help_text="Subset of VFMD.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["initials"]

    def __str__(self) -> str:
        return f"{self.initials},{self.letters}"


class Provider(models.Model):
    """An event provider (access-tokens.md §5)."""

    identifier = models.CharField(max_length=64, unique=True)
    position = models.IntegerField(null=True, blank=True, help_text="Order of the access-token response; empty sorts last.")
    unomi_url = models.URLField(max_length=500)
    event_url = models.URLField(max_length=500)
    identity_hash_secret = models.CharField(max_length=500, help_text="At least 32 bytes; write-only in the admin.")
    bsn_public_key = models.CharField(max_length=64, help_text="Base64 of 32 bytes.")
    bsn_private_key = models.CharField(max_length=64, help_text="Base64 of 32 bytes; write-only in the admin.")
    tokens_enabled = models.BooleanField(default=True, help_text="The provider receives access tokens.")
    events_accepted = models.BooleanField(default=True, help_text="The provider's signed results are accepted.")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["identity_hash_secret", "bsn_private_key"])

    class Meta:
        ordering = ["position", "identifier"]

    def __str__(self) -> str:
        return self.identifier


class ProviderCertificate(models.Model):
    """A certificate entry of a provider's `cms` list (access-tokens.md §5, decisions q, s)."""

    class Match(models.TextChoices):
        PINNED = "pinned"
        IDENTITY = "identity"

    class Status(models.TextChoices):
        ACTIVE = "active"
        RETIRED = "retired"
        REVOKED = "revoked"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="certificates")
    pem = models.TextField()
    fingerprint_sha256 = models.CharField(max_length=64, editable=False)
    match = models.CharField(max_length=16, choices=Match.choices, default=Match.PINNED)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    retired_at = models.DateTimeField(null=True, blank=True)
    subject_common_name = models.CharField(max_length=255, blank=True, default="", editable=False)
    not_valid_before = models.DateTimeField(null=True, editable=False)
    not_valid_after = models.DateTimeField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "fingerprint_sha256"], name="unique_provider_certificate")]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.fingerprint_sha256[:16]} ({self.match}, {self.status})"


class ConfigurationVersion(models.Model):
    """A counter bumped on every change of rules or registry, so that each worker process
    notices changes within `RULE_CACHE_SECONDS` (settings.md §3)."""

    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)
