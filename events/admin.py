"""Staff admin of the business rules, the rule data, the provider registry and the print tokens
(settings.md §1.4, access-tokens.md §5, api.md §6).

Rule constants and rule data can be changed only by staff with the `events.change_rules`
permission; everyone else with a view permission sees them read-only. Every change goes through
the same validation as `set_rules`, `load_rule_data` and the start-up checks, is kept in the
simple-history change history (who, when, old → new), and bumps the configuration version so that
every worker picks it up within `RULE_CACHE_SECONDS`.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from events import models
from events.providers import certificate_facts, provider_fields_problems
from events.ruledata import (
    RULE_DATA_FILES,
    RuleDataError,
    rule_data_current,
    rule_data_files,
    rule_data_parse_files,
    rule_data_replace,
)
from events.rules.config import RULE_CONSTANTS, rule_constants_problems
from events.services import (
    RULE_CONSTANT_FIELDS,
    RuleChangeError,
    configuration_version_bump,
    rule_configuration_update,
    rule_history_baseline_ensure,
    rules_seed_if_empty,
)
from events.validation import allowlist_letters_problem

if TYPE_CHECKING:  # the stubs' name for a fieldsets value
    from django.contrib.admin.options import _FieldsetSpec

CHANGE_RULES_PERMISSION = "events.change_rules"

admin.site.site_header = "CoronaCheck signing service"
admin.site.site_title = "CoronaCheck signing admin"
admin.site.index_title = "Rules, providers and records"
# "View site" opens the API documentation (the service has no site of its own).
admin.site.site_url = "/docs" if settings.API_DOCS_UI_ENABLED else "/openapi.json"


def can_change_rules(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff and request.user.has_perm(CHANGE_RULES_PERMISSION)


class RulesPermissionMixin(admin.ModelAdmin):
    """Changes need `events.change_rules`; viewing needs the model's view permission or that one."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or can_change_rules(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return can_change_rules(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_change_rules(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_change_rules(request)


class HistoryDiffHelper(HistoricalRecordContextHelper):
    """The history view's "Changes" column: old → new per changed field, without the automatic
    `updated_at`; rule constants are named by their setting names."""

    def context_for_delta_changes(self, delta: Any) -> list[dict[str, Any]]:
        rows = []
        for change in delta.changes:
            if change.field == "updated_at":
                continue
            formatted = self.format_delta_change(change)
            label = change.field.upper() if self.model is models.RuleConfiguration else formatted.field
            rows.append({"field": label, "old": formatted.old, "new": formatted.new})
        return rows


class HistoryAdmin(SimpleHistoryAdmin):
    def get_historical_record_context_helper(self, request: HttpRequest, historical_record: Any) -> HistoryDiffHelper:
        return HistoryDiffHelper(self.model, historical_record)


# --- Rule constants and signer switches (settings.md §1.4) --------------------------------------------


def rule_constant_fieldsets() -> _FieldsetSpec:
    """The admin's fieldsets: the constants grouped as their definitions say, in their order."""
    groups: dict[str, list[str]] = {}
    for rule in RULE_CONSTANTS:
        groups.setdefault(rule.group, []).append(rule.name)
    return tuple((group, {"fields": tuple(names)}) for group, names in groups.items())


class RuleConfigurationForm(forms.ModelForm):
    """Each field is labelled in words (its definition's label), with the spec's setting name under
    its help text; the whole set is checked with the start-up validation (settings.md §2), e.g.
    strip validity must exceed the maximum overlap."""

    class Meta:
        model = models.RuleConfiguration
        fields = list(RULE_CONSTANT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for rule in RULE_CONSTANTS:
            if rule.name in self.fields:
                self.fields[rule.name].help_text = f"{rule.help_text} Setting: {rule.setting_name}."

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        values = {name: getattr(self.instance, name) for name in RULE_CONSTANT_FIELDS}
        values.update({name: cleaned[name] for name in RULE_CONSTANT_FIELDS if name in cleaned})
        for name, problem in rule_constants_problems(values).items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, problem)
        return cleaned


@admin.register(models.RuleConfiguration)
class RuleConfigurationAdmin(RulesPermissionMixin, HistoryAdmin):
    form = RuleConfigurationForm
    history_list_display: list[str] = []
    fieldsets = rule_constant_fieldsets()

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """There is one row: go straight to it."""
        rules_seed_if_empty()
        return redirect(reverse("admin:events_ruleconfiguration_change", args=[1]))

    def save_model(self, request: HttpRequest, obj: models.RuleConfiguration, form: forms.ModelForm, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in RULE_CONSTANT_FIELDS}
        if not changes:
            return
        try:
            rule_configuration_update(changes)
        except RuleChangeError as exc:  # the form checked the same rules; only a race gets here
            raise ValidationError(str(exc)) from None
        obj.refresh_from_db()


