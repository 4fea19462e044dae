"""The HTTP/1.1 transport under the outbound `httpx.AsyncClient`s (signers.md §1): a keep-alive
connection pool on asyncio protocols, with httptools parsing the answers.

Why not httpx's own transport or aiohttp: measured per print request (two signer calls, issue
"Performance", benchmarks/PROFILE.md), httpcore cost milliseconds of CPU and aiohttp behind
`httpx-aiohttp` about 0.25 ms per call, most of it in machinery this client does not use
(cookie jars, tracing, redirects, proxies, stream wrappers). This transport writes the request
exactly as httpx built it (the header names, their case and their order; the body bytes) and
hands httpx the status, the raw headers and the body; httpx still decodes content encodings.

What it promises, per client (one per downstream system and event loop):
- at most `max_connections` open connections; a request that finds none free waits at most the
  pool timeout (`httpx.PoolTimeout`), then a connection is opened within the connect timeout
  (`httpx.ConnectTimeout`, or `httpx.ConnectError` caused by the OS or TLS error): in all three
  cases nothing was sent;
- the read timeout bounds each wait for the next bytes of the answer (`httpx.ReadTimeout`);
- a connection that broke, timed out, was cancelled or whose answer did not allow keep-alive is
  closed, never reused; an idle one is reused most-recent first and dropped after
  `keepalive_expiry` seconds;
- a disconnect or an answer that is not HTTP raises `httpx.RemoteProtocolError`.
GET and POST only (HEAD answers have no body, which this parser would wait for).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from typing import Any

import httptools
import httpx

_EXTENSIONS = {"http_version": b"HTTP/1.1"}


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and the one exchange in flight on it."""

    def __init__(self, origin: tuple[bytes, bytes, int]) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.status = 0
        self.last_read = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():  # bytes nobody asked for: not reusable
            self.close()
            return
        self.last_read = asyncio.get_running_loop().time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid HTTP answer ({type(exc).__name__})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            framed = any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self.headers)
            if self.headers_done and not framed:  # an answer delimited by the end of the connection
                self._finish()
            else:
                error = httpx.RemoteProtocolError("server disconnected before the answer was complete")
                error.__cause__ = exc
                self._fail(error)

    # --- httptools callbacks
    def on_message_begin(self) -> None:
        if self.complete:  # a second answer in the same bytes: keep the first, drop the connection
            self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if not self.complete:
            self.headers_done = True

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.complete:
            return
        if 100 <= self.parser.get_status_code() < 200:  # an interim answer: the real one follows
            self.headers, self.body, self.headers_done = [], [], False
            return
        self.complete = True
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()  # only valid inside this callback
        self._finish()

    # --- one exchange
    def _finish(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.close()

    def _check_read_timeout(self, read_timeout: float) -> None:
        loop = asyncio.get_running_loop()
        remaining = self.last_read + read_timeout - loop.time()
        if remaining > 0:
            self.timer = loop.call_later(remaining, self._check_read_timeout, read_timeout)
        else:
            self._fail(httpx.ReadTimeout("no answer within the read timeout"))

    async def exchange(self, request: httpx.Request, read_timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        url = request.url
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), url.raw_path)]
        head += [b"%s: %s\r\n" % pair for pair in request.headers.raw]
        head.append(b"\r\n")
        body = request.content
        if body:
            head.append(body)
        self.transport.write(b"".join(head))
        if read_timeout is not None:
            self.last_read = loop.time()
            self.timer = loop.call_later(read_timeout, self._check_read_timeout, read_timeout)
        try:
            await self.waiter
        finally:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            self.waiter = None
        status = self.status if self.complete else self.parser.get_status_code()
        headers, body_bytes = self.headers, b"".join(self.body)
        if not (self.complete and self.keep_alive):
            self.close()
        self.headers, self.body, self.headers_done, self.complete, self.keep_alive = [], [], False, False, False
        return status, headers, body_bytes

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class PooledTransport(httpx.AsyncBaseTransport):
    """A keep-alive connection pool for one downstream system, on the running event loop."""

    def __init__(self, *, ssl_context: ssl.SSLContext, max_connections: int, keepalive_expiry: float = 30.0) -> None:
        self.ssl_context = ssl_context
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.open = 0
        self.idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self.waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self.connections: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.raw_scheme == b"https" else 80))
        connection = await self._acquire(origin, timeouts.get("pool"), timeouts.get("connect"))
        try:
            status, headers, body = await connection.exchange(request, timeouts.get("read"))
        except BaseException:
            connection.close()  # broken, timed out or cancelled mid-exchange: never reused
            self._release(connection)
            raise
        self._release(connection)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request, extensions=_EXTENSIONS)

    async def _acquire(
        self, origin: tuple[bytes, bytes, int], pool_timeout: float | None, connect_timeout: float | None
    ) -> _Connection:
        idle = self.idle.get(origin)
        if idle:
            now = asyncio.get_running_loop().time()
            while idle:
                connection = idle.pop()
                if not connection.closed and now - connection.idle_since < self.keepalive_expiry:
                    return connection
                self._discard(connection)
        if self.open >= self.max_connections:
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            try:
                async with asyncio.timeout(pool_timeout):
                    handed = await waiter
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled():  # handed over just as the wait ended: pass it on
                    passed = waiter.result()
                    if passed is not None:
                        self._release(passed)
                    else:
                        self._wake_one()
                elif waiter in self.waiters:
                    self.waiters.remove(waiter)
                if isinstance(exc, TimeoutError):
                    raise httpx.PoolTimeout("no free connection in the pool") from None
                raise
            if handed is not None and handed.origin == origin and not handed.closed:
                return handed
            if handed is not None:  # a free connection to another origin: make room instead
                self._discard(handed)
        self.open += 1
        try:
            return await self._connect(origin, connect_timeout)
        except BaseException:
            self.open -= 1
            self._wake_one()
            raise

    async def _connect(self, origin: tuple[bytes, bytes, int], connect_timeout: float | None) -> _Connection:
        scheme, host, port = origin
        host_text = host.decode("ascii")
        tls = self.ssl_context if scheme == b"https" else None
        connection = _Connection(origin)
        try:
            async with asyncio.timeout(connect_timeout):
                await asyncio.get_running_loop().create_connection(
                    lambda: connection, host_text, port, ssl=tls, server_hostname=host_text if tls else None
                )
        except TimeoutError:
            raise httpx.ConnectTimeout("connect timed out") from None
        except OSError as exc:  # refused, unreachable, name not resolved, TLS (ssl.SSLError is an OSError)
            raise httpx.ConnectError(f"cannot connect ({type(exc).__name__})") from exc
        self.connections.add(connection)
        return connection

    def _release(self, connection: _Connection) -> None:
        if connection.closed:
            self._discard(connection)
            return
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = asyncio.get_running_loop().time()
        self.idle.setdefault(connection.origin, []).append(connection)

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        if connection in self.connections:
            self.connections.discard(connection)
            self.open -= 1
            self._wake_one()

    def _wake_one(self) -> None:
        """A connection slot is free: the longest waiter opens a new connection."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        for connection in list(self.connections):
            connection.close()
        self.connections.clear()
        self.idle.clear()
        self.open = 0
