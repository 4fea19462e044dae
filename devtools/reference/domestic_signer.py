"""The reference domestic signer: real Idemix issuance over HTTP (signers.md §2.1–§2.7).

Routes: `POST /prepare_issue`, `POST /issue`, `POST /issue_static`, `/stats` (any method). The
HTTP layer is here: POST only (405), `Content-Type` exactly `application/json` (400), text/plain
error bodies (the Go error text and a newline, `X-Content-Type-Options: nosniff`), JSON answers.
Everything at the JSON level is `idemix.signer.Signer` (the issuer, the holder side of
`/issue_static`, gabi's error texts); credentials made here verify with the project's holder and
verifier and are meant to interoperate with the genuine gabi ones.

Keys: one gabi XML pair under one key id (default `TST-KEY-01`). It is registered by identifier
and for the usages `dynamic` and `static`, like a single-key deployment: requests in the June 2021
shape (no `keyIdentifier`, no `keyUsage`, as this service sends by default) use that key, also on
`/issue_static`, where the May 2022 signer would refuse them (§2.6). `credentialVersion` is
required as in the 2022 signer.

Never blocking: `/issue` and `/issue_static` (tens to hundreds of milliseconds of arithmetic) run
in a process pool, so the event loop keeps answering (`/stats`, `/prepare_issue`, other requests)
while it issues; threads would not do, because gmpy2 keeps the GIL (measured: an event loop next to
a thread issuing 28 credentials lagged up to 50 ms). `/prepare_issue` (microseconds) and `/stats`
run on the event loop. The `e` primes come from a `ProcessPrimePool` refilled by its own background
process and shared with the pool's workers. The fault injection of `faults.py` applies to the
three signing routes. With fault control on, `/_reference/hold` can also hold the workers at the
start of their next calls (tests: proof that the event loop answers while a worker is busy).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from aiohttp import web

from devtools.reference.faults import (
    SignerBehaviour,
    add_behaviour_control,
    behaviour_middleware,
)
from idemix import arith
from idemix.issuer import DEFAULT_KEY_USAGE, IdemixError, Issuer, IssuerKey
from idemix.keys import PublicKey, SecretKey, parse_public_key, parse_secret_key, public_key_xml, secret_key_xml
from idemix.primes import PrimePool, ProcessPrimePool
from idemix.signer import Signer

DEFAULT_ISSUER_PK_ID = "TST-KEY-01"
STATIC_KEY_USAGE = "static"
SIGNING_PATHS = ("/prepare_issue", "/issue", "/issue_static")
HEAVY_ROUTES = ("issue", "issue_static")
DEFAULT_WORKERS = 1
DEFAULT_PRIME_POOL_SIZE = 200
HOLD_PATH = "/_reference/hold"

STATE = web.AppKey("domestic_signer_state", dict)
logger = logging.getLogger(__name__)


def build_signer(issuer_pk_id: str, public: PublicKey, secret: SecretKey, pool: PrimePool) -> Signer:
    """The routes around one key, registered by id and for the `dynamic` and `static` usages."""
    issuer = Issuer(
        keys={issuer_pk_id: IssuerKey(issuer_pk_id, public, secret)},
        pool=pool,
        usages={DEFAULT_KEY_USAGE: issuer_pk_id, STATIC_KEY_USAGE: issuer_pk_id},
    )
    return Signer(issuer, static_key_usage=STATIC_KEY_USAGE)


# --------------------------------------------------------------------------------------------
# The workers (each its own process; the same code runs in a thread for `workers=0`)

_worker_signer: Signer | None = None
_worker_gate: Any = None  # a multiprocessing Event: set = go
_worker_held: Any = None  # a multiprocessing Value: calls waiting at the gate


def _worker_start(
    issuer_pk_id: str, public_xml: str, secret_xml: str, pool: PrimePool, backend: str, gate: Any, held: Any
) -> None:
    """Process pool initializer: Ctrl-C is the owner's business; build this worker's signer."""
    global _worker_signer, _worker_gate, _worker_held
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    arith.use_backend(backend)
    _worker_gate, _worker_held = gate, held
    _worker_signer = build_signer(issuer_pk_id, parse_public_key(public_xml), parse_secret_key(secret_xml), pool)


def _worker_call(route: str, body: bytes) -> tuple[int, bytes]:
    """One route on this worker's signer: (200, JSON) or (§2.1 status, text body)."""
    if _worker_signer is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker not initialised")
    if route not in HEAVY_ROUTES:
        raise ValueError(f"unknown route {route}")
    if not _worker_gate.is_set():
        with _worker_held.get_lock():
            _worker_held.value += 1
        _worker_gate.wait()
        with _worker_held.get_lock():
            _worker_held.value -= 1
    try:
        return 200, getattr(_worker_signer, route)(body)
    except IdemixError as error:
        return error.status, error.body.encode("utf-8")


def _worker_ready() -> bool:
    return _worker_signer is not None


@dataclass(frozen=True)
class DomesticSignerConfig:
    """What one domestic signer app is made of."""

    issuer_pk_id: str
    public: PublicKey
    secret: SecretKey
    workers: int = DEFAULT_WORKERS
    prime_pool_size: int = DEFAULT_PRIME_POOL_SIZE


