"""Hostile clients at the socket (coronacheck/server.py): a request head or body dripped byte by
byte ("slowloris"), idle connections, huge bodies with and without Content-Length, against a real
`python -m coronacheck.server` process with short limits (1 s head, 1 s body, 1 s keep-alive).

No timing is asserted: each test checks what the server answered and that it closed the
connection, while the client goes on dripping until it notices (bounded by a byte budget)."""

from __future__ import annotations

import json
import select
import socket

import httpx
import pytest
from django.db import connection

from devtools.testing.service import database_url, start_service

METRICS_TOKEN = "test-server-metrics"
# The client gives up after this many dripped bytes (one every 0.2 s: 40 s, far past the 1 s limit).
DRIP_BUDGET = 200


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    service = start_service(
        {
            "DATABASE_URL": url,
            "REQUEST_HEADER_TIMEOUT_SECONDS": "1",
            "REQUEST_BODY_TIMEOUT_SECONDS": "1",
            "SERVER_KEEP_ALIVE_SECONDS": "1",
            "METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    yield service
    assert service.stop() == 0


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.ports["http"]), timeout=30)


def drip(sock: socket.socket, data: bytes) -> tuple[int, bytes]:
    """Send `data` one byte per 0.2 s until the server answers or closes; returns the number of
    bytes sent and everything the server sent until it closed the connection."""
    sent = 0
    for byte in data[:DRIP_BUDGET]:
        readable, _, _ = select.select([sock], [], [], 0.2)
        if readable:
            break
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += 1
    return sent, read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def status_and_body(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_a_request_head_dripped_byte_by_byte_gets_408_and_is_closed(server):
    head = b"POST /app/print/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 1000
    with connect(server) as sock:
        sent, answer = drip(sock, head)
    assert sent < DRIP_BUDGET  # the server closed long before the client's budget ran out
    status, body = status_and_body(answer)
    assert status == 408
    assert json.loads(body) == {"detail": "Request timed out.", "code": "request_timeout"}


def test_a_connection_that_sends_nothing_is_closed_with_408(server):
    with connect(server) as sock:
        status, _ = status_and_body(read_until_closed(sock))
    assert status == 408


def test_a_body_dripped_byte_by_byte_gets_408_and_is_closed(server):
    body = json.dumps({"events": [], "padding": "x" * 2000}).encode()
    head = b"POST /app/print/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"Authorization: Token whatever\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(head + body[:10])
        sent, answer = drip(sock, body[10:])
    assert sent < DRIP_BUDGET
    status, response_body = status_and_body(answer)
    assert status == 408
    assert json.loads(response_body)["code"] == "request_timeout"


def test_an_idle_kept_alive_connection_is_closed_without_an_answer(server):
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(request)
        answer = read_until_closed(sock)  # the answer, then the close after 1 s idle
    assert answer.count(b"HTTP/1.1 ") == 1 and status_and_body(answer)[0] in (200, 503)


def test_requests_in_time_are_served_normally_on_one_connection(server):
    with httpx.Client(base_url=server.url("http"), timeout=30) as client:
        first = client.post("/documentation/V2Event/", json={})
        second = client.post("/documentation/V2Event/", json={})
    assert first.status_code == second.status_code == 422


def test_a_huge_body_is_413_with_and_without_content_length(server):
    huge = b"[" + b"1," * 600_000 + b"1]"  # 1.2 MB > REQUEST_MAX_BYTES

    def chunks():
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    with httpx.Client(base_url=server.url("http"), timeout=30) as client:
        declared = client.post("/app/credentials/", content=huge, headers={"Content-Type": "application/json"})
        chunked = client.post("/app/credentials/", content=chunks(), headers={"Content-Type": "application/json"})
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body is too large.", "code": "request_too_large"}


def test_a_huge_request_head_is_431_and_closed(server):
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    with connect(server) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed while the client was still sending
        status, body = status_and_body(read_until_closed(sock))
    assert status == 431
    assert json.loads(body) == {"detail": "Request header is too large.", "code": "request_header_too_large"}


def test_huge_trailers_of_a_chunked_body_are_431_and_closed(server):
    """Trailer lines after a chunked body count as a head does (httptools keeps them too)."""
    head = b"POST /app/credentials/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
    with connect(server) as sock:
        try:
            sock.sendall(head)
            for index in range(40):  # 40 trailer lines of 5 KB, 200 KB in all
                sock.sendall(b"X-Trailer-%d: " % index + b"a" * 5000 + b"\r\n")
            sock.sendall(b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed while the client was still sending
        answer = read_until_closed(sock)
    # The 431 is sent; when the client is still sending, the kernel may reset the connection
    # (unread data at close) before the client reads it.
    assert answer == b"" or status_and_body(answer)[0] == 431


def test_a_head_just_under_the_limit_is_served(server):
    with httpx.Client(base_url=server.url("http"), timeout=30) as client:
        response = client.get("/health", headers={"X-Big": "a" * 60_000})
    assert response.status_code in (200, 503)


def test_one_endless_header_line_is_431_and_closed(server):
    """A header line that never ends (httptools buffers it until its end): the raw bytes count."""
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 10_000_000:  # the client's budget; the server closes after 64 KiB
                sock.sendall(b"a" * 16384)
                sent += 16384
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_until_closed(sock)
    assert sent < 10_000_000
    # The 431 is sent; when the client is still sending, the kernel may reset the connection
    # (unread data at close) before the client reads it.
    assert answer == b"" or status_and_body(answer)[0] == 431


def answers(raw: bytes) -> list[tuple[bytes, dict[bytes, bytes], bytes]]:
    """The HTTP/1.1 answers in `raw`, in order: status line, headers (lower-case names) and body."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = dict(line.split(b": ", 1) for line in lines)
        headers = {name.lower(): value for name, value in headers.items()}
        length = int(headers[b"content-length"])
        found.append((status, headers, rest[:length]))
        raw = rest[length:]
    return found


def test_a_probe_answered_at_once_keeps_the_order_and_the_bytes_of_pipelined_answers(server):
    """`/health` starts as soon as its request is complete (`EAGER_PATHS`), other requests as
    tasks: pipelined on one connection, every answer comes in request order, and the probe
    answered at once has the same bytes as one that waited its turn (started as a task)."""

    def get(path: str, request_id: str, extra: bytes = b"") -> bytes:
        return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: {request_id}\r\n".encode() + extra + b"\r\n"

    post = b"POST /documentation/V2Event/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: second\r\n"
    post += b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    pipelined = get("/health", "first") + post + get("/health", "third") + get("/", "fourth", b"Connection: close\r\n")
    with connect(server) as sock:
        sock.sendall(pipelined)
        received = answers(read_until_closed(sock))
    assert [headers[b"x-request-id"] for _, headers, _ in received] == [b"first", b"second", b"third", b"fourth"]
    assert [status for status, _, _ in received] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 422 Unprocessable Entity",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
    ]
    (_, at_once, body_at_once), (_, queued, body_queued) = received[0], received[2]  # the third waited for the second
    assert list(at_once) == list(queued)  # the same headers in the same order
    assert {name: value for name, value in at_once.items() if name not in (b"date", b"x-request-id")} == {
        name: value for name, value in queued.items() if name not in (b"date", b"x-request-id")
    }
    assert json.loads(body_at_once).keys() == json.loads(body_queued).keys() == {"running", "service_status"}
    assert received[3][1][b"connection"] == b"close"


def test_a_probe_that_closes_the_connection_ends_the_pipeline(server):
    """`Connection: close` on a probe answered at once: that answer is the last one, and a request
    pipelined after it is neither answered nor worked on (as uvicorn drops it on its own path)."""
    probe = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: probe\r\nConnection: close\r\n\r\n"
    post = b"POST /documentation/V2Event/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    post += b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    with httpx.Client(base_url=server.url("http"), timeout=30) as client:

        def posts_answered() -> float:
            exposition = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
            prefix = 'coronacheck_http_requests_total{endpoint="/documentation/V2Event/",method="POST",status="422"} '
            return sum(float(line.removeprefix(prefix)) for line in exposition.splitlines() if line.startswith(prefix))

        assert client.post("/documentation/V2Event/", json={}).status_code == 422
        before = posts_answered()
        assert before >= 1
        with connect(server) as sock:
            sock.sendall(probe + post)
            received = answers(read_until_closed(sock))
        assert [(status, headers[b"x-request-id"]) for status, headers, _ in received] == [(b"HTTP/1.1 200 OK", b"probe")]
        assert client.get("/health").status_code == 200
        assert posts_answered() == before


def test_a_probe_with_a_body_is_answered(server):
    """A probe that sends a body is not started before its body is read: answered normally."""
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    with connect(server) as sock:
        sock.sendall(request)
        received = answers(read_until_closed(sock))
    assert [status for status, _, _ in received] == [b"HTTP/1.1 200 OK"]
