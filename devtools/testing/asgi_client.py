"""A test client with the interface of Django's `AsyncClient` that sends each request through the
production ASGI application (`coronacheck.asgi.application`): the lean API handler, its
middleware chain and the full Django handler for everything else, exactly as uvicorn would call
them. Django's own test client builds requests itself and bypasses that handler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from django.core.serializers.json import DjangoJSONEncoder


class AsgiResponse:
    """The parts of Django's test response that the tests read."""

    def __init__(self, response: httpx.Response) -> None:
        self.raw = response
        self.status_code = response.status_code
        self.content = response.content
        self.headers = response.headers

    def json(self) -> Any:
        return self.raw.json()

    def __getitem__(self, name: str) -> str:
        return self.raw.headers[name]

    def has_header(self, name: str) -> bool:
        return name in self.raw.headers

    def __repr__(self) -> str:
        return f"<AsgiResponse status_code={self.status_code}>"


def _headers(headers: Mapping[str, str] | None, extra: Mapping[str, Any]) -> dict[str, str]:
    result = dict(headers or {})
    for key, value in extra.items():  # Django's client also takes `HTTP_X_NAME=value`
        if key == "secure":
            continue
        if key.startswith("HTTP_"):
            result[key[5:].replace("_", "-").title()] = str(value)
        else:
            raise TypeError(f"unsupported test client argument {key}")
    return result


class AsgiTestClient:
    def __init__(self, *, client_address: str = "127.0.0.1") -> None:
        from coronacheck.asgi import application  # the ASGI module sets Django up when imported

        transport = httpx.ASGITransport(app=application, client=(client_address, 50000))
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def post(
        self,
        path: str,
        data: Any = None,
        content_type: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> AsgiResponse:
        all_headers = _headers(headers, extra)
        if data is None:
            body = b""
        elif isinstance(data, bytes):
            body = data
        elif isinstance(data, str):
            body = data.encode()
        elif content_type == "application/json":
            body = json.dumps(data, cls=DjangoJSONEncoder).encode()
        else:
            raise TypeError("give a JSON content type, or bytes or text")
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        return AsgiResponse(await self._client.post(self._url(path, extra), content=body, headers=all_headers))

    async def get(
        self, path: str, data: Mapping[str, str] | None = None, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> AsgiResponse:
        return AsgiResponse(await self._client.get(self._url(path, extra), params=data, headers=_headers(headers, extra)))

    @staticmethod
    def _url(path: str, extra: Mapping[str, Any]) -> str:
        """`secure=True`, as in Django's client, sends the request over https."""
        return f"{'https' if extra.get('secure') else 'http'}://testserver{path}"

    async def aclose(self) -> None:
        await self._client.aclose()


def http_scope(method: str, path: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> dict[str, Any]:
    """The ASGI scope of an HTTP/1.1 request from a loopback client, without a query string."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


async def asgi_request(
    app: Any, method: str, path: str, body: bytes = b"", headers: Iterable[tuple[bytes, bytes]] = ()
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One HTTP request straight into an ASGI application, with no client library in between
    (for comparing handlers byte for byte, and for CPU benchmarks): the client stays connected
    until the whole answer is sent. Returns the status, the raw headers and the body."""
    scope = http_scope(method, path, headers)
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                answered.set()

    await app(scope, receive, send)
    return start["status"], list(start.get("headers", [])), b"".join(chunks)
