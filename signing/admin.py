"""Read-only admin of the submission records and of the UCI audit trail (rules-eu.md §9.4).

Neither holds personal data (the holder pseudonym is not shown either). Both are append-only
here: no adding, changing or deleting. Each list shows a count per day of the current selection.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from events.models import Provider
from signing.models import EventSubmission, PrintToken, UciAuditRecord
from signing.services import print_token_create, print_token_revoke

DAYS_SHOWN = 31


def counts_per_day(queryset: QuerySet, field: str, *, days: int = DAYS_SHOWN) -> list[dict[str, Any]]:
    """`[{"day": date, "count": n}]` for the most recent `days` days of `queryset`, newest first."""
    return list(
        queryset.order_by().annotate(day=TruncDate(field)).values("day").annotate(count=Count("pk")).order_by("-day")[:days]
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    change_list_template = "admin/signing/counts_change_list.html"
    date_field = "created_at"
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["counts_per_day"] = counts_per_day(context["cl"].queryset, self.date_field)
        return response


class ProviderFilter(admin.SimpleListFilter):
    """Submissions whose events came from a provider (the `providers` list)."""

    title = "provider"
    parameter_name = "provider"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:

        return [(p, p) for p in Provider.objects.values_list("identifier", flat=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(providers__contains=[self.value()])
        return queryset


class NonEmptyValueFilter(admin.SimpleListFilter):
    """A filter over a text field where "" means "none": an explicit choice for it instead of
    Django's empty, invisible link."""

    field = ""
    none_label = "none"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        values = (
            model_admin.get_queryset(request).exclude(**{self.field: ""}).order_by(self.field).values_list(self.field, flat=True)
        )
        return [("-", self.none_label)] + [(value, value) for value in values.distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "-":
            return queryset.filter(**{self.field: ""})
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class ErrorCodeFilter(NonEmptyValueFilter):
    title = "error code"
    parameter_name = "error_code"
    field = "error_code"
    none_label = "none (success)"


class PrintClientFilter(NonEmptyValueFilter):
    title = "print client"
    parameter_name = "print_client"
    field = "print_client"
    none_label = "none (app requests)"


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("ok", "success (200)"), ("client", "refused (4xx)"), ("server", "failed (5xx)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        ranges = {"ok": (200, 299), "client": (400, 499), "server": (500, 599)}
        chosen = self.value()
        if chosen in ranges:
            low, high = ranges[chosen]
            return queryset.filter(status__gte=low, status__lte=high)
        return queryset


@admin.register(EventSubmission)
class EventSubmissionAdmin(ReadOnlyAdmin):
    date_field = "created_at"
    date_hierarchy = "created_at"
    list_display = (
        "created_at",
        "endpoint",
        "status",
        "error_code",
        "provider_list",
        "event_summary",
        "domestic_issued",
        "eu_issued",
        "duration_ms",
        "print_client",
    )
    list_filter = ("endpoint", OutcomeFilter, ErrorCodeFilter, ProviderFilter, "domestic_issued", PrintClientFilter)
    search_fields = ("error_code", "print_client")
    fields = (
        "created_at",
        "endpoint",
        "status",
        "error_code",
        "providers",
        "event_counts",
        "domestic_issued",
        "eu_issued",
        "duration_ms",
        "downstream_ms",
        "downstream_errors",
        "print_client",
    )

    @admin.display(description="providers")
    def provider_list(self, obj: EventSubmission) -> str:
        return ", ".join(obj.providers or [])

    @admin.display(description="events")
    def event_summary(self, obj: EventSubmission) -> str:
        return ", ".join(f"{kind} {n}" for kind, n in sorted((obj.event_counts or {}).items()))


@admin.register(UciAuditRecord)
class UciAuditRecordAdmin(ReadOnlyAdmin):
    date_field = "issued_at"
    date_hierarchy = "issued_at"
    list_display = ("issued_at", "uci", "provider_identifier", "event_unique", "key_usage", "flow", "expiration_time")
    list_filter = ("flow", "key_usage", "provider_identifier")
    search_fields = ("=uci", "=event_unique")
    fields = list_display


# --- Print-portal tokens (api.md §6) ----------------------------------------------------------------


# The key of a token created in this request, from `save_model` to `response_add` (never stored).
_new_keys: WeakKeyDictionary[HttpRequest, str] = WeakKeyDictionary()


@admin.register(PrintToken)
class PrintTokenAdmin(admin.ModelAdmin):
    """Tokens are created here with the key shown once, stored hashed, and revoked by action."""

    list_display = ("client_name", "key_prefix", "created_at", "last_used_at", "revoked_at", "is_active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("client_name", "key_prefix")
    actions = ["revoke_tokens"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: PrintToken) -> bool:
        return obj.revoked_at is None

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("client_name",)
        return ("client_name", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead, so that the record of the token stays

    def save_model(self, request: HttpRequest, obj: PrintToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        token, key = print_token_create(client_name=form.cleaned_data["client_name"])
        obj.pk = token.pk
        obj.refresh_from_db()
        _new_keys[request] = key

    def response_add(self, request: HttpRequest, obj: PrintToken, post_url_continue: str | None = None) -> HttpResponse:
        """Show the new key once, on this page only: it is not stored and not put in a message."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "New print API token",
            "token": obj,
            "key": _new_keys.pop(request),
        }
        response = TemplateResponse(request, "admin/signing/printtoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: Any) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            print_token_revoke(token=token)
            revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked; they stop working within seconds.", messages.SUCCESS)