def _start(config: DomesticSignerConfig) -> dict[str, Any]:
    size = config.prime_pool_size
    pool = ProcessPrimePool(size=size, lwm=max(1, size // 5), hwm=max(1, size * 4 // 5))
    context = get_context("spawn")
    gate, held = context.Event(), context.Value("i", 0)
    gate.set()
    backend = arith.active_backend().name
    arguments = (config.issuer_pk_id, public_key_xml(config.public), secret_key_xml(config.secret), pool, backend, gate, held)

    def new_executor() -> Executor:
        if config.workers > 0:
            return ProcessPoolExecutor(
                max_workers=config.workers, mp_context=context, initializer=_worker_start, initargs=arguments
            )
        # in-process (tests of the HTTP layer): one thread, the same code
        return ThreadPoolExecutor(max_workers=1, initializer=_worker_start, initargs=arguments)

    signer = build_signer(config.issuer_pk_id, config.public, config.secret, pool)
    return {
        "signer": signer,
        "pool": pool,
        "executor": new_executor(),
        "new_executor": new_executor,
        "gate": gate,
        "held": held,
    }


# --------------------------------------------------------------------------------------------
# HTTP


def _text_error(status: int, body: str) -> web.Response:
    """Go's http.Error: text/plain, nosniff, the body as given (it ends with a newline)."""
    return web.Response(
        status=status,
        text=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _json_answer(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


Route = Callable[[web.Request, bytes], Awaitable[web.Response]]


def _json_post(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    """POST only (405), `Content-Type` exactly `application/json` (400), then the route."""

    async def handler(request: web.Request) -> web.Response:
        if request.method != "POST":
            return _text_error(405, "Expected POST method\n")
        if request.headers.get("Content-Type") != "application/json":
            return _text_error(400, "Expect application/json Content-Type\n")
        return await route(request, await request.read())

    return handler


async def _prepare_issue(request: web.Request, body: bytes) -> web.Response:
    try:
        return _json_answer(request.app[STATE]["signer"].prepare_issue(body))
    except IdemixError as error:
        return _text_error(error.status, error.body)


def _heavy(route: str) -> Route:
    async def call(request: web.Request, body: bytes) -> web.Response:
        state = request.app[STATE]
        state["in_flight"] += 1
        executor = state["executor"]
        try:
            status, answer = await asyncio.get_running_loop().run_in_executor(executor, _worker_call, route, body)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): answer this call, start a fresh pool.
            logger.error("domestic signer: a worker process died; starting new workers")
            if state["executor"] is executor:
                state["executor"] = state["new_executor"]()
                executor.shutdown(wait=False, cancel_futures=True)
            return _text_error(500, "Could not issue credentials: the worker process failed\n")
        except Exception:  # a defect, not a request error: logged with its traceback, answered 500
            logger.exception("domestic signer: unexpected failure in %s", route)
            return _text_error(500, "Internal error\n")
        finally:
            state["in_flight"] -= 1
        if status != 200:
            return _text_error(status, answer.decode("utf-8"))
        return _json_answer(answer)

    return call


async def stats(request: web.Request) -> web.Response:
    """`/stats` (§2.5): the prime pool's figures, any method, on the event loop."""
    return _json_answer(request.app[STATE]["signer"].stats())


def create_domestic_app(
    config: DomesticSignerConfig,
    *,
    behaviour: SignerBehaviour | None = None,
    behaviour_control: bool = False,
) -> web.Application:
    """The domestic signer application; its workers and prime pool start with the app and stop
    at its cleanup."""
    behaviour = behaviour or SignerBehaviour()
    app = web.Application(middlewares=[behaviour_middleware(behaviour, SIGNING_PATHS)])
    app[STATE] = {"in_flight": 0}

    async def start(app: web.Application) -> None:
        app[STATE].update(_start(config))
        executor = app[STATE]["executor"]
        loop = asyncio.get_running_loop()
        # Start every worker now (keys parsed, modules imported), not at the first request.
        await asyncio.gather(*(loop.run_in_executor(executor, _worker_ready) for _ in range(max(1, config.workers))))

    async def stop(app: web.Application) -> None:
        state = app[STATE]
        if "executor" in state:
            state["gate"].set()
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: state["executor"].shutdown(wait=True, cancel_futures=True)
            )
            state["pool"].close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/prepare_issue", _json_post(_prepare_issue))
    app.router.add_route("*", "/issue", _json_post(_heavy("issue")))
    app.router.add_route("*", "/issue_static", _json_post(_heavy("issue_static")))
    app.router.add_route("*", "/stats", stats)
    if behaviour_control:
        add_behaviour_control(app, behaviour)
        app.router.add_route("*", HOLD_PATH, _hold)
    return app


async def _hold(request: web.Request) -> web.Response:
    """`POST {"hold": true|false}` closes or opens the workers' gate; any method answers
    `{"hold": bool, "held": <calls waiting at the gate>, "inFlight": <calls in the executor>,
    "workers": [<process ids of the started workers>]}`."""
    state = request.app[STATE]
    if request.method == "POST":
        try:
            hold = (await request.json())["hold"]
            if not isinstance(hold, bool):
                raise TypeError("hold must be true or false")
        except (ValueError, TypeError, KeyError) as error:
            return web.Response(status=400, text=f"{error}\n", content_type="text/plain")
        if hold:
            state["gate"].clear()
        else:
            state["gate"].set()
    executor = state["executor"]
    pids = sorted(getattr(executor, "_processes", None) or {})  # the pool's worker processes (tests)
    return web.json_response(
        {"hold": not state["gate"].is_set(), "held": state["held"].value, "inFlight": state["in_flight"], "workers": pids}
    )
