"""`common.transport` on real loopback connections (plain and TLS): the bytes it sends, keep-alive
and its limits, the answers it understands and each failure it raises."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from common.transport import PooledTransport
from devtools.testprovider import create_test_ca

Answer = Callable[[bytes], Awaitable[bytes | None]]  # request bytes -> answer bytes, None: close


@dataclass
class Server:
    """A loopback server that records what arrives, per connection, and answers with `answer`."""

    answer: Answer
    received: list[bytes] = field(default_factory=list)
    connections: int = 0
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while data := await reader.read(65536):
                self.received.append(data)
                answer = await self.answer(data)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


def ok(body: bytes = b'{"ok":true}', extra: bytes = b"") -> Answer:
    async def answer(_: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (extra, len(body), body)

    return answer


def held_until(release: asyncio.Event) -> Answer:
    """An empty 200, sent only once `release` is set."""

    async def answer(_: bytes) -> bytes:
        await release.wait()
        return b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    return answer


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(answer)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
        servers.append(listening)
        scheme = "https" if tls else "http"
        host = "localhost" if tls else "127.0.0.1"
        server.url = f"{scheme}://{host}:{listening.sockets[0].getsockname()[1]}/sign?x=1"
        return server

    yield start
    for listening in servers:
        listening.close()


def client(max_connections: int = 10, ssl_context: ssl.SSLContext | None = None, **timeouts: float) -> httpx.AsyncClient:
    transport = PooledTransport(ssl_context=ssl_context or ssl.create_default_context(), max_connections=max_connections)
    timeout = httpx.Timeout(**({"connect": 1.0, "read": 5.0, "write": 5.0, "pool": 1.0} | timeouts))
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False)


async def test_sends_the_request_exactly_as_httpx_built_it(serve):
    server = await serve(ok())
    async with client() as http:
        request = http.build_request(
            "POST", server.url, content=b'{"a":1}', headers={"Content-Type": "application/json", "X-Mixed-Case": "v"}
        )
        response = await http.send(request)
        await http.get(server.url)
    host = server.url.split("/")[2].encode()
    expected_head = b"POST /sign?x=1 HTTP/1.1\r\n" + b"".join(b"%s: %s\r\n" % pair for pair in request.headers.raw)
    assert server.received[0] == expected_head + b"\r\n" + b'{"a":1}'
    assert b"Host: " + host + b"\r\n" in server.received[0] and b"X-Mixed-Case: v\r\n" in server.received[0]
    assert server.received[1].startswith(b"GET /sign?x=1 HTTP/1.1\r\nHost: " + host + b"\r\n")
    assert server.received[1].endswith(b"\r\n\r\n") and b"Content-Length" not in server.received[1]
    assert (response.status_code, response.content, response.headers["content-type"]) == (200, b'{"ok":true}', "application/json")
    assert response.extensions["http_version"] == b"HTTP/1.1"


async def test_keeps_the_connection_alive_unless_the_answer_closes_it(serve):
    kept = await serve(ok())
    closing = await serve(ok(extra=b"Connection: close\r\n"))
    async with client() as http:
        for _ in range(3):
            assert (await http.post(kept.url, content=b"x")).status_code == 200
            assert (await http.post(closing.url, content=b"x")).status_code == 200
    assert (kept.connections, closing.connections) == (1, 3)


async def test_idle_connections_expire(serve):
    server = await serve(ok())
    async with client() as http:
        transport = http._transport
        assert isinstance(transport, PooledTransport)
        transport.keepalive_expiry = 0.0
        await http.get(server.url)
        await http.get(server.url)
    assert server.connections == 2


async def test_reads_chunked_gzip_and_interim_answers(serve):
    packed = gzip.compress(b'{"big":"' + b"a" * 5000 + b'"}')
    answers = {
        b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        b"/gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(packed), packed),
        b"/interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nhi",
    }

    async def answer(data: bytes) -> bytes:
        return answers[data.split(b" ")[1]]

    server = await serve(answer)
    base = server.url.split("/sign")[0]
    async with client() as http:
        chunked = await http.get(base + "/chunked")
        unpacked = await http.get(base + "/gzip")
        interim = await http.get(base + "/interim")
    assert chunked.content == b"abcde"
    assert unpacked.json() == {"big": "a" * 5000}
    assert (interim.status_code, interim.content) == (201, b"hi")
    assert server.connections == 1


async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> tuple[asyncio.Server, str]:
    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    return listening, f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/"


async def test_an_answer_without_length_ends_with_the_connection():
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.0 200 OK\r\n\r\npart one, ")
        await writer.drain()
        writer.write(b"part two")
        writer.close()

    listening, url = await raw_server(handle)
    async with client() as http:
        response = await http.get(url)
    listening.close()
    assert (response.status_code, response.content) == (200, b"part one, part two")


async def test_failures_raise_httpx_errors_and_the_connection_is_not_reused(serve):
    async def garbage(_: bytes) -> bytes:
        return b"GARBAGE\r\n\r\n"

    async def silent(_: bytes) -> bytes:
        await asyncio.sleep(30)
        return b""

    async def cut(_: bytes) -> bytes | None:
        return None  # closes without answering

    not_http, hanging, disconnecting = await serve(garbage), await serve(silent), await serve(cut)
    async with client(read=0.2) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(not_http.url)
        with pytest.raises(httpx.ReadTimeout):
            await http.get(hanging.url)
        with pytest.raises(httpx.ReadTimeout):
            await http.get(hanging.url)
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(disconnecting.url)
        transport = http._transport
        assert isinstance(transport, PooledTransport)
        assert transport.open == 0
    assert hanging.connections == 2


async def test_a_truncated_answer_is_a_protocol_error():
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    listening, url = await raw_server(handle)
    async with client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(url)
    listening.close()


async def test_refused_connection_is_a_connect_error_caused_by_the_os():
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    async with client() as http:
        with pytest.raises(httpx.ConnectError) as raised:
            await http.get(f"http://127.0.0.1:{port}/")
        transport = http._transport
        assert isinstance(transport, PooledTransport)
        assert transport.open == 0
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


async def test_the_pool_limit_queues_requests_then_times_out(serve):
    release = asyncio.Event()
    server = await serve(held_until(release))
    async with client(max_connections=1, pool=0.2) as http:
        first = asyncio.create_task(http.get(server.url))
        await asyncio.sleep(0)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(server.url)  # the one connection is busy for longer than the pool timeout
        second = asyncio.create_task(http.get(server.url))
        await asyncio.sleep(0.05)
        release.set()
        assert [r.status_code for r in await asyncio.gather(first, second)] == [200, 200]
    assert server.connections == 1  # the queued request got the first one's connection


async def test_a_cancelled_request_frees_its_connection(serve):
    release = asyncio.Event()
    server = await serve(held_until(release))
    async with client(max_connections=1) as http:
        transport = http._transport
        assert isinstance(transport, PooledTransport)
        task = asyncio.create_task(http.get(server.url))
        while server.connections == 0:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert transport.open == 0
        release.set()
        assert (await http.get(server.url)).status_code == 200
    assert server.connections == 2


def _certificate_authority() -> tuple[ssl.SSLContext, bytes]:
    """A server context for `localhost` signed by a fresh test CA, and that CA's PEM."""
    authority = create_test_ca("test CA")
    server = authority.issue_tls_server("localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as chain:
        key = server.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain.write(server.cert.public_bytes(serialization.Encoding.PEM) + key)
        chain.flush()
        context.load_cert_chain(chain.name)
    return context, authority.cert.public_bytes(serialization.Encoding.PEM)


async def test_tls_verifies_the_server_against_the_configured_authority(serve):
    server_context, ca_pem = _certificate_authority()
    server = await serve(ok(), tls=server_context)
    trusting = ssl.create_default_context(cadata=ca_pem.decode())
    async with client(ssl_context=trusting) as http:
        assert (await http.get(server.url)).content == b'{"ok":true}'
        assert (await http.get(server.url)).status_code == 200
    assert server.connections == 1
    async with client(ssl_context=ssl.create_default_context()) as http:  # the system's authorities only
        with pytest.raises(httpx.ConnectError) as raised:
            await http.get(server.url)
    assert isinstance(raised.value.__cause__, ssl.SSLError)


async def test_bytes_after_the_answer_are_not_mixed_into_it(serve):
    """An answer followed in the same packet by a second, unasked-for one: the first is returned
    whole, and the connection is not reused."""

    async def doubled(_: bytes) -> bytes:
        first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
        return first + b"HTTP/1.1 500 Oops\r\nX-Evil: 1\r\nContent-Length: 6\r\n\r\nsecond"

    server = await serve(doubled)
    async with client() as http:
        first = await http.get(server.url)
        again = await http.get(server.url)
    assert (first.status_code, first.content, "x-evil" in first.headers) == (200, b"first", False)
    assert again.content == b"first"
    assert server.connections == 2
