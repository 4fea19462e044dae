"""The database going away during a request and coming back (api.md §4 errors, §7, §9): the
service runs under uvicorn against a PostgreSQL server of its own, which the test stops with
`pg_ctl stop -m fast` and starts again. Expected: 503 `storage_unavailable`, `database`
unhealthy in `/health`, and recovery without restarting the service."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from devtools.testing.gate import signer_gate
from devtools.testing.service import private_postgres, private_postgres_remove, start_service


@pytest.fixture
def private_database():
    server = private_postgres()
    try:
        yield server, server.create_database("outage")
    finally:
        private_postgres_remove(server)


def database_health(body: dict) -> bool:
    return next(item["is_healthy"] for item in body["service_status"] if item["service"] == "database")


async def until_recovered(client: httpx.AsyncClient, deadline_seconds: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + deadline_seconds
    while True:
        response = await client.post("/app/prepare_issue/")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.25)


async def test_database_outage_is_503_and_the_service_recovers(private_database, signers):
    server, url = private_database
    async with signer_gate(signers) as gate:
        service = start_service(
            {"DATABASE_URL": url, "DATABASE_CONNECT_TIMEOUT": "2", "HEALTH_CHECK_TIMEOUT": "3", **gate.settings_for(signers)}
        )
        try:
            await database_outage_and_recovery(service, server, gate)
            assert service.process.poll() is None  # the same process, never restarted
        finally:
            assert service.stop() == 0
    assert '"message": "database unavailable"' in service.log_text()  # logged with the exception class only


async def database_outage_and_recovery(service, server, gate) -> None:
    async with httpx.AsyncClient(base_url=service.url("http"), timeout=15) as client:
        assert (await client.post("/app/prepare_issue/")).status_code == 200
        assert database_health((await client.get("/health")).json()) is True

        # The database goes away while a request waits for the domestic signer.
        gate.hold()
        gate.arrival.clear()
        in_flight = asyncio.ensure_future(client.post("/app/prepare_issue/"))
        await asyncio.wait_for(gate.arrival.wait(), gate.deadline)
        await asyncio.to_thread(server.stop)
        gate.release()
        response = await in_flight
        assert response.status_code == 503, response.content
        assert response.json() == {"detail": response.json()["detail"], "code": "storage_unavailable"}

        down = await client.post("/app/prepare_issue/")
        assert down.status_code == 503 and down.json()["code"] == "storage_unavailable"
        health = await client.get("/health")
        assert health.status_code == 200 and database_health(health.json()) is False
        assert health.json()["service_status"][0]["message"] == "Could not ping database."

        await asyncio.to_thread(server.start)
        recovered = await until_recovered(client)
        assert recovered.status_code == 200, recovered.content
        assert database_health((await client.get("/health")).json()) is True
