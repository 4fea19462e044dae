"""Per-client rate limit of the public API (issue "Reliability and security"; api.md §1, §9).

Fixed windows of `RATE_LIMIT_WINDOW_SECONDS`; at most `RATE_LIMIT_REQUESTS` requests per client
and window on `/app/…` and `/documentation/…` (0 disables the limit). The counters live in
PostgreSQL (`events.RateLimitCounter`), so the limit holds across worker processes: one atomic
`INSERT … ON CONFLICT … DO UPDATE … RETURNING` per request. Over the limit → 429
`{"detail": …, "code": "rate_limited"}` with `Retry-After`.

The client is the peer address (`REMOTE_ADDR`). Behind a trusted reverse proxy
(`RATE_LIMIT_TRUST_X_FORWARDED_FOR`), it is the last `X-Forwarded-For` hop, the one the proxy
itself appended: earlier hops are whatever the client chose to send. Addresses are stored only
as a keyed hash. When the database cannot be reached the limit fails open (the request goes on
and meets the real `storage_unavailable` where it needs the database).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase

from api.middleware import AsyncMiddleware
from api.models import RateLimitCounter
from common import errors
from common.db import run_db

logger = logging.getLogger(__name__)

LIMITED_PREFIXES = ("/app/", "/documentation/")
# Share of requests that also delete the counters of finished windows.
PURGE_PROBABILITY = 0.01


def rate_limited_path(path: str) -> bool:
    return path.startswith(LIMITED_PREFIXES)


def client_address(meta: dict, *, trust_forwarded_for: bool) -> str:
    """The address the limit is counted for (see the module docstring)."""
    if trust_forwarded_for:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return meta.get("REMOTE_ADDR") or "unknown"


def client_key(address: str) -> str:
    """A keyed hash of the address: the counter table holds no IP addresses."""
    secret = (settings.SECRET_KEY or "rate-limit").encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Window:
    start: int
    seconds: int

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.start + self.seconds - now))


def window_at(now: float, seconds: int) -> Window:
    seconds = max(1, seconds)
    return Window(start=int(now // seconds) * seconds, seconds=seconds)


def counter_increment(client: str, window: Window, purge: bool) -> int:
    """The client's request count in `window`, this request included (one atomic statement)."""

    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client, window_start, count) VALUES (%s, %s, 1) "
            f"ON CONFLICT (client, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [client, window.start],
        )
        count = cursor.fetchone()[0]
        if purge:
            cursor.execute(f"DELETE FROM {table} WHERE window_start < %s", [window.start])
    return count


def rate_limited_response(retry_after: int) -> JsonResponse:
    response = JsonResponse({"detail": "Too many requests; try again later.", "code": "rate_limited"}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware(AsyncMiddleware):
    """Async-only, placed right after `ApiMiddleware` (request id and access log)."""

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = settings.RATE_LIMIT_REQUESTS
        if limit <= 0 or not rate_limited_path(request.path):
            return await self.get_response(request)
        now = time.time()
        window = window_at(now, settings.RATE_LIMIT_WINDOW_SECONDS)
        address = client_address(request.META, trust_forwarded_for=settings.RATE_LIMIT_TRUST_X_FORWARDED_FOR)
        try:
            count = await run_db(counter_increment, client_key(address), window, random.random() < PURGE_PROBABILITY)
        except errors.ServiceError:
            logger.warning("rate limit not checked", extra={"code": "storage_unavailable"})
            return await self.get_response(request)
        if count > limit:
            logger.info("rate limited", extra={"code": "rate_limited"})
            return rate_limited_response(window.retry_after(now))
        return await self.get_response(request)
