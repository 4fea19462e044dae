"""`GET /` and `/health` (api.md §7): database and RVIG checks, run concurrently with short
timeouts so that they answer quickly whatever the signing traffic does."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection

from common.db import run_db
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


async def application_health() -> dict:
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
