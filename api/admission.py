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

The limit adapts to the CPU the worker has to spare (`next_limit`, every 50 ms). It starts at
`ADMISSION_BUSY_IN_FLIGHT`, what a CPU-bound worker holds with `/health` still answering in time.
While requests wait for a place (the limit is what holds them back) and the worker uses less than
`ADMISSION_CPU_TARGET_PERCENT` of a CPU, the limit rises step by step towards
`ADMISSION_MAX_IN_FLIGHT`: the requests in flight are then mostly waiting for slow signers, and
more of them cost little CPU. When the event loop lags `ADMISSION_MAX_LOOP_LAG_MS` or more (the
CPU use and the lag are smoothed over ~0.3 s), the limit falls back towards the busy limit, a
finished request's place is not handed on while as many are in flight as the limit, and the
number in flight shrinks with it; when no request waits, the limit keeps only a step above the
most that were in flight, so an idle worker meets a burst at the busy limit. A fixed limit cannot
do both: 200 ms signers need many requests in flight, a CPU-bound worker needs few
(`benchmarks/PROFILE.md`, "Step 2, fourth round"). `ADMISSION_BUSY_IN_FLIGHT` ≥
`ADMISSION_MAX_IN_FLIGHT`, or `ADMISSION_MAX_LOOP_LAG_MS=0`, makes the limit fixed.

`admission_stats()` returns the counters (accepted, queued, shed, in flight, waiting), the limit,
the smoothed CPU use and the event-loop lag, measured by a small periodic task that starts with
the first admitted request; they go to the log every `ADMISSION_LOG_SECONDS` (counts, percent
and milliseconds only).
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
# How much the limit rises per sample while requests wait and the worker has CPU to spare, and
# the share of its excess over the busy limit it gives back per sample while the loop lags.
LIMIT_STEP = 8
LIMIT_BACK_OFF = 0.25
# The weight of the newest 50 ms sample in the smoothed CPU use and lag (about the last 0.3 s
# count), so that one garbage collection or one burst of answers does not move the limit.
SMOOTHING = 0.3


