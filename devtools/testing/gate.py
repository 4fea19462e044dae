"""A gate in front of the reference signers, so that tests can order events without sleeps and
check concurrency without clocks.

The gate is a small aiohttp server on loopback in the test's own event loop. A request to
`/<system>/<path>` is forwarded to that system's signer once the gate lets it through:

- `hold()` keeps every arriving request waiting until `release()`; `arrived[system]` counts
  arrivals and `arrival` is set at each one, so a test can wait for "the call is in flight";
- `barrier(n)` lets no request through until `n` requests are waiting at the same time: a
  caller that sends its calls one after another never gets past it (the waiting request fails
  after `deadline` seconds, which only bounds a failing test).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from devtools.testing.processes import ManagedProcess, signer_settings


class SignerGate:
    def __init__(self, targets: dict[str, str], *, deadline: float = 10.0) -> None:
        self.targets = targets  # system -> base URL of its signer
        self.deadline = deadline
        self.arrived: Counter[str] = Counter()
        self.waiting = 0
        self.most_waiting = 0
        self.arrival = asyncio.Event()
        self._open = asyncio.Event()
        self._open.set()
        self._barrier = 0
        self._barrier_reached = asyncio.Event()
        self.port = 0

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def barrier(self, count: int) -> None:
        self._barrier = count
        self._barrier_reached.clear()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        system, _, path = request.match_info["tail"].partition("/")
        self.arrived[system] += 1
        self.arrival.set()
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            if self._barrier and self.waiting >= self._barrier:
                self._barrier_reached.set()
            if self._barrier:
                await asyncio.wait_for(self._barrier_reached.wait(), self.deadline)
            await asyncio.wait_for(self._open.wait(), self.deadline)
        except TimeoutError:
            return web.Response(status=599, text="gate deadline\n")
        finally:
            self.waiting -= 1
        body = await request.read()
        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method, f"{self.targets[system]}/{path}", data=body, headers={"Content-Type": request.content_type}
            ) as answer:
                payload = await answer.read()
                return web.Response(status=answer.status, body=payload, content_type=answer.content_type)

    def settings_for(self, signers: ManagedProcess) -> dict[str, str]:
        """`signer_settings` with every signer URL routed through this gate."""
        routed = {}
        for name, url in signer_settings(signers).items():
            system = "eu" if name.startswith("EU_") else "domestic"
            path = url.split(str(signers.ports[system]), 1)[1]
            routed[name] = f"http://127.0.0.1:{self.port}/{system}{path}"
        return routed


@asynccontextmanager
async def signer_gate(signers: ManagedProcess, *, deadline: float = 10.0) -> AsyncIterator[SignerGate]:
    """A running gate in front of `signers` (see the module docstring)."""
    gate = SignerGate({system: signers.url(system) for system in ("eu", "domestic")}, deadline=deadline)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", gate._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gate.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield gate
    finally:
        gate.release()
        await runner.cleanup()
