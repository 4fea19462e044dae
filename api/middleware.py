"""Request-level concerns of the API (api.md §1): request id, body size limit, the 307 for a
missing trailing slash, and structured access logs without personal data. Which middleware the
lean API handler leaves out or runs inline is `api.fastpath`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase

from common import metrics
from common.logging import request_id_accepted, request_id_var

logger = logging.getLogger("coronacheck.access")

API_POST_PATHS = frozenset(
    {
        "/app/access_tokens/",
        "/app/prepare_issue/",
        "/app/credentials/",
        "/app/print/",
        "/documentation/DataProviderEventsResult/",
        "/documentation/V2Event/",
    }
)


# Endpoint labels of the request metrics: a small fixed set, never a raw path.
_ENDPOINT_PATHS = API_POST_PATHS | {"/", "/health", "/openapi.json", "/docs", "/redoc", "/metrics"}


def endpoint_label(path: str) -> str:
    if path in _ENDPOINT_PATHS:
        return path
    if path.startswith(settings.STATIC_URL):
        return "static"
    if path.startswith("/admin/"):
        return "admin"
    return "other"


class TemporaryRedirect(HttpResponseRedirect):
    status_code = 307


class AsyncMiddleware:
    """Base of this project's middleware: async-only, so that API requests never hop to a thread."""

    async_capable = True
    sync_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)  # type: ignore[type-var]  # an instance with an async __call__


class ApiMiddleware(AsyncMiddleware):
    """Request id, access log, the 307 for a missing slash and the body size limit."""

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # From META, as every API header: `request.headers` builds a mapping of all of them first.
        request_id = request_id_accepted(request.META.get("HTTP_X_REQUEST_ID"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self._answer_early(request)
            if response is None:
                response = await self.get_response(request)
            response["X-Request-Id"] = request_id
            elapsed = time.perf_counter() - started
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path if len(request.path) < 200 else request.path[:200],
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            metrics.request_observed(endpoint_label(request.path), request.method or "", response.status_code, elapsed)
            metrics.sample_gauges()
            return response
        finally:
            request_id_var.reset(token)

    def _answer_early(self, request: HttpRequest) -> HttpResponseBase | None:
        """The 307 for a missing slash or the 413 for a declared body over the limit, else None.
        (A plain function, not a coroutine level of its own: every resumption of a request goes
        through each level of its await chain.)"""
        path = request.path
        if request.method == "POST" and not path.endswith("/") and path + "/" in API_POST_PATHS:
            return TemporaryRedirect(path + "/")
        length = request.META.get("CONTENT_LENGTH")
        try:
            too_large = length is not None and length != "" and int(length) > settings.REQUEST_MAX_BYTES
        except ValueError:
            too_large = False
        if too_large:
            return JsonResponse({"detail": "Request body is too large.", "code": "request_too_large"}, status=413)
        return None
