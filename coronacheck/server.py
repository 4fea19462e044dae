"""Running the service: uvicorn with time limits on reading a request and a bounded graceful
shutdown (issue "Reliability across processes").

uvicorn (0.54) has `--timeout-keep-alive` (an idle connection between requests is closed) and
`--timeout-graceful-shutdown`, but no limit on the time a client takes to send the request head
or the body: a client that opens connections and drips a header byte or a body byte every few
seconds ("slowloris") holds a connection, and a task waiting for the body, for as long as it
likes. `GuardedHttpToolsProtocol` adds both limits to uvicorn's httptools protocol:

- the request head (request line and headers) must be complete `REQUEST_HEADER_TIMEOUT_SECONDS`
  after the connection opened, or after the first byte of a following request on a kept-alive
  connection; otherwise the connection is closed (with a 408 if nothing was answered on it yet);
- the body must be complete `REQUEST_BODY_TIMEOUT_SECONDS` after the head; otherwise the client
  gets 408 `{"detail": "Request timed out.", "code": "request_timeout"}` and the connection is
  closed. The application sees a disconnect and stops working on the request;
- the request head may not exceed `REQUEST_HEADER_MAX_BYTES` (httptools keeps every header in
  memory and has no limit of its own): 431 `request_header_too_large` and the connection closed.

`python -m coronacheck.server` starts uvicorn with this protocol, uvloop, no access log and
`--timeout-graceful-shutdown` from `GRACEFUL_SHUTDOWN_SECONDS`: on SIGTERM a worker stops
accepting, lets requests in flight finish within that bound, runs the ASGI lifespan shutdown
(closes the outbound pools, `coronacheck.asgi`) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import signal
import sys
from typing import Any

import uvicorn
from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from common.eager import eager_task

TIMEOUT_BODY = b'{"detail":"Request timed out.","code":"request_timeout"}'
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + TIMEOUT_BODY
)
HEAD_TOO_LARGE_BODY = b'{"detail":"Request header is too large.","code":"request_header_too_large"}'
HEAD_TOO_LARGE_RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(HEAD_TOO_LARGE_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + HEAD_TOO_LARGE_BODY
)


# Health probes (api.md §7): answered from checks refreshed in the background, so they start at
# once (`GuardedHttpToolsProtocol._start_asgi_task`).
EAGER_PATHS = frozenset({"/health", "/"})


class _HeadTooLarge(Exception):
    pass


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines for the request head and body (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout: float = settings.REQUEST_HEADER_TIMEOUT_SECONDS
        self.body_timeout: float = settings.REQUEST_BODY_TIMEOUT_SECONDS
        self.head_max_bytes: int = settings.REQUEST_HEADER_MAX_BYTES
        self.read_deadline: asyncio.TimerHandle | None = None  # the timer, at or before `deadline_at`
        self.deadline_at: float | None = None  # when the head or body must be complete (`loop.time()`)
        self.armed_at = 0.0  # when the timer fires (uvloop's handle of a due call has no `when()`)
        self.answered = False  # a response was completed on this connection
        self.in_head = False  # a request has begun and its head is not complete yet
        self.raw_head_bytes = 0
        self.headers_counted = 0  # the current request's header lines counted (`on_headers_complete`)
        self.trailer_bytes = 0  # the size of the trailers of a chunked body counted so far
        self.eager_pending: tuple[RequestResponseCycle, Any] | None = None

    def _deadline_set(self, seconds: float | None) -> None:
        """The read deadline `seconds` from now (None or ≤ 0: none). One timer per connection
        serves every deadline: it is re-armed only when a deadline falls before it, and when it
        fires early for a later deadline (`_deadline_check`); a `call_later` and a `cancel` for
        each of a request's two deadlines cost ~1.6 µs each (benchmarks/PROFILE.md)."""
        if seconds is None or seconds <= 0:
            self.deadline_at = None
            return
        self.deadline_at = at = self.loop.time() + seconds
        if self.read_deadline is None or self.armed_at > at:
            if self.read_deadline is not None:
                self.read_deadline.cancel()
            self._deadline_arm(at)

    def _deadline_arm(self, at: float) -> None:
        self.read_deadline, self.armed_at = self.loop.call_at(at, self._deadline_check), at

    def _deadline_cancel(self) -> None:
        self.deadline_at = None
        if self.read_deadline is not None:
            self.read_deadline.cancel()
            self.read_deadline = None

    def _deadline_check(self) -> None:
        self.read_deadline = None
        if self.deadline_at is None:
            return
        if self.deadline_at - self.loop.time() > 0.001:  # a later deadline than the one armed for
            self._deadline_arm(self.deadline_at)
            return
        self._read_timed_out()  # (within the loop clock's millisecond: reached)

    def _read_timed_out(self) -> None:
        self.deadline_at = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        reading_body = cycle is not None and not cycle.response_complete and cycle.more_body
        if (reading_body and not cycle.response_started) or (cycle is None and not self.answered):
            self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()  # connection_lost: the application sees `http.disconnect`

    def data_received(self, data: bytes) -> None:
        try:
            super().data_received(data)
        except _HeadTooLarge:  # pragma: no cover - httptools wraps it (below)
            self._head_too_large()
            return
        # httptools buffers a header line until it is complete: also count the raw bytes of a
        # head that is still incomplete after this chunk.
        if self.in_head:
            self.raw_head_bytes += len(data)
            if self.raw_head_bytes > self.head_max_bytes:
                self._head_too_large()
        elif len(self.headers) > self.headers_counted:  # the trailers of a chunked body, as the head
            self.trailer_bytes += _lines_size(self.headers[self.headers_counted :])
            self.headers_counted = len(self.headers)
            if self.trailer_bytes > self.head_max_bytes:
                self._head_too_large()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers parser errors with 400; a callback that raised `_HeadTooLarge` shows
        # up as such an error (httptools wraps it), with the original as its context.
        error = sys.exc_info()[1]
        if error is not None and isinstance(error.__context__, _HeadTooLarge):
            self._head_too_large()
            return
        super().send_400_response(msg)

    def _head_too_large(self) -> None:
        self._deadline_cancel()
        if not self.transport.is_closing():
            self.transport.write(HEAD_TOO_LARGE_RESPONSE)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline_set(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline_cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        # A request has begun: the keep-alive timer of an answer written while the previous
        # request's bytes were parsed (an eager probe, see `_start_asgi_task`) no longer applies.
        self._unset_keepalive_if_required()
        self.in_head, self.raw_head_bytes = True, 0
        super().on_message_begin()
        self.headers_counted, self.trailer_bytes = 0, 0
        if self.deadline_at is None:
            self._deadline_set(self.header_timeout)

    def on_headers_complete(self) -> None:
        # The head's size, counted once it is parsed (the request line's URL and the header lines)
        # rather than in a callback per header: a head that is not complete
        # at the end of the bytes read so far is counted raw instead (`data_received`).
        self.in_head = False
        if len(self.url) + _lines_size(self.headers) > self.head_max_bytes:
            raise _HeadTooLarge
        self.headers_counted, self.trailer_bytes = len(self.headers), 0  # uvicorn adds trailers to them
        super().on_headers_complete()
        self._deadline_set(self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._deadline_set(None)
        if self.eager_pending is not None:
            cycle, app = self.eager_pending
            self.eager_pending = None
            context = contextvars.Context() if self.config.reset_contextvars else contextvars.copy_context()
            task = eager_task(self.loop, cycle.run_asgi(app), context)
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        # A probe (`EAGER_PATHS`) starts once its request is complete, at once (`common.eager`):
        # answered from cached checks, it is written in this callback instead of after the
        # issuance work the loop has queued.
        if self.transport.is_closing():
            return  # an eager answer closed the connection: what was pipelined after it is dropped (as uvicorn does)
        scope = cycle.scope
        if cycle.more_body and scope["path"] in EAGER_PATHS and scope["method"] in ("GET", "HEAD") and _bodiless(scope):
            self.eager_pending = (cycle, app)
            return
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        self.answered = True
        super().on_response_complete()


def _lines_size(headers: list[tuple[bytes, bytes]]) -> int:
    """The bytes of these header lines as sent: name, ": ", value and CRLF each."""
    return sum(len(name) + len(value) + 4 for name, value in headers)


def _bodiless(scope: Any) -> bool:
    """A request without a body (and without `Expect: 100-continue`, which only the application's
    first read answers): its message is complete with its head."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or name == b"expect" or (name == b"content-length" and value.strip() != b"0"):
            return False
    return True


def _ignore(signum: int, frame: Any) -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down gracefully; with this
    handler in place that re-raise is a no-op and the process exits 0."""


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coronacheck.settings")
    parser = argparse.ArgumentParser(description="Run the service under uvicorn with request read time limits.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--proxy-headers", action="store_true")
    parser.add_argument("--forwarded-allow-ips", default=None)
    args = parser.parse_args(argv)

    for handled in (signal.SIGTERM, signal.SIGINT):
        signal.signal(handled, _ignore)
    uvicorn.run(
        "coronacheck.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=GuardedHttpToolsProtocol,
        loop="uvloop",
        access_log=False,
        log_level=args.log_level,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        timeout_keep_alive=settings.SERVER_KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=settings.GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
