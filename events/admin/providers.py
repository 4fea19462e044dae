"""The provider registry (access-tokens.md §5): providers with write-only secrets and their
certificate entries (fingerprint, subject, validity; a revoked entry stays revoked)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from events import models
from events.admin.base import (
    ConfigurationChangeMixin,
    HistoryAdmin,
)
from events.providers import certificate_facts, provider_fields_problems

WRITE_ONLY_FIELDS = ("identity_hash_secret", "bsn_private_key")


class ProviderForm(forms.ModelForm):
    """The secret fields are write-only: never rendered back; left blank on edit, they keep their
    stored value."""

    unomi_url = forms.URLField(max_length=500, assume_scheme="https", help_text="aud of the unomi token.")
    event_url = forms.URLField(max_length=500, assume_scheme="https", help_text="aud of the event token.")
    identity_hash_secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="At least 32 bytes, different per provider. Write-only: leave blank to keep the stored secret.",
    )
    bsn_private_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Base64 of 32 bytes. Write-only: leave blank to keep the stored key.",
    )

    class Meta:
        model = models.Provider
        fields = [
            "identifier",
            "position",
            "unomi_url",
            "event_url",
            "identity_hash_secret",
            "bsn_public_key",
            "bsn_private_key",
            "tokens_enabled",
            "events_accepted",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in WRITE_ONLY_FIELDS:
            self.initial.pop(name, None)  # never sent to the browser, not even as "initial"

    def _write_only(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        if value:
            return value
        if self.instance.pk and getattr(self.instance, name):
            return getattr(self.instance, name)
        raise ValidationError("This field is required.")

    def clean_identity_hash_secret(self) -> str:
        return self._write_only("identity_hash_secret")

    def clean_bsn_private_key(self) -> str:
        return self._write_only("bsn_private_key")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        data = {name: cleaned.get(name) for name in self.Meta.fields}
        for name, problem in provider_fields_problems(data).items():
            if name in self.fields and name not in self.errors and cleaned.get(name) is not None:
                self.add_error(name, problem)
        return cleaned

    @property
    def changed_data(self) -> list[str]:
        """A blank write-only field is not a change (it keeps the stored value)."""
        return [name for name in super().changed_data if name not in WRITE_ONLY_FIELDS or self.data.get(self.add_prefix(name))]


class ProviderCertificateForm(forms.ModelForm):
    """One certificate entry: the PEM is checked with `certificate_facts`; the facts are derived
    from it; an entry's certificate cannot be swapped, and a revoked entry stays revoked."""

    class Meta:
        model = models.ProviderCertificate
        fields = ["pem", "match", "status", "retired_at"]
        widgets = {"pem": forms.Textarea(attrs={"rows": 6, "cols": 70, "spellcheck": "false"})}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        pem, match, status = cleaned.get("pem"), cleaned.get("match"), cleaned.get("status")
        original = self.instance if self.instance.pk else None
        if pem and match:
            try:
                facts = certificate_facts(pem, match=match)
            except ValueError as exc:
                self.add_error("pem", f"The certificate {exc}.")
                return cleaned
            if original is not None and facts.fingerprint_sha256 != original.fingerprint_sha256:
                self.add_error(
                    "pem", "The certificate of an entry cannot be replaced: add a new entry and retire or revoke this one."
                )
                return cleaned
            cleaned["pem"] = facts.pem
            self.instance.fingerprint_sha256 = facts.fingerprint_sha256
            self.instance.subject_common_name = facts.subject_common_name
            self.instance.not_valid_before = facts.not_valid_before
            self.instance.not_valid_after = facts.not_valid_after
        if original is not None and original.status == models.ProviderCertificate.Status.REVOKED and status != original.status:
            self.add_error("status", "A revoked certificate entry cannot be re-activated or retired.")
        if status == models.ProviderCertificate.Status.RETIRED and not cleaned.get("retired_at"):
            self.add_error("retired_at", "A retired entry needs its retirement instant.")
        return cleaned


class ProviderCertificateFormSet(BaseInlineFormSet):
    """Across the entries: no certificate twice, and a provider that accepts events has at least
    one entry that is not revoked (access-tokens.md §5)."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        fingerprints: set[str] = set()
        usable = False
        for form in self.forms:
            if not form.cleaned_data or (not form.instance.pk and not form.has_changed()):
                continue
            fingerprint = form.instance.fingerprint_sha256
            if fingerprint in fingerprints:
                raise ValidationError("The same certificate is listed twice.")
            fingerprints.add(fingerprint)
            usable = usable or form.cleaned_data.get("status") != models.ProviderCertificate.Status.REVOKED
        if self.instance.pk:
            others = models.ProviderCertificate.objects.filter(provider=self.instance).exclude(
                pk__in=[f.instance.pk for f in self.forms if f.instance.pk]
            )
            if others.filter(fingerprint_sha256__in=fingerprints).exists():
                raise ValidationError("This certificate is already an entry of the provider.")
            usable = usable or others.exclude(status=models.ProviderCertificate.Status.REVOKED).exists()
        if self.instance.events_accepted and not usable:
            raise ValidationError("A provider that accepts events needs at least one certificate entry that is not revoked.")


class ProviderCertificateInline(admin.StackedInline):
    model = models.ProviderCertificate
    form = ProviderCertificateForm
    formset = ProviderCertificateFormSet
    extra = 0
    can_delete = False  # rotated certificates are retired, never deleted (access-tokens.md §5)
    fields = ("pem", "match", "status", "retired_at", "fingerprint_sha256", "subject_common_name", "validity")
    readonly_fields = ("fingerprint_sha256", "subject_common_name", "validity")

    @admin.display(description="validity")
    def validity(self, obj: models.ProviderCertificate) -> str:
        if not obj.not_valid_before:
            return "-"
        return f"{obj.not_valid_before:%Y-%m-%d %H:%M} – {obj.not_valid_after:%Y-%m-%d %H:%M} UTC"


@admin.register(models.Provider)
class ProviderAdmin(ConfigurationChangeMixin, HistoryAdmin):
    form = ProviderForm
    inlines = [ProviderCertificateInline]
    list_display = ("identifier", "position", "tokens_enabled", "events_accepted", "certificate_summary", "updated_at")
    list_filter = ("tokens_enabled", "events_accepted")
    search_fields = ("identifier",)

    @admin.display(description="certificates")
    def certificate_summary(self, obj: models.Provider) -> str:
        counts: dict[str, int] = {}
        for status in obj.certificates.values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
        return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch the flags off instead: signed results may still be re-submitted
