"""Prometheus metrics (prometheus-client), correct with several worker processes.

With `PROMETHEUS_MULTIPROC_DIR` set (required with `uvicorn --workers N`: an empty folder,
emptied before the server starts), every worker writes its samples to memory-mapped files there
and `/metrics` (any worker) aggregates all of them. Without it (one process: `bin/run`, tests)
the default in-process registry is used.

Gauges that describe a worker's state (database pool, and whatever `register_sampler` adds, e.g.
the admission counters and event-loop lag of Step 2) are sampled at most once a second on the
request path and at each scrape, and summed over the live workers.

Label values are from small fixed sets (endpoints, systems, kinds): no personal data, no ids.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from common.db import async_pool_stats

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0)

HTTP_REQUESTS = Counter(
    "coronacheck_http_requests_total", "HTTP requests answered, by endpoint, method and status.", ["endpoint", "method", "status"]
)
HTTP_DURATION = Histogram(
    "coronacheck_http_request_duration_seconds",
    "Time from request to response, by endpoint.",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
DOWNSTREAM_REQUESTS = Counter(
    "coronacheck_downstream_requests_total",
    "Calls to downstream systems by system and result: ok, http_error, nothing_sent (refused or connect "
    "timeout), timeout (no answer in time), unavailable (disconnected or broken answer).",
    ["system", "result"],
)
DOWNSTREAM_DURATION = Histogram(
    "coronacheck_downstream_request_duration_seconds",
    "Duration of calls to downstream systems (retries included), by system.",
    ["system"],
    buckets=LATENCY_BUCKETS,
)
DOWNSTREAM_INVALID = Counter(
    "coronacheck_downstream_invalid_responses_total",
    "2xx answers of downstream systems that failed validation, by system.",
    ["system"],
)
CERTIFICATES_ISSUED = Counter(
    "coronacheck_certificates_issued_total",
    "Certificates handed out, by kind (domestic, eu) and endpoint (credentials, print).",
    ["kind", "endpoint"],
)
SUBMISSIONS = Counter(
    "coronacheck_submissions_total",
    "Issuance requests (submission records), by endpoint, status and error code.",
    ["endpoint", "status", "code"],
)
RULE_CONFIGURATION_VERSION = Gauge(
    "coronacheck_rule_configuration_version",
    "Version of the rule configuration in use (the highest over the workers).",
    multiprocess_mode="livemax",
)
DB_POOL = Gauge(
    "coronacheck_db_pool_connections",
    "PostgreSQL connection pool, summed over the workers: size (open), available (idle), waiting (requests "
    "waiting for a connection), max (configured maximum).",
    ["state"],
    multiprocess_mode="livesum",
)


@dataclass
class _Sampler:
    gauge: Gauge
    label: str
    sample: Callable[[], Mapping[str, float]]


_samplers: list[_Sampler] = []
_sampled_at = 0.0
_lock = threading.Lock()
SAMPLE_INTERVAL_SECONDS = 1.0


def register_sampler(name: str, documentation: str, sample: Callable[[], Mapping[str, float]], label: str = "kind") -> None:
    """Publish a worker's numbers as the gauge `name{label=key}`, summed over the live workers.

    `sample()` returns the current values (e.g. `{"admitted": 10, "rejected": 2}`); it is called at
    most once a second on the request path and at each scrape, in the event loop: it must be cheap
    and must not block. Meant for the admission counters and the event-loop lag (Step 2)."""
    if any(sampler.gauge._name == name for sampler in _samplers):
        return
    gauge = Gauge(name, documentation, [label], multiprocess_mode="livesum")
    _samplers.append(_Sampler(gauge=gauge, label=label, sample=sample))


def _db_pool_sample() -> Mapping[str, float]:
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except ImportError:  # psycopg missing: SQLite only
        return {}
    totals = {"size": 0.0, "available": 0.0, "waiting": 0.0, "max": 0.0}
    django_pools = [pool.get_stats() for pool in list(getattr(DatabaseWrapper, "_connection_pools", {}).values())]
    for stats in django_pools + async_pool_stats():  # Django's pool and the async one (common.db)
        totals["size"] += stats.get("pool_size", 0)
        totals["available"] += stats.get("pool_available", 0)
        totals["waiting"] += stats.get("requests_waiting", 0)
        totals["max"] += stats.get("pool_max", 0)
    return totals


def sample_gauges(*, force: bool = False) -> None:
    """Refresh the sampled gauges of this worker (at most once a second unless `force`)."""
    global _sampled_at
    now = time.monotonic()
    if not force and now - _sampled_at < SAMPLE_INTERVAL_SECONDS:
        return
    with _lock:
        _sampled_at = now
    for state, value in _db_pool_sample().items():
        DB_POOL.labels(state).set(value)
    for sampler in _samplers:
        try:
            values = sampler.sample()
        except Exception:  # a broken sampler must not break requests or the scrape
            continue
        for key, value in values.items():
            sampler.gauge.labels(key).set(value)


@functools.lru_cache(maxsize=4096)
def labelled(metric: Any, *values: str) -> Any:
    """`metric.labels(*values)`, remembered: prometheus-client validates the values, takes a lock
    and builds a key on every call, and the label values here come from small fixed sets (see the
    module docstring), a few per request on the hot path."""
    return metric.labels(*values)


def request_observed(endpoint: str, method: str, status: int, seconds: float) -> None:
    labelled(HTTP_REQUESTS, endpoint, method, str(status)).inc()
    labelled(HTTP_DURATION, endpoint).observe(seconds)


def downstream_observed(system: str, result: str, seconds: float) -> None:
    labelled(DOWNSTREAM_REQUESTS, system, result).inc()
    labelled(DOWNSTREAM_DURATION, system).observe(seconds)


def submission_observed(*, endpoint: str, status: int, code: str, domestic_issued: bool, eu_issued: int) -> None:
    labelled(SUBMISSIONS, endpoint, str(status), code or "").inc()
    if status == 200:
        if domestic_issued:
            labelled(CERTIFICATES_ISSUED, "domestic", endpoint).inc()
        if eu_issued:
            labelled(CERTIFICATES_ISSUED, "eu", endpoint).inc(eu_issued)


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> tuple[bytes, str]:
    """The metrics of all workers (multiprocess mode) or of this process, and their content type."""
    sample_gauges(force=True)
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_exited() -> None:
    """At a worker's shutdown: drop its live gauges from the aggregation (multiprocess mode)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())
