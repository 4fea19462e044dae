"""What every admin page of the rules and the registry shares: the `events.change_rules`
permission, the change history with old → new, and one configuration-version bump per change
(settings.md §3)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from events import models
from events.services import (
    configuration_version_bump,
)

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
