"""Outbound HTTP for every downstream system: pooled async clients and one error mapping
(signers.md §1, decisions c, f, p, v).

One long-lived `httpx.AsyncClient` per downstream system *per event loop* (tests run a loop per
test); `clients_close()` is called by the ASGI lifespan at shutdown. The clients keep the httpx
API on this project's keep-alive transport (`common.transport`): httpx's own transport cost
milliseconds of CPU per call under concurrency, and aiohttp behind `httpx-aiohttp` a quarter of
a millisecond (issue "Performance", benchmarks/PROFILE.md). Every failure becomes one of the
three `ServiceError`s of api.md §9; nothing of the downstream response is echoed or logged
beyond its status.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import socket
import ssl
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from django.conf import settings

from common import errors, metrics
from common.jsonutil import dumps_bytes
from common.transport import PooledTransport

logger = logging.getLogger(__name__)

SYSTEMS = ("domestic", "eu", "inge6", "rvig")
E = TypeVar("E", bound=Exception)


# Per-request timings of downstream calls, in milliseconds (for the submission record).
@dataclass
class DownstreamRecord:
    """What the downstream calls of one request did, for its submission record."""

    timings_ms: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # system -> code of its first failure


downstream_record: contextvars.ContextVar[DownstreamRecord | None] = contextvars.ContextVar("downstream_record", default=None)

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = weakref.WeakKeyDictionary()
_transports: weakref.WeakKeyDictionary[httpx.AsyncClient, PooledTransport] = weakref.WeakKeyDictionary()
_ssl_contexts: dict[str, ssl.SSLContext] = {}


def ssl_context_for(system: str) -> ssl.SSLContext:
    """Verification is always on; built once per process (loading a bundle is expensive)."""
    if system not in _ssl_contexts:
        if system == "rvig":
            context = ssl.create_default_context(cafile=settings.RVIG_CA_CERT_FILE or None)
            if settings.RVIG_CERT_FILENAME:
                context.load_cert_chain(settings.RVIG_CERT_FILENAME)
        else:
            context = ssl.create_default_context(cafile=settings.SIGNER_CA_CERT_FILE or None)
        _ssl_contexts[system] = context
    return _ssl_contexts[system]


def _timeout(read: float | None = None) -> httpx.Timeout:
    read = settings.HTTP_READ_TIMEOUT if read is None else read
    return _timeout_of(settings.HTTP_CONNECT_TIMEOUT, read, settings.HTTP_POOL_TIMEOUT)


@functools.lru_cache(maxsize=64)
def _timeout_of(connect: float, read: float, pool: float) -> httpx.Timeout:
    return httpx.Timeout(connect=connect, read=read, write=read, pool=pool)


def _new_client(system: str) -> httpx.AsyncClient:
    transport = PooledTransport(ssl_context=ssl_context_for(system), max_connections=settings.HTTP_MAX_CONNECTIONS)
    client = httpx.AsyncClient(transport=transport, timeout=_timeout(), trust_env=False, follow_redirects=False)
    _transports[client] = transport
    return client


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    """`httpx.URL(url)`, parsed once: the downstream URLs are a handful of settings."""
    return httpx.URL(url)


async def _send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """`client.send(request)` for a request without authentication: straight to the transport,
    then the body and the cookies as `send` does, without its auth and redirect machinery (the
    client has no auth and follows no redirects) — a third of the httpx layer's CPU per call
    (benchmarks/PROFILE.md). The request and the response are the same httpx objects. The body
    is read with `read()`: the transport's stream is in memory, and the async iteration of
    `aread()` cost ~4 µs more per call."""
    response = await _transports[client].handle_async_request(request)
    try:
        response.read()
    finally:
        response.close()
    if any(name.lower() == b"set-cookie" for name, _ in response.headers.raw):  # httpx's `in` decodes all
        client.cookies.extract_cookies(response)
    return response


_request_heads: weakref.WeakKeyDictionary[
    httpx.AsyncClient, dict[tuple[str, tuple[tuple[str, str], ...]], httpx.Headers | None]
] = weakref.WeakKeyDictionary()

# Headers with which httpx frames a request otherwise (`Request._prepare`).
_SELF_FRAMED = frozenset({"host", "content-length", "transfer-encoding"})


def _request_head(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> httpx.Headers | None:
    """The headers `build_request` gives a POST with a body, but its `Content-Length` (which it
    adds last): `Host` first, then the client's headers merged with `headers`. None when
    `headers` name one of `_SELF_FRAMED`."""
    if _SELF_FRAMED.intersection(name.lower() for name in headers):
        return None
    merged = httpx.Headers(client.headers)
    merged.update(headers)  # what the client's merge does
    return httpx.Headers([(b"Host", _url(url).netloc), *merged.raw])


def _request(
    client: httpx.AsyncClient, url: str, body: bytes | None, headers: dict[str, str], timeout: httpx.Timeout
) -> httpx.Request:
    """`client.build_request("POST", url, content=body, headers=headers, timeout=timeout)`, with the
    headers but `Content-Length` remembered per client, URL and header set: httpx merges the
    client's headers anew on every call, decoding every header name for each one it adds, and
    looks for `Host` and `Content-Length` the same way (~13 µs per call, benchmarks/PROFILE.md).
    The same `Request`: the same header list and bytes (`common/tests/test_http.py` compares them).
    Without a `bytes` body, with cookies in the client's jar (no downstream sets any) or with
    headers that frame the request themselves, it is `build_request` itself."""
    if client.cookies or not body or type(body) is not bytes:
        return client.build_request("POST", _url(url), content=body, headers=headers, timeout=timeout)
    per_client = _request_heads.setdefault(client, {})
    key = (url, tuple(headers.items()))
    if key in per_client:
        head = per_client[key]
    else:
        head = _request_head(client, url, headers)
        if len(per_client) > 100:
            per_client.clear()
        per_client[key] = head
    if head is None:
        return client.build_request("POST", _url(url), content=body, headers=headers, timeout=timeout)
    request_headers = httpx.Headers(head)
    request_headers["Content-Length"] = str(len(body))
    request = httpx.Request(
        "POST", _url(url), headers=request_headers, stream=httpx.ByteStream(body), extensions={"timeout": timeout.as_dict()}
    )
    request.read()  # as `Request(content=…)` does: `request.content` is the body
    return request


def client_for(system: str) -> httpx.AsyncClient:
    """The pooled client of `system` on the running event loop."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(system)
    if client is None or client.is_closed:
        client = per_loop[system] = _new_client(system)
    return client


