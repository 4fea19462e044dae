"""Bounded admission of issuance work, per worker process (issue "Performance").

At most `ADMISSION_MAX_IN_FLIGHT` issuance requests (the POST endpoints that call signers,
Inge-6/RVIG or write submissions: `ADMISSION_PATHS`) run at once in a worker; up to
`ADMISSION_QUEUE_SIZE` more wait, first come first served, at most `ADMISSION_QUEUE_TIMEOUT`
seconds for a slot. Anything beyond that is answered at once with 503
`{"detail": ..., "code": "overloaded"}` and `Retry-After` (api.md §9, family B), before the body
is read or a view runs: a shed request reaches no signer and writes no submission record. The
check happens in the ASGI entry point (`coronacheck.asgi.application`), so shedding costs a few
tens of microseconds rather than a Django request, which keeps the event loop free for the
requests that were admitted and for `/health` (never queued or shed).

Optionally (`ADMISSION_MAX_LOOP_LAG_MS` > 0; off by default, as it did not pay in the
benchmarks) the limit adapts to the CPU the worker actually gets: while the event loop lags more
than `ADMISSION_MAX_LOOP_LAG_MS` (measured every 50 ms), a finished request's slot is not handed on
and new requests wait in the queue, so the number in flight shrinks (not below `MIN_IN_FLIGHT`)
until the loop keeps up again; then waiters get the free slots back up to the limit. A fixed
limit cannot do both: 200 ms signers need many requests in flight, a CPU-bound worker (or one on
a busy machine) needs few.

`admission_stats()` returns the counters (accepted, queued, shed, in flight, waiting) and the
event-loop lag measured by a small periodic task that starts with the first admitted request;
both go to the log every `ADMISSION_LOG_SECONDS` (counts and milliseconds only).
`ADMISSION_MAX_IN_FLIGHT=0` turns admission off.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque

from django.conf import settings

from common import errors, metrics
from common.asgitypes import ASGIApp, Receive, Scope, Send
from common.logging import request_id_accepted, request_id_var

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("coronacheck.access")


ADMISSION_PATHS = frozenset({"/app/access_tokens/", "/app/prepare_issue/", "/app/credentials/", "/app/print/"})
OVERLOADED_BODY = json.dumps(errors.overloaded().body(), separators=(", ", ": ")).encode()
# How often the lag monitor wakes up (seconds): the lag is how late it wakes.
LAG_SAMPLE_SECONDS = 0.05
# While the loop lags, admission lets the number in flight shrink down to this, not below.
MIN_IN_FLIGHT = 4


class Admission:
    """The in-flight counter and the wait queue of one worker (one event loop at a time)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.waiters: deque[asyncio.Future[bool]] = deque()
        self.accepted = 0
        self.queued = 0
        self.shed = 0
        self.lag_ms = 0
        self.lag_max_ms = 0
        self.limit = 0
        self.max_lag_ms = 0

    def lagging(self, in_flight: int) -> bool:
        """`in_flight` requests are too many now: the event loop lags more than `max_lag_ms`, the
        worker is short of CPU, so the number in flight may only shrink (down to `MIN_IN_FLIGHT`)
        until it catches up."""
        return 0 < self.max_lag_ms < self.lag_ms and in_flight > MIN_IN_FLIGHT

    def try_acquire(self, limit: int) -> bool:
        if self.in_flight < limit and not self.waiters and not self.lagging(self.in_flight + 1):
            self.in_flight += 1
            self.accepted += 1
            return True
        return False

    async def acquire(self, limit: int, queue_size: int, timeout: float, max_lag_ms: int = 0) -> bool:
        """True with a slot held (release it with `release()`), False when the request is shed."""
        self.limit, self.max_lag_ms = limit, max_lag_ms
        if self.try_acquire(limit):
            return True
        if len(self.waiters) >= queue_size or timeout <= 0:
            self.shed += 1
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self.waiters.append(waiter)
        self.queued += 1
        expiry = loop.call_later(timeout, self._expire, waiter)
        try:
            granted = await waiter
        except asyncio.CancelledError:
            # Cancelled while waiting (the client went away); a slot handed over just before is
            # passed on, so that it is never lost.
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self.release()
            else:
                self._forget(waiter)
            raise
        finally:
            expiry.cancel()
        if granted:
            self.accepted += 1
        else:
            self.shed += 1
        return granted

    def release(self) -> None:
        """Hand the slot to the first live waiter, or give it back (always while lagging)."""
        if self.in_flight <= self.limit and not self.lagging(self.in_flight):
            while self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(True)  # the slot moves on: in_flight stays the same
                    return
        self.in_flight -= 1

    def refill(self) -> None:
        """Give free slots to waiters (after the loop caught up again)."""
        while self.waiters and self.in_flight < self.limit and not self.lagging(self.in_flight + 1):
            waiter = self.waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(True)

    def _expire(self, waiter: asyncio.Future[bool]) -> None:
        if not waiter.done():
            self._forget(waiter)
            waiter.set_result(False)

    def _forget(self, waiter: asyncio.Future[bool]) -> None:
        try:
            self.waiters.remove(waiter)
        except ValueError:
            pass

    def stats(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "queued": self.queued,
            "shed": self.shed,
            "in_flight": self.in_flight,
            "waiting": len(self.waiters),
            "loop_lag_ms": self.lag_ms,
            "loop_lag_max_ms": self.lag_max_ms,
        }


