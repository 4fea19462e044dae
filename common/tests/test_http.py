"""The failure classification of `common.http` (signers.md §1): only a failure where nothing
was sent may be retried; timeouts are 504, everything else 503. (How `common.transport` raises
each of these on real connections: common/tests/test_transport.py.)"""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from common.errors import ServiceError
from common.http import (
    NOTHING_SENT,
    TIMEOUT,
    UNAVAILABLE,
    _request,
    clients_close,
    downstream_post,
    failure_kind,
    map_transport_error,
    transport_failure_reason,
)
from devtools.testing.asgi_client import AsgiTestClient


def caused(error: httpx.HTTPError, cause: Exception) -> httpx.HTTPError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("exc", "kind", "status", "reason"),
    [
        (caused(httpx.ConnectError("x"), ConnectionRefusedError(111, "refused")), NOTHING_SENT, 503, "connection refused"),
        (caused(httpx.ConnectError("x"), socket.gaierror(-2, "unknown")), NOTHING_SENT, 503, "host name not resolved"),
        (caused(httpx.ConnectError("x"), ssl.SSLCertVerificationError("bad")), NOTHING_SENT, 503, "TLS handshake failed"),
        (
            caused(httpx.ConnectError("x"), OSError(113, "No route to host")),
            NOTHING_SENT,
            503,
            "cannot connect (No route to host)",
        ),
        (httpx.ConnectTimeout("connect"), NOTHING_SENT, 504, "connect timed out"),
        (httpx.PoolTimeout("pool"), NOTHING_SENT, 504, "no free connection in the pool"),
        (httpx.ReadTimeout("slow"), TIMEOUT, 504, "timed out waiting for the answer"),
        (TimeoutError(), TIMEOUT, 504, "timed out waiting for the answer"),
        (httpx.RemoteProtocolError("bad"), UNAVAILABLE, 503, "disconnected, or the answer was not HTTP"),
    ],
)
def test_failures_are_classified(exc, kind, status, reason):
    assert failure_kind(exc) == kind
    assert map_transport_error(exc).status == status
    assert transport_failure_reason(exc) == reason


@pytest.fixture
async def not_http_server():
    """A downstream that answers with something that is not HTTP."""
    import asyncio

    async def answer(reader, writer):
        await reader.read(1024)
        writer.write(b"GARBAGE\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    server.close()
    await server.wait_closed()


async def test_an_answer_that_is_not_http_is_503(not_http_server):

    try:
        with pytest.raises(ServiceError) as raised:
            await downstream_post("eu", not_http_server, json={"x": 1})
        assert (raised.value.status, raised.value.code) == (503, "downstream_unavailable")
    finally:
        await clients_close()


@pytest.mark.django_db(transaction=True)
async def test_health_stays_200_when_rvig_answers_garbage(not_http_server, settings):
    settings.RVIG_URL = not_http_server + "gba-v/online/lo3services/adhoc"
    try:
        response = await AsgiTestClient().get("/health")
    finally:
        await clients_close()
    assert response.status_code == 200
    assert {"service": "rvig", "is_healthy": False, "message": "Could not perform test call."} in response.json()[
        "service_status"
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json", "Accept": "application/json"},
        {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "x"},
        {},
        {"Host": "other.example", "Content-Type": "application/json"},
        {"content-length": "7"},
    ],
)
@pytest.mark.parametrize("body", [b'{"a":1}', b"", None])
@pytest.mark.parametrize("with_cookie", [False, True])
def test_a_request_is_the_one_build_request_makes(headers, body, with_cookie):
    client = httpx.AsyncClient(trust_env=False, timeout=httpx.Timeout(2.0))
    if with_cookie:
        client.cookies.set("session", "abc", domain="signer.example")
    timeout = httpx.Timeout(connect=1.0, read=5.0, write=5.0, pool=1.0)
    for url in ["https://signer.example/issue?x=1", "https://signer.example:8443/other", "https://signer.example/issue?x=1"]:
        ours = _request(client, url, body, dict(headers), timeout)  # the third: remembered
        theirs = client.build_request("POST", url, content=body, headers=headers, timeout=timeout)
        assert (ours.method, ours.url, ours.headers.raw, ours.content, ours.extensions) == (
            theirs.method,
            theirs.url,
            theirs.headers.raw,
            theirs.content,
            theirs.extensions,
        )
        assert list(ours.stream) == list(theirs.stream)
    assert (b"Cookie" in dict(ours.headers.raw)) is with_cookie
