"""ASGI entry point with a lifespan wrapper (Django has none): start-up validation
(settings.md §2) and closing the pooled outbound clients at shutdown (signers.md §1).

Requests to the API paths go to `ApiHandler`, a lean Django handler that never hops to a thread
on its own (issue "Performance", benchmarks/PROFILE.md); everything else (the admin, the OpenAPI
document, 404s) goes through Django's standard handler with the full middleware stack.
"""

from __future__ import annotations

import gc
import logging
import os
from typing import Any, cast

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()  # sets Django up; the full handler

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from api.admission import admission_applies, admitted  # noqa: E402
from api.fastpath import ApiHandler  # noqa: E402
from api.middleware import API_POST_PATHS  # noqa: E402
from common.asgitypes import Receive, Scope, Send  # noqa: E402
from common.db import async_pools_close  # noqa: E402
from common.http import clients_close  # noqa: E402
from common.metrics import worker_exited  # noqa: E402
from coronacheck.config_checks import config_problems_raise  # noqa: E402

API_PATHS = API_POST_PATHS | {"/", "/health"}
logger = logging.getLogger("coronacheck.lifespan")


api_application = ApiHandler()


def _database_pools_close() -> None:
    """Close the psycopg pools of this process (kept per class, not per thread, by Django)."""
    for alias in connections:
        connection = connections[alias]
        if alias in getattr(type(connection), "_connection_pools", {}):
            cast(Any, connection).close_pool()  # PostgreSQL's pool (Django 5.1+), not in the stubs


def garbage_collection_tune() -> None:
    """Make the worker's garbage collection cheaper (issue "Performance", benchmarks/PROFILE.md).

    With Python's defaults a worker spent ~0.3 ms of CPU per print request in the collector: the
    young generation was collected every 700 allocations, and each full collection walked the
    ~150,000 objects of Django, the URLconf and the libraries (~0.1 s, a pause for every request
    and `/health`). After start-up those objects live as long as the process: `gc.freeze()` moves
    them out of every collection, and `GC_GENERATION0_THRESHOLD` allocations between young
    collections (default 10,000) makes them rarer; cycles are still collected, so memory stays
    bounded (the soak in PROFILE.md). 0 keeps Python's defaults."""
    threshold = settings.GC_GENERATION0_THRESHOLD
    if threshold <= 0:
        return
    get_resolver().url_patterns  # noqa: B018  (imports the URLconf, the views and their libraries now)
    gc.collect()
    gc.freeze()
    _, generation1, generation2 = gc.get_threshold()
    gc.set_threshold(threshold, generation1, generation2)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                if settings.VALIDATE_CONFIG_AT_START:
                    await sync_to_async(config_problems_raise, thread_sensitive=False)()
            except Exception as exc:
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            garbage_collection_tune()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # After the server's graceful shutdown (coronacheck/server.py): requests are done.
            await clients_close()
            worker_exited()
            await sync_to_async(_database_pools_close, thread_sensitive=False)()
            await async_pools_close()
            logger.info("shutdown: outbound clients and database pools closed")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "http" and scope["path"] in API_PATHS:
        # No `ThreadSensitiveContext` (Django's handler opens one per request, and with it a thread
        # on first use): no API request hops to a thread-sensitive `sync_to_async` (api.fastpath).
        if admission_applies(scope):  # issuance work: bounded per worker (api.admission)
            await admitted(api_application.handle, scope, receive, send)
        else:
            await api_application.handle(scope, receive, send)
        return
    await django_application(scope, receive, send)
