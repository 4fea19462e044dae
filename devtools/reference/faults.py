"""Artificial delay and fault injection for the reference signers (benchmarks, client fault tests).

Applied to the signing routes only, so that `/health`, `/public_keys` and `/stats` keep working.
Modes: `none`, `500`, `503`, `garbage` (200 with a body that is not JSON), `wrong-shape` (200 with
JSON of the wrong shape), `close` (the connection is closed in the middle of the body), `hang`
(no answer until the client gives up). With `control=True` the knobs can be changed at run time
with `POST /_reference/behaviour {"fault": MODE, "delay_ms": N}` (test processes only);
`GET /_reference/behaviour` also reports `calls`, the number of requests to the signing routes so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web

FAULT_MODES = ("none", "500", "503", "garbage", "wrong-shape", "close", "hang")
CONTROL_PATH = "/_reference/behaviour"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SignerBehaviour:
    """The mutable knobs of one signer app."""

    delay_ms: int = 0
    fault: str = "none"
    calls: int = 0

    def __post_init__(self) -> None:
        if self.fault not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {self.fault!r}; choose from {', '.join(FAULT_MODES)}")
        if self.delay_ms < 0:
            raise ValueError("delay must not be negative")


def behaviour_middleware(behaviour: SignerBehaviour, signing_paths: Iterable[str]) -> Callable:
    """Sleep `delay_ms`, then answer with the configured fault instead of the real handler."""
    paths = frozenset(signing_paths)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in paths:
            return await handler(request)
        behaviour.calls += 1
        if behaviour.delay_ms:
            await asyncio.sleep(behaviour.delay_ms / 1000)
        if behaviour.fault == "none":
            return await handler(request)
        return await injected_fault(request, behaviour.fault)

    return middleware


async def injected_fault(request: web.Request, mode: str) -> web.StreamResponse:
    if mode in ("500", "503"):
        return web.Response(status=int(mode), text="injected fault\n", content_type="text/plain")
    if mode == "garbage":
        return web.Response(status=200, body=b"\x00<html>not json", content_type="application/json")
    if mode == "wrong-shape":
        return web.json_response({"unexpected": True})
    if mode == "close":
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = 4096
        await response.prepare(request)
        await response.write(b'{"credential": "HC1:')
        if request.transport is not None:
            request.transport.abort()
        return response
    await asyncio.sleep(3600)  # "hang": the client's read timeout ends it
    raise web.HTTPServiceUnavailable()


def add_behaviour_control(app: web.Application, behaviour: SignerBehaviour) -> None:
    """`POST /_reference/behaviour` changes fault and delay at run time (tests only)."""

    async def change_behaviour(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            fault = body.get("fault", behaviour.fault)
            delay_ms = int(body.get("delay_ms", behaviour.delay_ms))
            SignerBehaviour(delay_ms=delay_ms, fault=fault)
        except (ValueError, TypeError, AttributeError) as error:
            return web.Response(status=400, text=f"{error}\n", content_type="text/plain")
        behaviour.fault, behaviour.delay_ms = fault, delay_ms
        return web.json_response({"fault": behaviour.fault, "delay_ms": behaviour.delay_ms})

    async def report_behaviour(request: web.Request) -> web.Response:
        return web.json_response({"fault": behaviour.fault, "delay_ms": behaviour.delay_ms, "calls": behaviour.calls})

    app.router.add_post(CONTROL_PATH, change_behaviour)
    app.router.add_get(CONTROL_PATH, report_behaviour)
