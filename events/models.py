"""Rule configuration, rule data, the provider registry and print-portal tokens.

The business rules' constants and data live here (settings.md §1.4, decision w), edited by staff
in the admin with a change history, and read by the rules through the per-process snapshot of
`events.selectors`. The provider registry is access-tokens.md §5.
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords


class RuleConfiguration(models.Model):
    """The single row of business-rule constants and signer switches (rules-domestic.md §0,
    rules-eu.md §0). Field names are the spec's setting names in lower case."""

    domestic_nl_dynamic_signer_enabled = models.BooleanField(
        default=True, help_text="False: the app's domesticGreencard is always null."
    )
    domestic_nl_print_signer_enabled = models.BooleanField(
        default=True, help_text="False: the print response's domestic part is always null."
    )
    eu_international_dynamic_signer_enabled = models.BooleanField(
        default=True, help_text="False: the app's euGreencards is always empty."
    )
    eu_international_print_signer_enabled = models.BooleanField(
        default=True, help_text="False: the print response's european part is always null."
    )
    domestic_strip_validity_hours = models.PositiveIntegerField(
        default=24, help_text="Hours. Length of one domestic strip; must exceed the maximum overlap."
    )
    domestic_maximum_randomized_overlap_hours = models.PositiveIntegerField(
        default=4, help_text="Hours. Strips overlap by a random 0…N hours."
    )
    domestic_maximum_issuance_days = models.PositiveIntegerField(
        default=28, help_text="Days. Strips are issued for at most this many days ahead."
    )
    domestic_nl_expiry_days_vaccination = models.PositiveIntegerField(
        default=1461, help_text="Days. Length of a domestic vaccination origin from the vaccination date."
    )
    domestic_nl_positive_test_recovery_days = models.PositiveIntegerField(
        default=11, help_text="Days. A positive test counts as recovery from sample time + this."
    )
    domestic_nl_expiry_days_positive_test = models.PositiveIntegerField(
        default=180, help_text="Days. How long the recovery from a positive test lasts after its start."
    )
    domestic_nl_expiry_hours_negative_test = models.PositiveIntegerField(
        default=40, help_text="Hours. Validity of a negative test; also its maximum age for NL and EU."
    )
    domestic_print_proof_validity_hours_vaccination = models.PositiveIntegerField(
        default=2016, help_text="Hours. Validity of a paper proof for a vaccination."
    )
    domestic_print_proof_validity_hours_recovery = models.PositiveIntegerField(
        default=2016, help_text="Hours. Validity of a paper proof for a recovery."
    )
    eu_international_greencard_expiration_time_days = models.PositiveIntegerField(
        default=28, help_text="Days. App flow: every DCC expires now + this."
    )
    eu_international_print_expiration_time_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days. Print flow: a paper DCC expires now + this; empty = the app value."
    )
    eu_international_positive_test_recovery_days = models.PositiveIntegerField(
        default=11, help_text="Days after the first positive test from which an EU recovery is valid (df)."
    )
    eu_international_positivetest_recovery_du_days = models.PositiveIntegerField(
        default=180, help_text="Days. EU recovery valid-until after the first positive test; at most 180."
    )
    eu_recovery_test_types = models.JSONField(
        default=list, help_text='JSON list of positive-test types that yield an EU recovery, e.g. ["LP6464-4"].'
    )
    eu_international_override_tc = models.CharField(
        max_length=80,
        blank=True,
        default="",
        help_text="Replaces the test centre of every EU test DCC; empty = the provider's facility.",
    )
    deduplication_margin = models.PositiveIntegerField(
        default=2, help_text="Days within which two similar events are the same event."
    )
    cms_signing_time_skew_seconds = models.PositiveIntegerField(
        default=300, help_text="Seconds. Allowed future skew of a provider signature's signing time."
    )
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
