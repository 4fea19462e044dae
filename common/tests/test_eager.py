"""common/eager.py: a coroutine's first step runs in the callback that starts it, as the first
step of a real task; the task carries on a coroutine that waits, with its cancellations."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from common.eager import eager_task

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="-")


async def started_in_a_callback(coro) -> tuple[asyncio.Task, list[str]]:
    """`eager_task(coro)` from a loop callback (as a protocol's `data_received` calls it), and what
    had happened by the time that callback returned."""
    loop = asyncio.get_running_loop()
    started: asyncio.Future = loop.create_future()
    seen: list[str] = []

    def callback() -> None:
        task = eager_task(loop, coro, contextvars.copy_context())
        seen.extend(events)
        started.set_result(task)

    loop.call_soon(callback)
    return await started, seen


events: list[str] = []


@pytest.fixture(autouse=True)
def events_cleared():
    events.clear()


async def test_a_coroutine_that_does_not_wait_finishes_in_the_callback():
    seen_task = []

    async def answer():
        seen_task.append(asyncio.current_task())
        events.append("answered")
        return 42

    task, seen = await started_in_a_callback(answer())
    assert seen == ["answered"]  # before the callback returned
    assert seen_task == [task]  # the first step ran as the task's own
    assert await task == 42


async def test_a_coroutine_that_waits_is_carried_on_by_its_task():
    loop = asyncio.get_running_loop()
    later: asyncio.Future = loop.create_future()
    tasks = []

    async def answer():
        marker.set("set in the first step")
        tasks.append(asyncio.current_task())
        events.append("first step")
        value = await later
        tasks.append(asyncio.current_task())
        events.append(f"got {value}")
        return marker.get()

    task, seen = await started_in_a_callback(answer())
    assert seen == ["first step"]
    loop.call_later(0.01, later.set_result, "the value")
    assert await task == "set in the first step"  # the same context throughout
    assert events == ["first step", "got the value"]
    assert tasks == [task, task]


@pytest.mark.parametrize("when", ["before the task's first step", "while the task waits"])
async def test_a_cancelled_task_cancels_the_coroutine_where_it_waits(when):
    outcome = []

    async def answer():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            outcome.append("cancelled at its wait")
            raise

    task, _ = await started_in_a_callback(answer())
    if when == "while the task waits":
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert outcome == ["cancelled at its wait"]


async def test_the_current_task_can_cancel_itself_in_the_first_step():
    """As `api.fastpath.ApiHandler.handle` lets its disconnect listener cancel the current task."""
    outcome = []

    async def answer():
        current = asyncio.current_task()
        asyncio.get_running_loop().call_soon(current.cancel)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            current.uncancel()
        return "carried on"

    task, _ = await started_in_a_callback(answer())
    assert await task == "carried on"
    assert outcome == ["cancelled"]


async def test_an_error_in_the_first_step_is_the_tasks():
    async def answer():
        raise ValueError("broken")

    task, _ = await started_in_a_callback(answer())
    with pytest.raises(ValueError, match="broken"):
        await task


async def test_a_timeout_set_in_the_first_step_applies_to_the_task():
    async def answer():
        async with asyncio.timeout(0.01):
            await asyncio.sleep(10)

    task, _ = await started_in_a_callback(answer())
    with pytest.raises(TimeoutError):
        await task
