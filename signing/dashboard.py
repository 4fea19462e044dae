"""The staff dashboard: issuance per day and kind, error rates per downstream and latency
percentiles, from the submission records (`EventSubmission`), drawn as server-rendered SVG.

Served at `/admin/dashboard/` behind the admin login (staff only) and linked from the admin index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib import admin
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe

from events.types import EVENT_TYPES
from signing import charts
from signing.models import EventSubmission

DOWNSTREAMS = ("domestic", "eu", "inge6", "rvig")
PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
DEFAULT_DAYS, MAXIMUM_DAYS = 14, 92


class Percentile(Aggregate):
    """PostgreSQL `percentile_cont(p) WITHIN GROUP (ORDER BY expression)`."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=f"{float(fraction):.4f}", **extra)


def _percentiles_python(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    result: dict[str, float | None] = {}
    for name, fraction in PERCENTILES:
        if not ordered:
            result[name] = None
            continue
        position = fraction * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        result[name] = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return result


def percentiles(queryset: QuerySet, expression: Any) -> dict[str, float | None]:
    """p50/p90/p99 of `expression` over `queryset` (in the database on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return queryset.aggregate(**{name: Percentile(expression, fraction) for name, fraction in PERCENTILES})
    return _percentiles_python(list(queryset.annotate(_v=expression).values_list("_v", flat=True)))


def _downstream_ms(system: str) -> Cast:
    return Cast(KeyTextTransform(system, "downstream_ms"), FloatField())


@dataclass
class DashboardData:
    days: list[date]
    certificates: dict[str, list[float]] = field(default_factory=dict)
    events: dict[str, list[float]] = field(default_factory=dict)
    requests: dict[str, list[float]] = field(default_factory=dict)
    latency: dict[str, list[float | None]] = field(default_factory=dict)
    downstreams: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)


def dashboard_data(*, today: date, days: int) -> DashboardData:
    """Everything the dashboard shows for the `days` days up to and including `today` (UTC)."""
    first = today - timedelta(days=days - 1)
    day_list = [first + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(day_list)}
    window = EventSubmission.objects.filter(created_at__date__gte=first, created_at__date__lte=today)
    data = DashboardData(days=day_list)

    certificate_kinds = {
        "domestic (app)": Count("pk", filter=Q(endpoint="credentials", domestic_issued=True)),
        "EU (app)": Sum("eu_issued", filter=Q(endpoint="credentials")),
        "domestic (paper)": Count("pk", filter=Q(endpoint="print", domestic_issued=True)),
        "EU (paper)": Sum("eu_issued", filter=Q(endpoint="print")),
    }
    event_kinds = {kind: Sum(Cast(KeyTextTransform(kind, "event_counts"), FloatField())) for kind in EVENT_TYPES}
    request_kinds = {
        "succeeded": Count("pk", filter=Q(status__lt=400)),
        "refused (4xx)": Count("pk", filter=Q(status__gte=400, status__lt=500)),
        "failed (5xx)": Count("pk", filter=Q(status__gte=500)),
    }
    aliases = {f"c{i}": agg for i, agg in enumerate(certificate_kinds.values())}
    aliases |= {f"e{i}": agg for i, agg in enumerate(event_kinds.values())}
    aliases |= {f"r{i}": agg for i, agg in enumerate(request_kinds.values())}
    rows: Iterable[Mapping[str, Any]] = window.order_by().annotate(day=TruncDate("created_at")).values("day").annotate(**aliases)
    data.certificates = {name: [0.0] * days for name in certificate_kinds}
    data.events = {name: [0.0] * days for name in event_kinds}
    data.requests = {name: [0.0] * days for name in request_kinds}
    for row in rows:
        i = index.get(row["day"])
        if i is None:
            continue
        for prefix, target in (("c", data.certificates), ("e", data.events), ("r", data.requests)):
            for j, name in enumerate(target):
                target[name][i] = float(row[f"{prefix}{j}"] or 0)

    data.latency = {name: [None] * days for name, _ in PERCENTILES}
    if connection.vendor == "postgresql":
        latency_rows: Iterable[Mapping[str, Any]] = (
            window.order_by()
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(**{name: Percentile(F("duration_ms"), fraction) for name, fraction in PERCENTILES})
        )
        for row in latency_rows:
            if row["day"] in index:
                for name, _ in PERCENTILES:
                    data.latency[name][index[row["day"]]] = row[name]
    else:
        for day in day_list:
            values = percentiles(window.filter(created_at__date=day), F("duration_ms"))
            for name, _ in PERCENTILES:
                data.latency[name][index[day]] = values[name]

    for system in DOWNSTREAMS:
        called = window.filter(downstream_ms__has_key=system)
        counts = called.aggregate(calls=Count("pk"), errors=Count("pk", filter=Q(downstream_errors__has_key=system)))
        if not counts["calls"]:
            continue
        data.downstreams.append(
            {
                "name": system,
                "calls": counts["calls"],
                "errors": counts["errors"],
                "error_rate": 100.0 * counts["errors"] / counts["calls"],
                **percentiles(called, _downstream_ms(system)),
            }
        )
    data.totals = {
        "requests": window.count(),
        **percentiles(window, F("duration_ms")),
        "certificates": sum(sum(values) for values in data.certificates.values()),
    }
    return data


def dashboard_charts(data: DashboardData) -> dict[str, str]:
    labels = [day.strftime("%m-%d") for day in data.days]
    return {
        "certificates": charts.stacked_bar_chart("Certificates issued per day and kind", labels, data.certificates),
        "events": charts.stacked_bar_chart("Events submitted per day and kind", labels, data.events),
        "requests": charts.stacked_bar_chart(
            "Requests per day and outcome", labels, data.requests, colours=("#5a9e4b", "#e08a2c", "#b5485d")
        ),
        "latency": charts.line_chart("Request latency percentiles per day", labels, data.latency, unit=" ms"),
        "errors": charts.horizontal_bar_chart(
            "Downstream error rate", [(d["name"], d["error_rate"]) for d in data.downstreams], unit="%", maximum=100
        ),
    }


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The dashboard page; `?days=N` chooses the window (default 14, at most 92)."""
    try:
        days = min(max(int(request.GET.get("days", DEFAULT_DAYS)), 1), MAXIMUM_DAYS)
    except ValueError:
        days = DEFAULT_DAYS
    data = dashboard_data(today=timezone.now().date(), days=days)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "days": days,
        "day_choices": (7, 14, 30, 92),
        "data": data,
        # The SVG text is generated by signing.charts, which escapes every label.
        "charts": {name: mark_safe(svg) for name, svg in dashboard_charts(data).items()},
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
