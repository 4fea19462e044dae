"""Request-level concerns of the API (api.md §1): request id, body size limit, the 307 for a
missing trailing slash, and structured access logs without personal data.

Also the two lists that shape the lean API handler (`coronacheck.asgi.ApiHandler`, issue
"Performance"): middleware that only the admin needs, and middleware whose hooks do no I/O and
so can run inline in the event loop rather than in a thread per hook."""

from __future__ import annotations

import logging
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse

from common import metrics
from common.logging import request_id_var

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

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)


class ApiMiddleware(AsyncMiddleware):
    """Request id, access log, the 307 for a missing slash and the body size limit."""

    async def __call__(self, request) -> HttpResponse:
        request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        if len(request_id) > 64 or not request_id.isascii():
            request_id = uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = await self._handle(request)
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
            metrics.request_observed(endpoint_label(request.path), request.method, response.status_code, elapsed)
            metrics.sample_gauges()
            return response
        finally:
            request_id_var.reset(token)

    async def _handle(self, request) -> HttpResponse:
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
        return await self.get_response(request)


# Static files, sessions, logins, CSRF, messages and the history user serve the admin only: the API handler
# leaves them out (API views are CSRF-exempt and use neither sessions nor users).
ADMIN_ONLY_MIDDLEWARE = frozenset(
    {
        "servestatic.middleware.ServeStaticMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "simple_history.middleware.HistoryRequestMiddleware",
        "coronacheck.staff.StaffContentSecurityPolicyMiddleware",
        "axes.middleware.AxesMiddleware",
    }
)
# Security headers, Content-Length and X-Frame-Options: hooks without I/O, run inline.
INLINE_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
)


class InlineHooks:
    """Runs a `MiddlewareMixin`'s `process_request` and `process_response` in the event loop.

    Django calls both through `sync_to_async` for async requests (a thread hop each); for the
    `INLINE_MIDDLEWARE`, which only read settings and headers, that hop is pure overhead. The
    order of calls is that of `MiddlewareMixin.__acall__`."""

    async_capable = True
    sync_capable = False

    def __init__(self, middleware_class, get_response) -> None:
        self.middleware = middleware_class(get_response)
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request) -> HttpResponse:
        response = None
        if hasattr(self.middleware, "process_request"):
            response = self.middleware.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self.middleware, "process_response"):
            response = self.middleware.process_response(request, response)
        return response
