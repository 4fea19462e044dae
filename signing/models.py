"""Issuance sessions, submission records and the UCI audit trail (api.md §4, rules-eu.md §9.4)."""

from __future__ import annotations

from django.db import models


class IssuanceSession(models.Model):
    """A single-use `stoken` session; the key is an HMAC of the token, never the token (api.md §4)."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.TextField()
    expires_at = models.DateTimeField(db_index=True)


class EventSubmission(models.Model):
    """One credentials or print request: what happened, without personal data or payloads."""

    class Endpoint(models.TextChoices):
        CREDENTIALS = "credentials"
        PRINT = "print"

    created_at = models.DateTimeField(db_index=True)
    endpoint = models.CharField(max_length=16, choices=Endpoint.choices)
    providers = models.JSONField(default=list)
    event_counts = models.JSONField(default=dict)
    status = models.PositiveSmallIntegerField()
    error_code = models.CharField(max_length=64, blank=True, default="")
    domestic_issued = models.BooleanField(default=False)
    eu_issued = models.PositiveSmallIntegerField(default=0)
    holder_pseudonym = models.CharField(max_length=64, blank=True, default="")
    duration_ms = models.FloatField(default=0)
    downstream_ms = models.JSONField(default=dict)
    # Downstream system -> error code of its failed call (each failure, not only the one answered).
    downstream_errors = models.JSONField(default=dict, blank=True)
    print_client = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["endpoint", "created_at"])]

    def __str__(self) -> str:
        outcome = "ok" if self.status == 200 else f"{self.status} {self.error_code}".strip()
        return f"{self.endpoint} at {self.created_at:%Y-%m-%d %H:%M:%S} UTC: {outcome}"


class UciAuditRecord(models.Model):
    """One issued UCI, recorded only after the EU signer returned its credential (decision e)."""

    class Flow(models.TextChoices):
        APP = "app"
        PRINT = "print"

    uci = models.CharField(max_length=64, unique=True)
    provider_identifier = models.CharField(max_length=64)
    event_unique = models.TextField(null=True, blank=True)  # the provider's id: no length limit (events.md §4.1)
    key_usage = models.CharField(max_length=16)
    flow = models.CharField(max_length=8, choices=Flow.choices)
    expiration_time = models.DateTimeField()
    issued_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = "UCI audit record"


class PrintToken(models.Model):
    """An API token of a print-portal client (api.md §6). Only a hash of the key is stored."""

    client_name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to recognise a token.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["client_name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.client_name} ({self.key_prefix}…)"
