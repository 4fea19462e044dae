"""Graceful shutdown (coronacheck/server.py, issue "Reliability across processes"): on SIGTERM a
worker stops accepting connections, finishes every request it accepted (here: 20
`/app/prepare_issue/` calls held 2 s each by a slow domestic signer), closes its outbound clients
and database pools, and exits 0. Past `GRACEFUL_SHUTDOWN_SECONDS` the requests still running are
cancelled and the worker still exits 0.

Ordering comes from counts, not sleeps: SIGTERM is sent once the signer reports all 20 calls in
flight, i.e. once the service holds all 20 requests."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest
from django.db import connection

from devtools.testing.processes import signer_settings, start_reference_signers
from devtools.testing.service import database_url, start_service

IN_FLIGHT = 20


@pytest.fixture
def slow_signers():
    signers = start_reference_signers()
    yield signers
    signers.stop()


def signer_state(signers, system: str) -> dict:
    return httpx.get(signers.url(system, "/_reference/behaviour"), timeout=10).json()


async def wait_until(predicate, *, deadline_seconds: float = 60.0, what: str) -> None:
    deadline = time.monotonic() + deadline_seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {deadline_seconds} s: {what}")
        await asyncio.sleep(0.05)


def refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return True
    return False


async def run_shutdown(signers, *, delay_ms: int, graceful_seconds: int) -> tuple[list, int, object]:
    httpx.post(signers.url("domestic", "/_reference/behaviour"), json={"fault": "none", "delay_ms": delay_ms}).raise_for_status()
    service = start_service(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "GRACEFUL_SHUTDOWN_SECONDS": str(graceful_seconds),
            "HTTP_READ_TIMEOUT": "120",
            **signer_settings(signers),
        }
    )
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(base_url=service.url("http"), timeout=120, limits=limits) as client:

        async def one():
            try:
                return (await client.post("/app/prepare_issue/")).status_code
            except httpx.TransportError as exc:
                return type(exc).__name__

        tasks = [asyncio.create_task(one()) for _ in range(IN_FLIGHT)]
        try:
            await wait_until(
                lambda: signer_state(signers, "domestic")["in_flight"] == IN_FLIGHT, what="all requests at the signer"
            )
        except AssertionError as exc:
            done = [t.result() for t in tasks if t.done()]
            raise AssertionError(f"{signer_state(signers, 'domestic')} {done} {service.log_text()[-3000:]}") from exc
        service.process.send_signal(signal.SIGTERM)
        # New connections are refused while the accepted requests are still being served.
        await wait_until(lambda: refused(service.url("http", "/health")), what="the listening socket closed")
        results = await asyncio.gather(*tasks)
    code = await asyncio.to_thread(service.process.wait, 120)
    return results, code, service


@pytest.mark.django_db(transaction=True)
async def test_sigterm_finishes_every_accepted_request_and_exits_0(slow_signers):
    results, code, service = await run_shutdown(slow_signers, delay_ms=2000, graceful_seconds=60)
    assert results == [200] * IN_FLIGHT  # no accepted request was cut
    assert code == 0
    log = service.log_text()
    assert "shutdown: outbound clients and database pools closed" in log
    service.stop()


@pytest.mark.django_db(transaction=True)
async def test_requests_past_the_bound_are_cancelled_and_the_worker_still_exits_0(slow_signers):
    results, code, service = await run_shutdown(slow_signers, delay_ms=60_000, graceful_seconds=1)
    assert code == 0
    assert 200 not in results and len(results) == IN_FLIGHT  # cancelled: no answer, or an error answer
    assert "shutdown: outbound clients and database pools closed" in service.log_text()
    service.stop()
