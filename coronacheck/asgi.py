"""ASGI entry point with a lifespan wrapper (Django has none): start-up validation
(settings.md §2) and closing the pooled outbound clients at shutdown (signers.md §1).

Requests to the API paths go to `ApiHandler`, a lean Django handler that never hops to a thread
on its own (issue "Performance", benchmarks/PROFILE.md); everything else (the admin, the OpenAPI
document, 404s) goes through Django's standard handler with the full middleware stack.
"""

from __future__ import annotations

import asyncio
import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()  # sets Django up; the full handler

from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.exceptions import RequestAborted  # noqa: E402
from django.core.handlers.asgi import ASGIHandler, get_script_prefix  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402
from django.urls import set_script_prefix  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from api.admission import admission_applies, admitted  # noqa: E402
from api.middleware import ADMIN_ONLY_MIDDLEWARE, API_POST_PATHS, INLINE_MIDDLEWARE, InlineHooks  # noqa: E402

API_PATHS = API_POST_PATHS | {"/", "/health"}
logger = logging.getLogger("coronacheck.lifespan")


class ApiHandler(ASGIHandler):
    """Django's ASGI handler for the API paths, without the thread hops that cost most of a
    request's CPU. Same URL resolution, views, async middleware and signals; the differences:

    - the middleware chain is `settings.MIDDLEWARE` without `ADMIN_ONLY_MIDDLEWARE`, with the
      `INLINE_MIDDLEWARE` hooks called inline (`InlineHooks`);
    - `request_started`, `request_finished` (sent by `response.close()`) and DRF's JSON
      rendering run inline: their receivers only reset per-thread database state, and API code
      never opens a connection in the event loop thread (all database work goes through
      `common.db.run_db`, which returns its connection itself).
    """

    def load_middleware(self, is_async: bool = True) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response_async)
        for path in reversed(settings.MIDDLEWARE):
            if path in ADMIN_ONLY_MIDDLEWARE:
                continue
            middleware = import_string(path)
            if path in INLINE_MIDDLEWARE:
                instance = InlineHooks(middleware, handler)
            elif getattr(middleware, "async_capable", False) and not getattr(middleware, "sync_capable", True):
                instance = middleware(handler)
            else:
                raise TypeError(f"{path} must be async-only, or listed in ADMIN_ONLY_ or INLINE_MIDDLEWARE")
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    async def _get_response_async(self, request):
        callback, callback_args, callback_kwargs = self.resolve_request(request)
        callback = self.make_view_atomic(callback)
        if not iscoroutinefunction(callback):
            raise TypeError(f"API views must be async: {request.path}")
        response = await callback(request, *callback_args, **callback_kwargs)
        self.check_response(response, callback)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response

    async def handle(self, scope, receive, send) -> None:
        """`ASGIHandler.handle` with the signals and `response.close()` called inline."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request() -> object:
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client disconnected while the response was sent
            return response

        # As Django does: stop working on the request when the client disconnects.
        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)), asyncio.create_task(process_request())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            signals.request_finished.send(sender=self.__class__)
        else:
            response.close()
        body_file.close()


api_application = ApiHandler()


def _database_pools_close() -> None:
    """Close the psycopg pools of this process (kept per class, not per thread, by Django)."""
    from django.db import connections

    for alias in connections:
        connection = connections[alias]
        if alias in getattr(type(connection), "_connection_pools", {}):
            connection.close_pool()


async def _lifespan(receive, send) -> None:
    from common.http import clients_close
    from common.metrics import worker_exited

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                if settings.VALIDATE_CONFIG_AT_START:
                    from coronacheck.config_checks import config_problems_raise

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
            logger.info("shutdown: outbound clients and database pools closed")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _api(scope, receive, send) -> None:
    async with ThreadSensitiveContext():
        await api_application.handle(scope, receive, send)


async def application(scope, receive, send) -> None:
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
