"""`/metrics`: not public by default, Prometheus exposition with a token, request, downstream,
certificate and submission metrics, and correct sums over several worker processes."""

from __future__ import annotations

import re
import shutil
import tempfile

import httpx
import pytest
from django.db import connection
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from common import metrics
from devtools.testing.asgi_client import AsgiTestClient
from devtools.testing.service import database_url, start_service

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_answer_404_without_a_token_setting(api, settings):
    settings.METRICS_TOKEN = ""
    assert (await api.get("/metrics")).status_code == 404


async def test_metrics_need_the_bearer_token(api, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    missing = await api.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == "Bearer"
    assert (await api.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code == 401
    ok = await api.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(ok.content.decode())}
    assert {
        "coronacheck_http_requests",
        "coronacheck_http_request_duration_seconds",
        "coronacheck_downstream_requests",
        "coronacheck_certificates_issued",
        "coronacheck_submissions",
        "coronacheck_rule_configuration_version",
        "coronacheck_db_pool_connections",
    } <= names


async def test_requests_downstream_calls_certificates_and_submissions_are_counted(
    api, signers, registered_provider, blob, vaccination_results, print_token
):
    before = {
        "requests": sample("coronacheck_http_requests_total", endpoint="/app/print/", method="POST", status="200"),
        "eu": sample("coronacheck_downstream_requests_total", system="eu", result="ok"),
        "eu_certs": sample("coronacheck_certificates_issued_total", kind="eu", endpoint="print"),
        "domestic_certs": sample("coronacheck_certificates_issued_total", kind="domestic", endpoint="print"),
        "submissions": sample("coronacheck_submissions_total", endpoint="print", status="200", code=""),
        "latency": sample("coronacheck_http_request_duration_seconds_count", endpoint="/app/print/"),
    }
    response = await api.post(
        "/app/print/",
        {"events": [blob(vaccination_results)]},
        content_type="application/json",
        headers={"Authorization": f"Token {print_token}"},
    )
    assert response.status_code == 200
    assert (
        sample("coronacheck_http_requests_total", endpoint="/app/print/", method="POST", status="200") == before["requests"] + 1
    )
    assert sample("coronacheck_http_request_duration_seconds_count", endpoint="/app/print/") == before["latency"] + 1
    assert sample("coronacheck_downstream_requests_total", system="eu", result="ok") == before["eu"] + 1
    assert sample("coronacheck_certificates_issued_total", kind="eu", endpoint="print") == before["eu_certs"] + 1
    assert sample("coronacheck_certificates_issued_total", kind="domestic", endpoint="print") == before["domestic_certs"] + 1
    assert sample("coronacheck_submissions_total", endpoint="print", status="200", code="") == before["submissions"] + 1
    assert sample("coronacheck_rule_configuration_version") >= 1


async def test_a_refused_downstream_call_is_counted_as_nothing_sent(api, signers, settings, registered_provider):
    settings.DOMESTIC_NL_VWS_PREPARE_ISSUE_URL = "http://127.0.0.1:9/prepare_issue"  # discard port: refused
    before = sample("coronacheck_downstream_requests_total", system="domestic", result="nothing_sent")
    response = await api.post("/app/prepare_issue/")
    assert response.status_code == 503
    assert sample("coronacheck_downstream_requests_total", system="domestic", result="nothing_sent") == before + 1


def test_samplers_publish_a_callable_as_a_gauge():
    metrics.register_sampler("coronacheck_test_admission", "test only", lambda: {"admitted": 3, "rejected": 1})
    metrics.sample_gauges(force=True)
    assert sample("coronacheck_test_admission", kind="admitted") == 3
    assert sample("coronacheck_test_admission", kind="rejected") == 1


def test_with_several_workers_every_request_is_counted_once(registered_provider):
    """Two uvicorn workers in multiprocess mode: the scrape, whichever worker answers it, sums both."""
    folder = tempfile.mkdtemp(prefix="prometheus-")
    service = start_service(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "PROMETHEUS_MULTIPROC_DIR": folder,
            "METRICS_TOKEN": "scrape-secret",
        },
        workers=2,
    )
    try:
        requests = 40
        with httpx.Client(base_url=service.url("http"), timeout=30) as client:
            for _ in range(requests):
                # A new connection each time, so that both workers answer some of them.
                assert client.get("/health", headers={"Connection": "close"}).status_code == 200
            scrapes = [client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}) for _ in range(4)]
        for scrape in scrapes:
            assert scrape.status_code == 200
            counted = re.search(
                r'coronacheck_http_requests_total\{endpoint="/health",method="GET",status="200"\} (\S+)', scrape.text
            )
            assert counted and float(counted.group(1)) == requests
    finally:
        assert service.stop() == 0
        shutil.rmtree(folder, ignore_errors=True)


def test_the_grafana_dashboard_uses_only_metrics_the_service_exports():
    import json
    from pathlib import Path

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"coronacheck_\w+", target["expr"])
    }
    exported = {
        "coronacheck_http_requests_total",
        "coronacheck_http_request_duration_seconds_bucket",
        "coronacheck_downstream_requests_total",
        "coronacheck_downstream_request_duration_seconds_bucket",
        "coronacheck_certificates_issued_total",
        "coronacheck_submissions_total",
        "coronacheck_rule_configuration_version",
        "coronacheck_db_pool_connections",
    }
    # The admission counters and the event-loop lag come from samplers that api.admission registers.
    exported |= {"coronacheck_admission", "coronacheck_event_loop_lag_seconds"}
    assert used - exported == set()


async def test_the_admission_counters_and_the_loop_lag_are_exported(settings):
    from api import admission

    settings.METRICS_TOKEN = "t0ken"
    admission.admission_reset()
    admission._admission.accepted = 7
    admission._admission.shed = 2
    client = AsgiTestClient()
    try:
        scrape = await client.get("/metrics", headers={"Authorization": "Bearer t0ken"})
    finally:
        await client.aclose()
        admission.admission_reset()
    assert scrape.status_code == 200
    assert re.search(r'coronacheck_admission\{kind="accepted"\} 7\.0', scrape.content.decode())
    assert re.search(r'coronacheck_admission\{kind="shed"\} 2\.0', scrape.content.decode())
    assert 'coronacheck_event_loop_lag_seconds{kind="max"}' in scrape.content.decode()