async def clients_close() -> None:
    """Close the clients of the running loop (ASGI lifespan shutdown, test teardown)."""
    loop = asyncio.get_running_loop()
    for client in _clients.pop(loop, {}).values():
        await client.aclose()


NOTHING_SENT, TIMEOUT, UNAVAILABLE = "nothing sent", "timeout", "unavailable"


def failure_kind(exc: Exception) -> str:
    """Classify a transport failure (`common.transport` raises httpx's exceptions):

    - nothing sent: no connection could be made (refused, DNS, TLS handshake, connect or pool
      timeout), so a retry is safe; it maps to 503, or 504 when it was a timeout;
    - timeout: the request may have been sent (read timeout): 504, no retry;
    - unavailable: the server disconnected or sent a broken response: 503, no retry.
    """
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return NOTHING_SENT
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return TIMEOUT
    return UNAVAILABLE


def transport_failure_reason(exc: BaseException) -> str:
    """A short operator-facing reason for a transport failure: refused, name not resolved, TLS
    failed, connect timed out, no free connection, no answer in time, or disconnected."""
    cause = exc.__cause__
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.PoolTimeout):
        return "no free connection in the pool"
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return "timed out waiting for the answer"
    if isinstance(exc, httpx.ConnectError) and isinstance(cause, OSError):
        if isinstance(cause, socket.gaierror):
            return "host name not resolved"
        if isinstance(cause, (ssl.SSLError, ssl.CertificateError)):
            return "TLS handshake failed"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        return f"cannot connect ({cause.strerror or type(cause).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "disconnected, or the answer was not HTTP"
    return f"connection failed ({type(exc).__name__})"


def _is_nothing_sent(exc: Exception) -> bool:
    """Connection refused or connect timeout: the request never left, so a retry is safe."""
    return failure_kind(exc) == NOTHING_SENT


