"""Fuzzing the HTTP API from its own OpenAPI document (schemathesis; api.md §2, §8, §9).

The service runs under uvicorn against the test database with the reference signers; every
operation of `/openapi.json` gets `FUZZ_EXAMPLES` generated requests (default 150; set it higher
for an occasional long run). Checks: no 5xx, documented status codes and content types, and
response bodies matching the documented schemas. Print requests carry a valid API token so
that the intake behind them is reached.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from devtools.testing.processes import signer_settings
from devtools.testing.service import database_url, start_service

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture
def live_service(signers, registered_provider):
    service = start_service({"DATABASE_URL": database_url(connection.settings_dict), **signer_settings(signers)})
    yield service
    assert service.stop() == 0


def fuzz_operation(operation, mode: GenerationMode, base_url: str, headers: dict[str, str], statuses: Counter) -> None:
    """`EXAMPLES` generated requests (fewer when the operation has no inputs to vary)."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=15)
        statuses[(operation.label, response.status_code)] += 1
        case.validate_response(response, checks=CHECKS)

    run()


def has_inputs(operation) -> bool:
    return bool(operation.definition.raw.get("requestBody") or operation.definition.raw.get("parameters"))


def test_every_operation_survives_generated_requests(live_service, print_token):
    base_url = live_service.url("http")
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    statuses: Counter = Counter()
    started = time.perf_counter()
    headers = {"Authorization": f"Token {print_token}"}
    for operation in operations:
        fuzz_operation(operation, GenerationMode.POSITIVE, base_url, headers, statuses)
        if has_inputs(operation):  # bodies that violate the documented schema
            fuzz_operation(operation, GenerationMode.NEGATIVE, base_url, headers, statuses)
    elapsed = time.perf_counter() - started
    total = sum(statuses.values())
    per_operation = Counter()
    for (label, _), count in statuses.items():
        per_operation[label] += count
    print(f"\nfuzzed {total} requests over {len(operations)} operations in {elapsed:.1f} s")
    for (label, status), count in sorted(statuses.items()):
        print(f"  {label}: {status} x {count}")
    assert all(status < 500 for _, status in statuses)
    assert len(per_operation) == len(operations)
    assert all(per_operation[op.label] >= EXAMPLES for op in operations if has_inputs(op))
