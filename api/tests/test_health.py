"""`/health` from check results refreshed in the background (issue "Performance"), still honest:
what real traffic sees of the database shows at once. Counts checks; nothing is timed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from django.db import OperationalError

from api import health
from common import errors
from common.db import run_db
from common.http import clients_close
from coronacheck.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://localhost") as c:
        yield c
    await clients_close()


@pytest.fixture
def counted_checks(monkeypatch):
    """The checks report what `states` says (the last entry once exhausted) and count their runs."""
    runs = {"database": 0, "rvig": 0}
    states = {"database": [True], "rvig": [True]}

    def fake(name: str):
        async def check() -> bool:
            runs[name] += 1
            values = states[name]
            return values.pop(0) if len(values) > 1 else values[0]

        return check

    monkeypatch.setattr(health, "database_healthy", fake("database"))
    monkeypatch.setattr(health, "rvig_healthy", fake("rvig"))
    return runs, states


def status(body: dict) -> dict[str, bool]:
    return {item["service"]: item["is_healthy"] for item in body["service_status"]}


async def test_health_answers_from_cached_checks(client, settings, counted_checks):
    settings.HEALTH_REFRESH_SECONDS = 600  # no background refresh during the test
    runs, _ = counted_checks
    first = await asyncio.gather(*(client.get("/health") for _ in range(5)))
    assert [response.status_code for response in first] == [200] * 5
    assert runs == {"database": 1, "rvig": 1}  # one run for all the concurrent first requests
    again = await client.get("/health")
    assert again.content == first[0].content
    assert again.json() == {
        "running": True,
        "service_status": [
            {"service": "database", "is_healthy": True, "message": "ping succeeded"},
            {"service": "rvig", "is_healthy": True, "message": "Data request successful"},
        ],
    }
    assert runs == {"database": 1, "rvig": 1}


async def test_a_database_failure_seen_by_traffic_shows_at_once(client, settings, counted_checks):
    settings.HEALTH_REFRESH_SECONDS = 600
    runs, _ = counted_checks
    assert status((await client.get("/health")).json())["database"] is True

    def unreachable() -> None:
        raise OperationalError("connection refused")

    with pytest.raises(errors.ServiceError):
        await run_db(unreachable)
    body = (await client.get("/health")).json()
    assert status(body) == {"database": False, "rvig": True}
    assert body["service_status"][0]["message"] == "Could not ping database."

    await run_db(lambda: None)  # the database answers again
    assert status((await client.get("/health")).json())["database"] is True
    assert runs == {"database": 1, "rvig": 1}


async def test_the_background_refresh_picks_up_a_change(client, settings, counted_checks):
    settings.HEALTH_REFRESH_SECONDS = 0.01
    runs, states = counted_checks
    states["rvig"] = [True, False]
    assert status((await client.get("/health")).json())["rvig"] is True
    for _ in range(3000):
        if status((await client.get("/health")).json())["rvig"] is False:
            break
        await asyncio.sleep(0.01)
    assert status((await client.get("/health")).json()) == {"database": True, "rvig": False}
    assert runs["rvig"] >= 2


async def test_without_refresh_every_request_runs_the_checks(client, settings, counted_checks):
    settings.HEALTH_REFRESH_SECONDS = 0
    runs, _ = counted_checks
    for _ in range(3):
        assert (await client.get("/health")).status_code == 200
    assert runs == {"database": 3, "rvig": 3}
