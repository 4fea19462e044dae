"""The rule constants and signer switches (settings.md §1.4): one row, labelled, grouped and
validated as their definitions in `events.rules.config` say."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from events import models
from events.admin.base import (
    HistoryAdmin,
    RulesPermissionMixin,
)
from events.rules.config import RULE_CONSTANTS, rule_constants_problems
from events.services import (
    RULE_CONSTANT_FIELDS,
    RuleChangeError,
    rule_configuration_update,
    rules_seed_if_empty,
)

if TYPE_CHECKING:  # the stubs' name for a fieldsets value
    from django.contrib.admin.options import _FieldsetSpec


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