def next_limit(
    limit: int,
    *,
    busy_limit: int,
    max_limit: int,
    held_back: bool,
    peak_in_flight: int,
    cpu_percent: float,
    lag_ms: float,
    cpu_target_percent: int,
    max_lag_ms: int,
) -> int:
    """The in-flight limit for the next sample, from the last one (pure).

    - The event loop lagged `max_lag_ms` or more (the worker is short of CPU): the limit falls by
      `LIMIT_BACK_OFF` of its excess over `busy_limit`, at least by `LIMIT_STEP`.
    - Otherwise, requests were `held_back` by the limit: it rises by `LIMIT_STEP` while the worker
      used less than `cpu_target_percent` of a CPU, and holds from there on.
    - Otherwise (no request waited): it keeps no more than `LIMIT_STEP` above the most requests
      that were in flight at once (`peak_in_flight`), so that a worker that was idle, or whose
      signers were slow a while ago, meets a burst of CPU-bound requests at the busy limit.

    It stays within [`busy_limit`, `max_limit`] (and at least 1); a `busy_limit` at or above
    `max_limit` makes it fixed, and so does `max_lag_ms` 0."""
    floor = max(1, min(busy_limit, max_limit))
    if lag_ms >= max_lag_ms:
        limit -= max(LIMIT_STEP, round((limit - floor) * LIMIT_BACK_OFF))
    elif held_back:
        if cpu_percent < cpu_target_percent:
            limit += LIMIT_STEP
    else:
        limit = min(limit, peak_in_flight + LIMIT_STEP)
    return max(floor, min(max_limit, limit))


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
        self.busy_limit = 0
        self.max_limit = 0
        self.held_back = False  # whether the limit held a request back since the last sample
        self.peak_in_flight = 0  # the most requests in flight at once since the last sample
        self.cpu_percent = 0.0  # the worker's CPU use and event-loop lag, smoothed over the last samples
        self.lag_smoothed_ms = 0.0

    def bounds(self, busy_limit: int, max_limit: int) -> None:
        """The range of the limit (from the settings); a new limit starts at the busy one."""
        if (busy_limit, max_limit) != (self.busy_limit, self.max_limit):
            self.busy_limit, self.max_limit = busy_limit, max_limit
            self.limit = max(1, min(busy_limit, max_limit))
            self.refill()

    def adapt(self, cpu_percent: float, cpu_target_percent: int, max_lag_ms: int) -> None:
        """One sample of the controller: the CPU use (of the whole process, in % of one CPU) and the
        loop lag smoothed (`SMOOTHING`), the next limit (`next_limit`), and the waiters let in
        when it rose. (Requiring the newest CPU sample to be under the target too stopped the
        limit short of what 200 ms signers need: 510 instead of 750-880 requests/s, PROFILE.md.)"""
        self.cpu_percent += SMOOTHING * (cpu_percent - self.cpu_percent)
        self.lag_smoothed_ms += SMOOTHING * (self.lag_ms - self.lag_smoothed_ms)
        self.limit = next_limit(
            self.limit,
            busy_limit=self.busy_limit,
            max_limit=self.max_limit,
            held_back=self.held_back or bool(self.waiters),
            peak_in_flight=self.peak_in_flight,
            cpu_percent=self.cpu_percent,
            lag_ms=self.lag_smoothed_ms,
            cpu_target_percent=cpu_target_percent,
            max_lag_ms=max_lag_ms,
        )
        self.held_back = False
        self.peak_in_flight = self.in_flight
        self.refill()

    def try_acquire(self) -> bool:
        if self.in_flight < self.limit and not self.waiters:
            self.in_flight += 1
            self.accepted += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            return True
        self.held_back = True
        return False

    async def acquire(self, queue_size: int, timeout: float) -> bool:
        """True with a slot held (release it with `release()`), False when the request is shed."""
        if self.try_acquire():
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
        """Hand the slot to the first live waiter, or give it back (when more are in flight than
        the limit, which has fallen)."""
        if self.in_flight <= self.limit:
            while self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(True)  # the slot moves on: in_flight stays the same
                    return
        self.in_flight -= 1

    def refill(self) -> None:
        """Give free slots to waiters (after the limit rose)."""
        while self.waiters and self.in_flight < self.limit:
            waiter = self.waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(True)
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

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
            "limit": self.limit,
            "cpu_percent": round(self.cpu_percent),
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
    cpu_before, before = time.process_time(), loop.time()
    while True:
        admission = _admission
        await asyncio.sleep(LAG_SAMPLE_SECONDS)
        now, cpu_now = loop.time(), time.process_time()
        admission.lag_ms = max(0, round((now - before - LAG_SAMPLE_SECONDS) * 1000))
        admission.lag_max_ms = max(admission.lag_max_ms, admission.lag_ms)
        cpu_percent = 100 * (cpu_now - cpu_before) / (now - before)
        cpu_before, before = cpu_now, now
        admission.adapt(cpu_percent, settings.ADMISSION_CPU_TARGET_PERCENT, settings.ADMISSION_MAX_LOOP_LAG_MS)
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
    admission.bounds(settings.ADMISSION_BUSY_IN_FLIGHT, settings.ADMISSION_MAX_IN_FLIGHT)
    if not await admission.acquire(settings.ADMISSION_QUEUE_SIZE, settings.ADMISSION_QUEUE_TIMEOUT):
        await overloaded(scope, send, started)
        return
    try:
        await app(scope, receive, send)
    finally:
        admission.release()


def _admission_sample() -> dict[str, float]:
    stats = _admission.stats()
    return {name: float(stats[name]) for name in ("accepted", "queued", "shed", "in_flight", "waiting", "limit")}


def _loop_lag_sample() -> dict[str, float]:
    stats = _admission.stats()
    return {"last": stats["loop_lag_ms"] / 1000, "max": stats["loop_lag_max_ms"] / 1000}


# /metrics (Step 3): the admission counters (summed over the workers) and the event-loop lag.
metrics.register_sampler(
    "coronacheck_admission",
    "Issuance requests of this worker: accepted, queued and shed since start; in flight, waiting and the limit now.",
    _admission_sample,
)
metrics.register_sampler(
    "coronacheck_event_loop_lag_seconds", "Event-loop lag: the last sample and the largest.", _loop_lag_sample
)
