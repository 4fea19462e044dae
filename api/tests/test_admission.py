"""Bounded admission (issue "Performance"): through the production ASGI application, with the
reference signers as a real process. The EU signer call of admitted requests is held at a gate
(an `asyncio.Event`) so that requests pile up deterministically; nothing here is timed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from asgiref.sync import sync_to_async

from api import admission
from api.admission import LIMIT_STEP, Admission, admission_reset, admission_stats, next_limit
from common.http import clients_close
from coronacheck.asgi import application
from devtools.testing.api_fixtures import signer_calls
from events.selectors import config_snapshot_get
from signing import clients
from signing.models import EventSubmission, UciAuditRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def client(settings):
    settings.ADMISSION_BUSY_IN_FLIGHT = 1000  # a fixed limit (ADMISSION_MAX_IN_FLIGHT); the controller: below
    # Seed the rule configuration first: concurrent first requests on an empty database (a
    # flushed test database; production's is seeded by the migrations) would race to seed it.
    await config_snapshot_get()
    admission_reset()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://localhost") as c:
        yield c
    await clients_close()
    admission_reset()


@pytest.fixture
def eu_gate(monkeypatch):
    """Holds every EU signer call until the test opens the gate; counts the calls that arrived."""
    gate = asyncio.Event()
    arrived: list[int] = []
    real = clients.eu_get_credential

    async def gated(*, request: dict) -> str:
        arrived.append(1)
        await gate.wait()
        return await real(request=request)

    monkeypatch.setattr(clients, "eu_get_credential", gated)
    gate.arrived = arrived  # type: ignore[attr-defined]
    return gate


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until `condition` holds (the requests are in this loop)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def print_request(client: httpx.AsyncClient, token: str, blobs: list[dict]):
    return client.post("/app/print/", json={"events": blobs}, headers={"Authorization": f"Token {token}"})


@sync_to_async
def submission_count() -> int:
    return EventSubmission.objects.count()


@sync_to_async
def uci_count() -> int:
    return UciAuditRecord.objects.count()


async def test_overload_sheds_with_503_and_loses_no_accepted_request(
    client, settings, signers, registered_provider, print_token, blob, vaccination_results, eu_gate
):
    settings.ADMISSION_MAX_IN_FLIGHT = 2
    settings.ADMISSION_QUEUE_SIZE = 1
    settings.ADMISSION_QUEUE_TIMEOUT = 600  # the queued request waits for a slot, however long
    blobs = [blob(vaccination_results)]
    eu_before, domestic_before = signer_calls(signers, "eu"), signer_calls(signers, "domestic")

    admitted = [asyncio.ensure_future(print_request(client, print_token, blobs)) for _ in range(2)]
    await until(lambda: len(eu_gate.arrived) == 2)
    queued = asyncio.ensure_future(print_request(client, print_token, blobs))
    await until(lambda: admission_stats()["waiting"] == 1)

    shed = await asyncio.gather(*(print_request(client, print_token, blobs) for _ in range(3)))
    for response in shed:
        assert response.status_code == 503
        assert response.json() == {"detail": response.json()["detail"], "code": "overloaded"}
        assert response.headers["Retry-After"] == "1"
    assert admission_stats() | {"loop_lag_ms": 0, "loop_lag_max_ms": 0} == {
        "accepted": 2,
        "queued": 1,
        "shed": 3,
        "in_flight": 2,
        "waiting": 1,
        "limit": 2,
        "cpu_percent": admission_stats()["cpu_percent"],
        "loop_lag_ms": 0,
        "loop_lag_max_ms": 0,
    }

    # /health is never queued behind the issuance work, even with every slot taken.
    health = await client.get("/health")
    assert health.status_code == 200 and not queued.done()

    eu_gate.set()
    done = await asyncio.gather(*admitted, queued)
    assert [response.status_code for response in done] == [200, 200, 200]
    assert all(response.json()["european"] for response in done)

    # Every accepted request was issued and recorded; the shed ones reached no signer.
    assert len(eu_gate.arrived) == 3
    assert signer_calls(signers, "eu") - eu_before == 3
    assert signer_calls(signers, "domestic") - domestic_before == 3
    assert await submission_count() == 3
    assert await uci_count() == 3
    stats = admission_stats()
    assert (stats["accepted"], stats["queued"], stats["shed"], stats["in_flight"], stats["waiting"]) == (3, 1, 3, 0, 0)


async def test_a_queued_request_is_shed_when_no_slot_frees_in_time(
    client, settings, signers, registered_provider, print_token, blob, vaccination_results, eu_gate
):
    settings.ADMISSION_MAX_IN_FLIGHT = 1
    settings.ADMISSION_QUEUE_SIZE = 4
    settings.ADMISSION_QUEUE_TIMEOUT = 0.05  # the gate stays closed until the queued one gave up
    blobs = [blob(vaccination_results)]
    first = asyncio.ensure_future(print_request(client, print_token, blobs))
    await until(lambda: len(eu_gate.arrived) == 1)

    late = await print_request(client, print_token, blobs)
    assert late.status_code == 503 and late.json()["code"] == "overloaded"

    eu_gate.set()
    assert (await first).status_code == 200
    assert await submission_count() == 1
    stats = admission_stats()
    assert (stats["accepted"], stats["queued"], stats["shed"], stats["in_flight"]) == (1, 1, 1, 0)


async def test_the_503_carries_the_headers_of_the_api_error_responses(client, settings):
    settings.ADMISSION_MAX_IN_FLIGHT = 1
    refused = await client.post("/app/print/", content=b'{"events": []}', headers={"X-Request-Id": "r-1"})
    assert refused.status_code == 401  # an error body of the view, through the whole middleware chain

    admission._admission.in_flight = 1  # every slot taken
    settings.ADMISSION_QUEUE_SIZE = 0
    response = await client.post("/app/print/", content=b'{"events": []}', headers={"X-Request-Id": "r-2"})
    admission._admission.in_flight = 0
    assert response.status_code == 503
    assert json.loads(response.content) == {"detail": "The service is overloaded; try again later.", "code": "overloaded"}
    assert response.headers["X-Request-Id"] == "r-2" and response.headers["Retry-After"] == "1"
    assert response.headers["Content-Length"] == str(len(response.content))
    # The headers of the middleware chain (security, framing, request id), none of DRF's.
    names = {name.lower() for name in response.headers} - {"retry-after"}
    assert names <= {name.lower() for name in refused.headers}
    assert {"x-content-type-options", "x-frame-options", "referrer-policy", "cross-origin-opener-policy"} <= names
    for name in names - {"x-request-id", "content-length"}:
        assert response.headers[name] == refused.headers[name]


async def test_get_and_other_paths_are_never_admitted_or_shed(client, settings):
    settings.ADMISSION_MAX_IN_FLIGHT = 1
    settings.ADMISSION_QUEUE_SIZE = 0
    admission._admission.in_flight = 1
    try:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/app/print/")).status_code == 405
        assert (await client.post("/documentation/V2Event/", content=b"{")).status_code == 422
    finally:
        admission._admission.in_flight = 0
    assert admission_stats()["shed"] == 0


async def test_a_waiter_cancelled_after_the_hand_over_passes_its_slot_on():
    state = fixed(1)
    assert await state.acquire(2, 600)
    first = asyncio.ensure_future(state.acquire(2, 600))
    second = asyncio.ensure_future(state.acquire(2, 600))
    await until(lambda: len(state.waiters) == 2)
    state.release()  # hands the slot to `first` ...
    first.cancel()  # ... which is cancelled before it could run: `second` must get the slot
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second is True
    state.release()
    assert state.in_flight == 0 and not state.waiters


async def test_a_cancelled_waiter_leaves_the_queue():
    state = fixed(1)
    assert await state.acquire(1, 600)
    waiting = asyncio.ensure_future(state.acquire(1, 600))
    await until(lambda: len(state.waiters) == 1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not state.waiters
    state.release()
    assert state.in_flight == 0
    assert await state.acquire(1, 600)


CONTROLLER = {"busy_limit": 64, "max_limit": 256, "cpu_target_percent": 95, "max_lag_ms": 10}


def test_the_limit_rises_while_requests_are_held_back_and_the_cpu_has_room():
    rises = {"held_back": True, "peak_in_flight": 64, "cpu_percent": 40, "lag_ms": 1}
    assert next_limit(64, **rises, **CONTROLLER) == 64 + LIMIT_STEP
    assert next_limit(250, **rises, **CONTROLLER) == 256  # the maximum
    assert next_limit(96, **rises | {"cpu_percent": 95}, **CONTROLLER) == 96  # no room: it holds


def test_the_limit_falls_back_when_the_loop_lags_whatever_the_cpu():
    lags = {"held_back": True, "peak_in_flight": 192, "cpu_percent": 20}
    assert next_limit(192, **lags, lag_ms=10, **CONTROLLER) == 192 - 32  # a quarter of the excess
    assert next_limit(80, **lags, lag_ms=12, **CONTROLLER) == 72  # at least a step
    assert next_limit(68, **lags, lag_ms=50, **CONTROLLER) == 64  # not below the busy limit


def test_without_waiting_requests_the_limit_keeps_a_step_above_the_peak():
    quiet = {"held_back": False, "cpu_percent": 10, "lag_ms": 0}
    assert next_limit(200, peak_in_flight=150, **quiet, **CONTROLLER) == 158
    assert next_limit(200, peak_in_flight=0, **quiet, **CONTROLLER) == 64  # idle: the busy limit
    assert next_limit(120, peak_in_flight=118, **quiet, **CONTROLLER) == 120  # never raised by it


def test_a_fixed_limit():
    anything = {"held_back": True, "peak_in_flight": 256, "cpu_percent": 0, "lag_ms": 0}
    assert next_limit(256, **anything, **CONTROLLER | {"busy_limit": 300}) == 256  # busy >= max
    assert next_limit(64, **anything, **CONTROLLER | {"max_lag_ms": 0}) == 64  # lag bound 0
    assert next_limit(0, **anything, **CONTROLLER | {"busy_limit": 0, "max_lag_ms": 0}) == 1  # never 0


async def test_the_limit_lets_waiters_in_as_it_rises_and_drains_as_it_falls():
    state = bounded(2, 8)
    assert [await state.acquire(4, 600) for _ in range(2)] == [True, True]
    waiting = [asyncio.ensure_future(state.acquire(4, 600)) for _ in range(3)]
    await until(lambda: len(state.waiters) == 3)

    state.adapt(cpu_percent=10, cpu_target_percent=95, max_lag_ms=10)  # room: the waiters get in
    assert state.limit == 8 and state.in_flight == 5 and not state.waiters
    assert await asyncio.gather(*waiting) == [True, True, True]

    state.lag_ms = 100  # the loop lags (smoothed: 30 ms): back to the busy limit
    state.adapt(cpu_percent=10, cpu_target_percent=95, max_lag_ms=10)
    assert state.limit == 2
    waiting = [asyncio.ensure_future(state.acquire(4, 600)) for _ in range(2)]
    await until(lambda: len(state.waiters) == 2)
    for _ in range(3):
        state.release()
    assert state.in_flight == 2 and len(state.waiters) == 2  # finished places are not handed on ...
    state.release()
    assert state.in_flight == 2 and len(state.waiters) == 1  # ... until the limit is reached
    state.release()
    assert await asyncio.gather(*waiting) == [True, True]
    assert state.stats()["accepted"] == 7


async def test_a_request_refused_by_the_limit_lets_it_rise_once():
    state = bounded(1, 64)
    assert await state.acquire(0, 600)
    assert not await state.acquire(0, 600)  # shed: no queue, but held back by the limit
    state.adapt(cpu_percent=10, cpu_target_percent=95, max_lag_ms=10)
    assert state.limit == 1 + LIMIT_STEP
    state.adapt(cpu_percent=10, cpu_target_percent=95, max_lag_ms=10)  # nothing held back since
    assert state.limit == 1 + LIMIT_STEP  # one in flight: the limit keeps a step above it


def test_the_limit_rises_only_while_the_smoothed_cpu_use_has_room():
    state = bounded(1, 256)
    for _ in range(12):  # a CPU-bound stretch with requests held back all along
        state.held_back = True
        state.adapt(cpu_percent=100, cpu_target_percent=95, max_lag_ms=10)
    # The smoothed use: 30, 51, 66, 76, 83, 88, 92, 94 (eight rises), then 96 and more (none).
    assert state.limit == 1 + 8 * LIMIT_STEP


async def test_new_bounds_reset_the_limit_and_let_waiters_in():
    state = fixed(1)
    assert await state.acquire(2, 600)
    waiting = asyncio.ensure_future(state.acquire(2, 600))
    await until(lambda: len(state.waiters) == 1)
    state.bounds(2, 2)  # the settings changed
    assert state.limit == 2 and await waiting is True and state.in_flight == 2


async def test_the_monitor_feeds_the_cpu_use_of_the_process_to_the_controller(monkeypatch, settings):
    """`_lag_monitor`: the CPU figure is the process's CPU time over the wall time between samples."""
    settings.ADMISSION_LOG_SECONDS = 0
    seen: list[float] = []
    clock = iter(range(0, 10_000, 25))  # 25 ms of CPU per sample
    monkeypatch.setattr(admission.time, "process_time", lambda: next(clock) / 1000)
    monkeypatch.setattr(Admission, "adapt", lambda self, cpu, target, lag: seen.append(cpu))
    monitor = asyncio.ensure_future(admission._lag_monitor())
    await until(lambda: len(seen) >= 3)
    monitor.cancel()
    # 25 ms of CPU in each sample of at least 50 ms (longer when the loop is late): at most 50 %
    assert all(0 < figure <= 50 for figure in seen), seen


def bounded(busy_limit: int, max_limit: int) -> Admission:
    state = Admission()
    state.bounds(busy_limit, max_limit)
    return state


def fixed(limit: int) -> Admission:
    return bounded(limit, limit)
