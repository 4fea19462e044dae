"""Start a coroutine now, in the callback that asks for it, rather than when the event loop next
gets round to a new task (issue "Performance": `/health` under overload).

`asyncio.create_task` only schedules a task's first step: it runs after every callback the loop
already has queued, and on a saturated worker that queue is one loop iteration of issuance work.
`eager_task` runs the first step at once, as Python 3.12's eager tasks do (this service runs on
3.11): if the coroutine finishes without waiting (`/health` answered from its cached checks), its
answer is written before the callback returns; if it waits, the returned task carries it on from
where it stopped. During the first step `asyncio.current_task()` is that task, so code that
cancels "the current task" or sets a timeout on it works as in any task.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task  # what 3.12's eager start uses
from collections.abc import Coroutine, Generator
from typing import Any

_NOTHING = object()


class _Continuation(Coroutine[Any, Any, Any]):
    """What the task runs: hands the task the first thing the coroutine waits for, then drives
    the coroutine on (or ends with its result or exception if it already finished)."""

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.waiting_for: Any = _NOTHING  # what the first step yielded, not yet handed on
        self.result: Any = None
        self.error: BaseException | None = None
        self.finished = False

    def send(self, value: Any) -> Any:
        if self.finished:
            if self.error is not None:
                raise self.error
            raise StopIteration(self.result)
        if self.waiting_for is not _NOTHING:
            waiting_for, self.waiting_for = self.waiting_for, _NOTHING
            return waiting_for  # the task now waits for it, as if the coroutine had yielded it
        return self.coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        # Also when the task is cancelled before its first step: the coroutine, stopped at
        # its first wait, gets the cancellation there, and what it waits for is cancelled as
        # `Task.cancel` would have (an inner task, say).
        waiting_for, self.waiting_for = self.waiting_for, _NOTHING
        if isinstance(waiting_for, asyncio.Future) and not waiting_for.done():
            waiting_for.cancel()
        if self.finished:
            raise typ if val is None else val
        return self.coro.throw(typ, val, tb) if val is not None or tb is not None else self.coro.throw(typ)

    def close(self) -> None:
        self.coro.close()

    def __await__(self) -> Generator[Any, None, Any]:  # pragma: no cover - only a task runs it
        raise TypeError("run by eager_task's task only")


def eager_task(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], context: contextvars.Context
) -> asyncio.Task[Any]:
    """Run `coro`'s first step now in `context` (outside any other task), as the first step of
    the task returned; the task finishes at its first step if the coroutine already has, and
    otherwise carries it on."""
    continuation = _Continuation(coro)
    task = loop.create_task(continuation, context=context)
    _enter_task(loop, task)
    try:
        continuation.waiting_for = context.run(coro.send, None)
    except StopIteration as stop:
        continuation.finished, continuation.result = True, stop.value
    except BaseException as exc:  # the task reports it, as it would have from its first step
        continuation.finished, continuation.error = True, exc
    finally:
        _leave_task(loop, task)
    return task
