"""ASGI entry point with a lifespan wrapper (Django has none): start-up validation
(settings.md §2) and closing the pooled outbound clients at shutdown (signers.md §1).

Requests to the API paths go to `ApiHandler`, a lean Django handler that never hops to a thread
on its own (issue "Performance", benchmarks/PROFILE.md); everything else (the admin, the OpenAPI
document, 404s) goes through Django's standard handler with the full middleware stack.
"""

from __future__ import annotations

import logging
import os
from typing import Any, cast

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()  # sets Django up; the full handler

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

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


async def _api(scope: Scope, receive: Receive, send: Send) -> None:
    # No `ThreadSensitiveContext` (Django's handler opens one per request, and with it a thread on
    # first use): no API request hops to a thread-sensitive `sync_to_async` (api.fastpath).
    await api_application.handle(scope, receive, send)


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "http" and scope["path"] in API_PATHS:
        if admission_applies(scope):  # issuance work: bounded per worker (api.admission)
            await admitted(_api, scope, receive, send)
        else:
            await _api(scope, receive, send)
        return
    await django_application(scope, receive, send)