_admission = Admission()
_monitor: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None


def admission_stats() -> dict[str, int]:
    """Counters since the worker started (accepted, queued, shed), the current in_flight and
    waiting, and the event-loop lag in ms (the last sample, and the largest since the last log)."""
    return _admission.stats()


def admission_reset() -> None:
    """A fresh state (tests)."""
    global _admission
    _admission = Admission()


async def _lag_monitor() -> None:
    loop = asyncio.get_running_loop()
    log_every = settings.ADMISSION_LOG_SECONDS
    next_log = loop.time() + log_every
    while True:
        admission = _admission
        before = loop.time()
        await asyncio.sleep(LAG_SAMPLE_SECONDS)
        now = loop.time()
        admission.lag_ms = max(0, round((now - before - LAG_SAMPLE_SECONDS) * 1000))
        admission.lag_max_ms = max(admission.lag_max_ms, admission.lag_ms)
        admission.refill()
        if log_every > 0 and now >= next_log:
            logger.info("admission", extra=admission.stats())
            admission.lag_max_ms = 0
            next_log = now + log_every


def lag_monitor_ensure() -> None:
    """Start the lag monitor on the running loop unless it already runs there."""
    global _monitor
    loop = asyncio.get_running_loop()
    if _monitor is not None and _monitor[0] is loop and not _monitor[1].done():
        return
    _monitor = (loop, loop.create_task(_lag_monitor(), name="admission-lag-monitor"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _request_id(scope: Scope) -> str:
    return request_id_accepted(_header(scope, b"x-request-id"))


def _is_secure(scope: Scope) -> bool:
    """As `HttpRequest.is_secure()` with `SECURE_PROXY_SSL_HEADER`."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        header, secure_value = proxy
        value = _header(scope, header[len("HTTP_") :].lower().replace("_", "-").encode("latin-1"))
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def overloaded_headers(scope: Scope, request_id: str) -> list[tuple[bytes, bytes]]:
    """The headers the API's middleware puts on its JSON error responses (Security, Common,
    XFrameOptions, request id), plus `Retry-After`; `api/tests/test_admission.py` compares them
    with those of a 413."""
    headers = [
        (b"Content-Type", b"application/json"),
        (b"Retry-After", str(settings.ADMISSION_RETRY_AFTER).encode()),
        (b"X-Request-Id", request_id.encode()),
    ]
    if settings.SECURE_HSTS_SECONDS and _is_secure(scope):
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append((b"Strict-Transport-Security", value.encode()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"X-Content-Type-Options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        if not isinstance(policy, str):
            policy = ",".join(policy)
        headers.append((b"Referrer-Policy", policy.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append((b"Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()))
    headers.append((b"Content-Length", str(len(OVERLOADED_BODY)).encode()))
    if settings.X_FRAME_OPTIONS:
        headers.append((b"X-Frame-Options", settings.X_FRAME_OPTIONS.upper().encode()))
    return headers


async def overloaded(scope: Scope, send: Send, started: float) -> None:
    request_id = _request_id(scope)
    await send({"type": "http.response.start", "status": 503, "headers": overloaded_headers(scope, request_id)})
    await send({"type": "http.response.body", "body": OVERLOADED_BODY})
    token = request_id_var.set(request_id)
    try:
        access_logger.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": 503,
                "code": "overloaded",
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
    finally:
        request_id_var.reset(token)


def admission_applies(scope: Scope) -> bool:
    return scope["method"] == "POST" and scope["path"] in ADMISSION_PATHS and settings.ADMISSION_MAX_IN_FLIGHT > 0


async def admitted(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run `app` for an issuance request within the limits, or answer 503 `overloaded`."""
    started = time.perf_counter()
    admission = _admission
    lag_monitor_ensure()
    if not await admission.acquire(
        settings.ADMISSION_MAX_IN_FLIGHT,
        settings.ADMISSION_QUEUE_SIZE,
        settings.ADMISSION_QUEUE_TIMEOUT,
        settings.ADMISSION_MAX_LOOP_LAG_MS,
    ):
        await overloaded(scope, send, started)
        return
    try:
        await app(scope, receive, send)
    finally:
        admission.release()


def _admission_sample() -> dict[str, float]:
    stats = _admission.stats()
    return {name: float(stats[name]) for name in ("accepted", "queued", "shed", "in_flight", "waiting")}


def _loop_lag_sample() -> dict[str, float]:
    stats = _admission.stats()
    return {"last": stats["loop_lag_ms"] / 1000, "max": stats["loop_lag_max_ms"] / 1000}


# /metrics (Step 3): the admission counters (summed over the workers) and the event-loop lag.
metrics.register_sampler(
    "coronacheck_admission",
    "Issuance requests of this worker: accepted, queued and shed since start; in flight and waiting now.",
    _admission_sample,
)
metrics.register_sampler(
    "coronacheck_event_loop_lag_seconds", "Event-loop lag: the last sample and the largest.", _loop_lag_sample
)