# --- Rule data (rules-domestic.md §0) ---------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list:
        items = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class RuleDataImportForm(forms.Form):
    files = MultipleFileField(  # type: ignore[assignment]  # the form metaclass moves fields to base_fields
        widget=MultipleFileInput(),
        help_text="One or more of: " + ", ".join(RULE_DATA_FILES) + ". Lists without a file are kept.",
    )


class ConfigurationChangeMixin(admin.ModelAdmin):
    """Each change made here (save with its inlines, delete, bulk delete) bumps the configuration
    version once, so that every worker reloads its snapshot within `RULE_CACHE_SECONDS`
    (settings.md §3). The rule constants' admin bumps through `rule_configuration_update`."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        configuration_version_bump()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        configuration_version_bump()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        configuration_version_bump()


class RuleDataAdmin(ConfigurationChangeMixin, RulesPermissionMixin, HistoryAdmin):
    """Common parts of the four rule-data lists, with links to the upstream-file import/export."""

    change_list_template = "admin/events/rule_data_change_list.html"
    list_per_page = 200

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        rule_history_baseline_ensure()
        super().save_model(request, obj, form, change)


@admin.register(models.HpkCode)
class HpkCodeAdmin(RuleDataAdmin):
    list_display = ("code", "vp", "mp", "ma")
    search_fields = ("code", "vp", "mp", "ma")

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("import-files/", view(self.rule_data_import_view), name="events_ruledata_import"),
            path("export-files/", view(self.rule_data_export_view), name="events_ruledata_export"),
            *super().get_urls(),
        ]

    def rule_data_import_view(self, request: HttpRequest) -> HttpResponse:
        """Replace rule data from upstream files; validated fully before anything is stored."""
        if not can_change_rules(request):
            raise PermissionDenied
        form = RuleDataImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                files = {}
                for upload in form.cleaned_data["files"]:
                    name = PurePath(upload.name).name
                    files[name] = upload.read().decode("utf-8")
                data = rule_data_parse_files(files, base=rule_data_current())
                changes = rule_data_replace(data)
            except UnicodeDecodeError:
                form.add_error("files", "the files must be UTF-8 text")
            except RuleDataError as exc:
                form.add_error("files", str(exc))
            else:
                summary = ", ".join(f"{name} {change}" for name, change in changes.items())
                messages.success(request, f"Rule data loaded: {summary}.")
                return HttpResponseRedirect(reverse("admin:events_hpkcode_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import rule data (upstream file formats)",
            "form": form,
        }
        return TemplateResponse(request, "admin/events/rule_data_import.html", context)

    def rule_data_export_view(self, request: HttpRequest) -> HttpResponse:
        """The six upstream files of the current rule data, as one zip file."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.now().date()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in rule_data_files(rule_data_current(), export_date=today).items():
                archive.writestr(name, text)
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="rule-data-{today.isoformat()}.zip"'
        return response


@admin.register(models.ValueSetEntry)
class ValueSetEntryAdmin(RuleDataAdmin):
    list_display = ("code", "kind", "display")
    list_filter = ("kind",)
    search_fields = ("code", "display")


class RequiredDosesForm(forms.ModelForm):
    class Meta:
        model = models.RequiredDoses
        fields = ["brand", "doses"]

    def clean_doses(self) -> int:
        doses = self.cleaned_data["doses"]
        if doses is None or doses < 1:
            raise ValidationError("must be an integer of at least 1")
        return doses


@admin.register(models.RequiredDoses)
class RequiredDosesAdmin(RuleDataAdmin):
    form = RequiredDosesForm
    list_display = ("brand", "doses")
    search_fields = ("brand",)


class PartialDisclosureRuleForm(forms.ModelForm):
    class Meta:
        model = models.PartialDisclosureRule
        fields = ["initials", "letters"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "initials" in cleaned:
            problem = allowlist_letters_problem(cleaned["initials"], cleaned.get("letters", ""))
            if problem:
                self.add_error("initials" if problem.startswith("initials") else "letters", problem)
        return cleaned


@admin.register(models.PartialDisclosureRule)
class PartialDisclosureRuleAdmin(RuleDataAdmin):
    form = PartialDisclosureRuleForm
    list_display = ("initials", "letters")
    search_fields = ("initials", "letters")


# --- Provider registry (access-tokens.md §5) ----------------------------------------------------------

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