def map_transport_error(exc: Exception) -> errors.ServiceError:
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return errors.downstream_timeout()
    return errors.downstream_unavailable()


def map_status(status: int) -> errors.ServiceError:
    if status in (429, 502, 503, 504):
        return errors.downstream_unavailable()
    return errors.downstream_bad_response()


def _record_timing(system: str, started: float) -> float:
    elapsed = (time.perf_counter() - started) * 1000
    record = downstream_record.get()
    if record is not None:
        record.timings_ms[system] = round(record.timings_ms.get(system, 0.0) + elapsed, 3)
    return elapsed


def _failed(system: str, error: E) -> E:
    """Note which downstream failed, and how, in the request's record; returns `error`."""
    record = downstream_record.get()
    if record is not None:
        record.errors.setdefault(system, getattr(error, "code", type(error).__name__))
    return error


async def downstream_post(
    system: str,
    url: str,
    *,
    json: Any | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    read_timeout: float | None = None,
    auth: tuple[str, str] | None = None,
    status_errors: dict[int, Exception] | None = None,
) -> httpx.Response:
    """POST to a downstream system and return its 2xx response, or raise the mapped error.

    JSON bodies are sent with `Content-Type: application/json` exactly (the domestic signer
    refuses anything else). Retries once, without delay, only when nothing was sent.
    """
    client = client_for(system)
    request_headers = dict(headers or {})
    body = content
    if json is not None:
        body = dumps_bytes(json)
        request_headers["Content-Type"] = "application/json"
        request_headers.setdefault("Accept", "application/json")
    timeout = _timeout(read_timeout) if read_timeout is not None else client.timeout
    attempts = 1 + max(settings.HTTP_EXPONENTIAL_RETRIES, 0)
    started = time.perf_counter()
    for attempt in range(attempts):
        try:
            request = _request(client, url, body, request_headers, timeout)
            if auth:
                response = await client.send(request, auth=httpx.BasicAuth(*auth))
            else:
                response = await _send(client, request)
            break
        except (TimeoutError, httpx.HTTPError) as exc:
            if attempt + 1 < attempts and _is_nothing_sent(exc):
                continue
            elapsed = _record_timing(system, started)
            metrics.downstream_observed(system, failure_kind(exc).replace(" ", "_"), elapsed / 1000)
            reason = transport_failure_reason(exc)
            logger.warning(
                "downstream call failed",
                extra={
                    "downstream": system,
                    "exception": type(exc).__name__,
                    "reason": reason,
                    "duration_ms": round(elapsed, 1),
                },
            )
            error = map_transport_error(exc)
            error.reason = reason  # for operators (check_signers); never part of a response body
            raise _failed(system, error) from None
    elapsed = _record_timing(system, started)
    ok = 200 <= response.status_code < 300
    metrics.downstream_observed(system, "ok" if ok else "http_error", elapsed / 1000)
    if not ok:
        logger.warning(
            "downstream answered an error",
            extra={"downstream": system, "status": response.status_code, "duration_ms": round(elapsed, 1)},
        )
        if status_errors and response.status_code in status_errors:
            raise _failed(system, status_errors[response.status_code])
        raise _failed(system, map_status(response.status_code))
    return response


async def downstream_reachable(system: str, url: str, *, timeout: float) -> bool:
    """A harmless connectivity check for `/health` and `check_signers`: any HTTP answer counts."""
    try:
        await asyncio.wait_for(client_for(system).get(url, timeout=timeout), timeout)
    except Exception as exc:  # any failure means "not reachable"; /health must always answer 200
        logger.info(
            "downstream not reachable",
            extra={"downstream": system, "exception": type(exc).__name__, "reason": transport_failure_reason(exc)},
        )
        return False
    return True


def invalid_response(system: str, reason: str) -> errors.ServiceError:
    """A 2xx answer that failed validation (decision n): logged without the body, mapped to 502."""
    logger.warning("downstream response failed validation", extra={"downstream": system, "reason": reason})
    metrics.labelled(metrics.DOWNSTREAM_INVALID, system).inc()
    return _failed(system, errors.downstream_bad_response())
