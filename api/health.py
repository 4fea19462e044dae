"""`GET /` and `/health` (api.md §7): database and RVIG checks, run concurrently with short
timeouts so that they answer quickly whatever the signing traffic does.

With `HEALTH_REFRESH_SECONDS` > 0 (the default) a request does not run the checks itself: it
answers from the last results, which a background task on the worker's event loop refreshes
every `HEALTH_REFRESH_SECONDS` (issue "Performance": `/health` must not queue behind issuance
work). The database result is also overridden by anything newer that real traffic saw
(`common.db.database_observation()`), so an outage shows at once when requests hit it and
within `HEALTH_REFRESH_SECONDS` + `HEALTH_CHECK_TIMEOUT` otherwise. The first request of a worker
(or after `IDLE_SECONDS` without one, when the background task stops) runs the checks itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from common.db import database_observation, run_db
from common.http import downstream_reachable
from events.accesstokens.service import rvig_holder_get

logger = logging.getLogger(__name__)


def _ping() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


async def database_healthy() -> bool:
    try:
        return await asyncio.wait_for(run_db(_ping), settings.HEALTH_CHECK_TIMEOUT)
    except Exception as exc:  # any failure is "unhealthy"; the class goes to the log
        logger.warning("database health check failed", extra={"exception": type(exc).__name__})
        return False


async def rvig_healthy() -> bool:
    """Connectivity only, unless RVIG_HEALTH_CHECK_BSN is set (signers.md §5, health probe)."""
    if not settings.RVIG_URL:
        return False
    if settings.RVIG_HEALTH_CHECK_BSN:
        try:
            await asyncio.wait_for(rvig_holder_get(settings.RVIG_HEALTH_CHECK_BSN), settings.HEALTH_CHECK_TIMEOUT)
            return True
        except Exception as exc:
            logger.warning("rvig health check failed", extra={"exception": type(exc).__name__})
            return False
    parts = urlsplit(settings.RVIG_URL)
    return await downstream_reachable("rvig", f"{parts.scheme}://{parts.netloc}/", timeout=settings.HEALTH_CHECK_TIMEOUT)


# The background refresh stops after this long without a /health request.
IDLE_SECONDS = 60.0


@dataclass
class CheckResults:
    database: bool
    rvig: bool
    started: float  # time.monotonic() when the checks started


@dataclass
class HealthCache:
    loop: asyncio.AbstractEventLoop
    results: CheckResults | None = None
    last_request: float = 0.0
    refreshing: asyncio.Task[CheckResults] | None = None
    refresher: asyncio.Task[None] | None = None


_cache: HealthCache | None = None


async def checks_run() -> CheckResults:
    started = time.monotonic()
    database, rvig = await asyncio.gather(database_healthy(), rvig_healthy())
    return CheckResults(database=database, rvig=rvig, started=started)


async def _refresh_loop(cache: HealthCache, interval: float) -> None:
    while time.monotonic() - cache.last_request < IDLE_SECONDS:
        await asyncio.sleep(interval)
        cache.results = await checks_run()


async def cached_checks(interval: float) -> CheckResults:
    global _cache
    loop = asyncio.get_running_loop()
    if _cache is None or _cache.loop is not loop:
        _cache = HealthCache(loop=loop)
    cache = _cache
    cache.last_request = time.monotonic()
    if cache.refresher is None or cache.refresher.done():
        # No fresh results: run the checks once for every request that waits (single flight),
        # then keep them fresh in the background.
        if cache.refreshing is None or cache.refreshing.done():
            cache.refreshing = loop.create_task(checks_run())
        cache.results = await asyncio.shield(cache.refreshing)
        if cache.refresher is None or cache.refresher.done():
            cache.refresher = loop.create_task(_refresh_loop(cache, interval), name="health-refresh")
    assert cache.results is not None
    return cache.results


async def application_health() -> dict:
    interval = settings.HEALTH_REFRESH_SECONDS
    if interval > 0:
        results = await cached_checks(interval)
        database, rvig = results.database, results.rvig
        observed = database_observation()
        if observed is not None and observed[0] > results.started:
            database = observed[1]
    else:
        database, rvig = await asyncio.gather(database_healthy(), rvig_healthy())
    return {
        "running": True,
        "service_status": [
            {
                "service": "database",
                "is_healthy": database,
                "message": "ping succeeded" if database else "Could not ping database.",
            },
            {
                "service": "rvig",
                "is_healthy": rvig,
                "message": "Data request successful" if rvig else "Could not perform test call.",
            },
        ],
    }
