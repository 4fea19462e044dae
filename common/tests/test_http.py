"""The failure classification of `common.http` on the aiohttp transport (signers.md §1): only a
failure where nothing was sent may be retried; timeouts are 504, everything else 503."""

from __future__ import annotations

import aiohttp
import httpx
import pytest

from common.errors import ServiceError
from common.http import NOTHING_SENT, TIMEOUT, UNAVAILABLE, clients_close, downstream_post, failure_kind, map_transport_error
from devtools.testing.asgi_client import AsgiTestClient


def mapped(cause: Exception, as_: type[httpx.HTTPError]) -> httpx.HTTPError:
    """What `httpx_aiohttp` raises: its own (coarse) httpx class, caused by the aiohttp one."""
    try:
        raise as_("failed") from cause
    except httpx.HTTPError as exc:
        return exc


REFUSED = aiohttp.ClientConnectorError(None, ConnectionRefusedError(111, "refused"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "kind", "status"),
    [
        (mapped(REFUSED, httpx.ConnectTimeout), NOTHING_SENT, 503),
        (mapped(aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout), NOTHING_SENT, 504),
        (mapped(aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout), TIMEOUT, 504),
        (mapped(aiohttp.ServerTimeoutError("read"), httpx.ConnectTimeout), TIMEOUT, 504),
        (mapped(aiohttp.ServerDisconnectedError(), httpx.ConnectTimeout), UNAVAILABLE, 503),
        (mapped(aiohttp.ClientOSError(104, "reset"), httpx.ConnectTimeout), UNAVAILABLE, 503),
        (mapped(aiohttp.ClientPayloadError("truncated"), httpx.ReadError), UNAVAILABLE, 503),
        (httpx.ConnectError("refused"), NOTHING_SENT, 503),
        (httpx.ReadTimeout("slow"), TIMEOUT, 504),
        (httpx.RemoteProtocolError("bad"), UNAVAILABLE, 503),
    ],
)
def test_failures_are_classified_by_the_aiohttp_cause(exc, kind, status):
    assert failure_kind(exc) == kind
    assert map_transport_error(exc).status == status


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
