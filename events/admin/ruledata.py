"""The rule data lists (rules-domestic.md §0), with import and export in the upstream file
formats."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from events import models
from events.admin.base import (
    ConfigurationChangeMixin,
    HistoryAdmin,
    RulesPermissionMixin,
    can_change_rules,
)
from events.ruledata import (
    RULE_DATA_FILES,
    RuleDataError,
    rule_data_current,
    rule_data_files,
    rule_data_parse_files,
    rule_data_replace,
)
from events.services import (
    rule_history_baseline_ensure,
)
from events.validation import allowlist_letters_problem


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
