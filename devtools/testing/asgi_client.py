"""A test client with the interface of Django's `AsyncClient` that sends each request through the
production ASGI application (`coronacheck.asgi.application`): the lean API handler, its
middleware chain and the full Django handler for everything else, exactly as uvicorn would call
them. Django's own test client builds requests itself and bypasses that handler."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
