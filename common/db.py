"""Running ORM work from async code without holding a connection across awaits.

Each call runs its whole unit of database work in a worker thread and returns the connection
(to the psycopg pool) before it comes back, so no connection is held while a request waits for
a signer (issue "Performance"). An unreachable database becomes 503 `storage_unavailable`.

Every unit also records whether the database was reachable (`database_observation()`), so that
`/health`, which answers from checks refreshed in the background, shows an outage (or the
recovery) that real traffic has seen at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, connection

from common import errors

logger = logging.getLogger(__name__)
T = TypeVar("T")

# (time.monotonic() when the unit of work started, whether the database answered it)
_observation: tuple[float, bool] | None = None


def database_observation() -> tuple[float, bool] | None:
    """The outcome of the most recent unit of database work that succeeded or failed to reach
    the database: when it started (`time.monotonic()`) and whether the database answered."""
    return _observation


def _observe(started: float, reachable: bool) -> None:
    global _observation
    if _observation is None or started >= _observation[0]:  # a slow older unit does not win
        _observation = (started, reachable)


def in_db_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    started = time.monotonic()
    try:
        result = fn(*args, **kwargs)
        _observe(started, True)
        return result
    except (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError) as exc:
        _observe(started, False)
        logger.error("database unavailable", extra={"exception": type(exc).__name__})
        raise errors.storage_unavailable() from None
    finally:
        if not connection.in_atomic_block:
            connection.close()


async def run_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` (sync ORM code) in a worker thread; see the module docstring."""
    return await sync_to_async(in_db_thread, thread_sensitive=False)(fn, *args, **kwargs)
